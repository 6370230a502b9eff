import django_filters
from django.db.models import Q
from django.utils import timezone

from sms.core.filters import DATE, RecordFilterSet

from .choices import Classification, DocumentState, DocumentType, VersionState, canonical_process
from .models import Acknowledgement, Document, DocumentVersion


class DocumentFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=DocumentState.choices)
    document_type = django_filters.MultipleChoiceFilter(choices=DocumentType.choices, label="Type")
    classification = django_filters.ChoiceFilter(choices=Classification.choices)
    process = django_filters.CharFilter(
        method="filter_process", label="Process", help_text="Documents serving this SMS process (its name).",
    )
    clause = django_filters.CharFilter(method="filter_clause", label="Clause")
    review_due_before = django_filters.DateFilter(
        field_name="next_review_date", lookup_expr="lte", label="Review due by", widget=DATE
    )
    review_overdue = django_filters.BooleanFilter(method="filter_overdue", label="Review overdue")
    has_issued = django_filters.BooleanFilter(
        field_name="current_version", lookup_expr="isnull", exclude=True, label="Has an issued version"
    )

    class Meta:
        model = Document
        fields = ["q", "state", "document_type", "classification", "process", "clause", "owner",
                  "review_due_before", "review_overdue", "has_issued"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Title, description and the content of the version in force.
        return queryset.filter(
            Q(reference__iexact=value) | Q(title__icontains=value) | Q(description__icontains=value)
            | Q(current_version__content__icontains=value)
        )

    def filter_process(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(processes__contains=[canonical_process(value)])

    def filter_clause(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(clauses__contains=[value]) if value else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(state=DocumentState.ACTIVE, next_review_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class DocumentVersionFilterSet(django_filters.FilterSet):
    """Declared filters only: generated ones would read the fail-closed manager at import."""

    document = django_filters.NumberFilter(field_name="document_id")
    state = django_filters.MultipleChoiceFilter(choices=VersionState.choices)

    class Meta:
        model = DocumentVersion
        fields = ["document", "state"]


class AcknowledgementFilterSet(django_filters.FilterSet):
    version = django_filters.NumberFilter(field_name="version_id")
    document = django_filters.NumberFilter(field_name="version__document_id")
    user = django_filters.NumberFilter(field_name="user_id")
    outstanding = django_filters.BooleanFilter(field_name="acknowledged_at", lookup_expr="isnull")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only mine")

    class Meta:
        model = Acknowledgement
        fields = ["version", "document", "user", "outstanding", "mine"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(user=self.request.user) if value else queryset
