"""FilterSets of change management, shared by the browser lists and the API."""

import django_filters

from sms.core.api.serializers import tenant_members
from sms.core.filters import DATE, FilterSet, RecordFilterSet

from .choices import ChangeState, ChangeType, Decision, RiskLevel
from .models import Change, ChangeApproval


def _services(request):
    from sms.cmdb.models import Service

    return Service.objects.order_by("title")


def _cis(request):
    from sms.cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.order_by("title")


class ChangeFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ChangeState.choices)
    change_type = django_filters.ChoiceFilter(choices=ChangeType.choices, empty_label="Any type", label="Type")
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices, empty_label="Any risk", label="Risk")
    is_major = django_filters.BooleanFilter(label="Potential major impact")
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=_services, empty_label="Any service", distinct=False
    )
    ci = django_filters.ModelChoiceFilter(field_name="cis", queryset=_cis, empty_label="Any CI", distinct=False)
    requester = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")
    starts_after = django_filters.DateFilter(
        field_name="planned_start", lookup_expr="date__gte", label="Starts from", widget=DATE
    )
    starts_before = django_filters.DateFilter(
        field_name="planned_start", lookup_expr="date__lte", label="Starts until", widget=DATE
    )

    class Meta:
        model = Change
        fields = [
            "q",
            "state",
            "change_type",
            "risk_level",
            "is_major",
            "service",
            "ci",
            "requester",
            "starts_after",
            "starts_before",
        ]


class ChangeApprovalFilterSet(FilterSet):
    decision = django_filters.ChoiceFilter(choices=Decision.choices, empty_label="Any decision")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Asked of me")

    class Meta:
        model = ChangeApproval
        fields = ["decision", "mine"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        me = self.request.user
        return queryset.filter(approver=me) if value else queryset.exclude(approver=me)
