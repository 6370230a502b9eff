import django_filters

from sms.core.filters import RecordFilterSet

from .choices import DisposalState
from .models import DisposalRun, LegalHold, RetentionRule, Tombstone


class RetentionRuleFilterSet(django_filters.FilterSet):
    record_kind = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = RetentionRule
        fields = ["record_kind", "is_active"]


class LegalHoldFilterSet(django_filters.FilterSet):
    record_kind = django_filters.CharFilter()
    active = django_filters.BooleanFilter(field_name="released_at", lookup_expr="isnull", label="Active")

    class Meta:
        model = LegalHold
        fields = ["record_kind", "active"]


class DisposalRunFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=DisposalState.choices)

    class Meta:
        model = DisposalRun
        fields = ["q", "state", "owner"]


class TombstoneFilterSet(django_filters.FilterSet):
    record_kind = django_filters.CharFilter()
    reference = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Tombstone
        fields = ["record_kind", "reference"]
