"""FilterSets of problem management and the known error database, shared by the browser
lists and the API."""

import django_filters

from sms.core.api.serializers import tenant_members
from sms.core.filters import RecordFilterSet

from .filters import PRIORITY_CHOICES, _categories, _groups, _services
from .models import KnownError, Problem
from .problem_choices import KnownErrorState, ProblemOrigin, ProblemState


def _cis(request):
    from sms.cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.order_by("title")


class ProblemFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ProblemState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=PRIORITY_CHOICES)
    origin = django_filters.ChoiceFilter(choices=ProblemOrigin.choices)
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=_services, empty_label="Any service", distinct=False
    )
    category = django_filters.ModelChoiceFilter(queryset=_categories, empty_label="Any category")
    assignment_group = django_filters.ModelChoiceFilter(queryset=_groups, empty_label="Any group")
    assignee = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")
    needs_change = django_filters.BooleanFilter(label="Needs a change")

    class Meta:
        model = Problem
        fields = [
            "q",
            "state",
            "priority",
            "origin",
            "service",
            "category",
            "assignment_group",
            "assignee",
            "needs_change",
            "owner",
        ]


class KnownErrorFilterSet(RecordFilterSet):
    """``q`` searches the known error database in full text (title, description, symptoms,
    root cause, workaround); ``category`` includes its sub-categories."""

    state = django_filters.ChoiceFilter(choices=KnownErrorState.choices)
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=_services, empty_label="Any service", method="filter_service"
    )
    ci = django_filters.ModelChoiceFilter(
        field_name="affected_cis", queryset=_cis, empty_label="Any CI", method="filter_ci", label="CI"
    )
    category = django_filters.ModelChoiceFilter(
        queryset=_categories, empty_label="Any category", method="filter_category"
    )
    problem = django_filters.ModelChoiceFilter(queryset=lambda request: Problem.objects.all())

    class Meta:
        model = KnownError
        fields = ["q", "state", "service", "ci", "category", "problem", "owner"]

    def search(self, queryset, name, value):
        from .services_problems import search_known_errors

        return search_known_errors(value, queryset=queryset)

    def filter_service(self, queryset, name, value):
        return queryset.filter(pk__in=KnownError.services.through.objects.filter(service=value).values("knownerror_id"))

    def filter_ci(self, queryset, name, value):
        return queryset.filter(
            pk__in=KnownError.affected_cis.through.objects.filter(configurationitem=value).values("knownerror_id")
        )

    def filter_category(self, queryset, name, value):
        from .services_problems import category_and_below

        return queryset.filter(category_and_below(value))
