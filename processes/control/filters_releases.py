"""FilterSets of release and deployment management, shared by the browser lists and the API."""

import django_filters

from sms.core.api.serializers import tenant_members
from sms.core.filters import DATE, FilterSet, RecordFilterSet

from .models import AcceptanceCriterion, Release, ReleasePolicy
from .release_choices import CriterionResult, ReleaseOutcome, ReleaseState, ReleaseType
from .services_releases import DEPLOYMENT_DATE


def _services(request):
    from sms.cmdb.models import Service

    return Service.objects.order_by("title")


def _cis(request):
    from sms.cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.order_by("title")


def _changes(request):
    from .models import Change

    return Change.objects.order_by("-number")


class ReleaseFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ReleaseState.choices)
    release_type = django_filters.ChoiceFilter(choices=ReleaseType.choices, empty_label="Any type", label="Type")
    outcome = django_filters.ChoiceFilter(choices=ReleaseOutcome.choices, empty_label="Any outcome")
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=_services, empty_label="Any service", distinct=False
    )
    ci = django_filters.ModelChoiceFilter(field_name="cis", queryset=_cis, empty_label="Any CI", distinct=False)
    change = django_filters.ModelChoiceFilter(
        field_name="changes", queryset=_changes, empty_label="Any change", label="Request for change", distinct=False
    )
    release_manager = django_filters.ModelChoiceFilter(
        queryset=lambda request: tenant_members(), empty_label="Anyone"
    )
    deploys_after = django_filters.DateFilter(
        method="filter_deploys_after", label="Deploys from", widget=DATE,
        help_text="Deployment (actual, else planned) on or after this date.",
    )
    deploys_before = django_filters.DateFilter(
        method="filter_deploys_before", label="Deploys until", widget=DATE,
        help_text="Deployment (actual, else planned) on or before this date.",
    )

    class Meta:
        model = Release
        fields = [
            "q",
            "state",
            "release_type",
            "outcome",
            "service",
            "ci",
            "change",
            "release_manager",
            "deploys_after",
            "deploys_before",
        ]

    def filter_deploys_after(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.alias(_deploys_from=DEPLOYMENT_DATE).filter(_deploys_from__date__gte=value)

    def filter_deploys_before(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.alias(_deploys_until=DEPLOYMENT_DATE).filter(_deploys_until__date__lte=value)


def _releases(request):
    return Release.objects.order_by("-number")


class AcceptanceCriterionFilterSet(FilterSet):
    release = django_filters.ModelChoiceFilter(queryset=_releases, empty_label="Any release")
    result = django_filters.ChoiceFilter(choices=CriterionResult.choices, empty_label="Any result")

    class Meta:
        model = AcceptanceCriterion
        fields = ["release", "result"]


class ReleasePolicyFilterSet(FilterSet):
    service = django_filters.ModelChoiceFilter(queryset=_services, empty_label="Any service")
    tenant_wide = django_filters.BooleanFilter(field_name="service", lookup_expr="isnull", label="Tenant-wide")

    class Meta:
        model = ReleasePolicy
        fields = ["service", "tenant_wide"]
