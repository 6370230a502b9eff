"""Base FilterSet for records: one per model, shared by the browser lists and the API."""

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q

from sms.core.api.serializers import tenant_members
from sms.core.models import PlannedActivity
from sms.core.models.outbox import MessageStatus, OutboundMessage
from sms.core.search import reference_of

# Browsers show a date picker; the API accepts the same ISO dates.
DATE = forms.DateInput(attrs={"type": "date"})


class FilterSet(django_filters.FilterSet):
    """Yes/no filters offer "Any" rather than Django's "Unknown" in the browser."""

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            if isinstance(field.widget, forms.NullBooleanSelect):
                field.widget.choices = (("unknown", "Any"), ("true", "Yes"), ("false", "No"))
        return form


class RecordFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from", widget=DATE
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until", widget=DATE
    )

    def search(self, queryset, name, value):
        """The record with this reference, or the records whose title or description holds
        the text. Under row-level security the substring match can use no index (LIKE is
        not leakproof) and reads every row (440 ms at 1,000,000 incidents), so a reference
        of this kind that exists is answered through the (tenant, reference) index alone."""
        value = value.strip()
        if not value:
            return queryset
        reference = reference_of(queryset.model, value)
        if reference is not None and queryset.filter(reference=reference).exists():
            return queryset.filter(reference=reference)
        return queryset.filter(
            Q(reference__iexact=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )


class PlannedActivityFilterSet(FilterSet):
    """Filters are declared, not generated from Meta.fields: generation reads the model's
    default manager at class creation, which has no tenant then."""

    kind = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")
    due_before = django_filters.DateFilter(
        field_name="next_due", lookup_expr="lte", label="Due on or before", widget=DATE
    )
    due = django_filters.CharFilter(
        method="filter_due", label="Due",
        help_text="'overdue', or a number of days from today.",
        validators=[RegexValidator(r"^(overdue|\d{1,4})$", "Use 'overdue' or a number of days.")],
    )

    class Meta:
        model = PlannedActivity
        fields = ["kind", "is_active", "owner", "due_before", "due"]

    def filter_due(self, queryset, name, value):
        if value == "overdue":
            return queryset.overdue()
        return queryset.due_within(int(value))


class OutboundMessageFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices, empty_label="Any status")
    topic = django_filters.CharFilter()
    recipient = django_filters.CharFilter(lookup_expr="icontains")
    record_type = django_filters.CharFilter(field_name="content_type__model", label="Record type (model name)")
    object_id = django_filters.NumberFilter()

    class Meta:
        model = OutboundMessage
        fields = ["status", "topic", "recipient", "record_type", "object_id"]
