"""One FilterSet per model, shared by the browser lists and the API. Every filter is
declared: generated filters would read the tenant-scoped managers at import time."""

import django_filters
from django.db.models import Q

from sms.core.api.serializers import tenant_members

from .choices import PartyType
from .models import Contact, Party


class PartyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    party_type = django_filters.MultipleChoiceFilter(choices=PartyType.choices, label="Type")
    is_active = django_filters.BooleanFilter()
    relationship_manager = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members())

    class Meta:
        model = Party
        fields = ["q", "party_type", "is_active", "relationship_manager"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    party = django_filters.ModelChoiceFilter(queryset=lambda request: Party.objects.all())
    party_type = django_filters.ChoiceFilter(field_name="party__party_type", choices=PartyType.choices)
    is_primary = django_filters.BooleanFilter()

    class Meta:
        model = Contact
        fields = ["q", "party", "party_type", "is_primary"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(job_title__icontains=value))
