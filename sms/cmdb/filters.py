"""One FilterSet per model, shared by the browser lists and the API. Every filter is
declared: generated ones read the tenant-scoped managers at import time and do not
know what to do with ArrayField and JSONField."""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from sms.core.api.serializers import tenant_members
from sms.core.filters import RecordFilterSet
from sms.parties.choices import PartyType
from sms.parties.models import Party

from .choices import AuditState, CIState, Criticality, MasterCopyPolicy, RelationshipKind, ServiceState
from .models import Baseline, CIType, CMDBAudit, ConfigurationItem, Relationship, Service


def _ci_types(request):
    return CIType.objects.all()


def _cis(request):
    return ConfigurationItem.objects.all()


def _services(request):
    return Service.objects.all()


class CITypeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    is_active = django_filters.BooleanFilter()
    under_change_control = django_filters.BooleanFilter()
    master_copy = django_filters.ChoiceFilter(choices=MasterCopyPolicy.choices)
    code = django_filters.CharFilter()

    class Meta:
        model = CIType
        fields = ["q", "is_active", "under_change_control", "master_copy", "code"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__iexact=value) | Q(description__icontains=value))


class ConfigurationItemFilterSet(RecordFilterSet):
    # Filters on a column of the CI itself cannot repeat a row: no DISTINCT (the default
    # of multiple-choice filters), which would sort every matching row of a large CMDB.
    ci_type = django_filters.ModelMultipleChoiceFilter(queryset=_ci_types, label="Type", distinct=False)
    type_code = django_filters.CharFilter(field_name="ci_type__code", label="Type code")
    state = django_filters.MultipleChoiceFilter(choices=CIState.choices, label="Status", distinct=False)
    location = django_filters.CharFilter(lookup_expr="icontains")
    service = django_filters.ModelChoiceFilter(queryset=_services, field_name="services", label="Component of service")
    supplier = django_filters.ModelChoiceFilter(
        queryset=lambda request: Party.objects.filter(party_type=PartyType.SUPPLIER)
    )
    asset_tag = django_filters.CharFilter(lookup_expr="iexact")
    serial_number = django_filters.CharFilter(lookup_expr="iexact")
    under_change_control = django_filters.BooleanFilter(field_name="ci_type__under_change_control")

    class Meta:
        model = ConfigurationItem
        fields = [
            "q",
            "ci_type",
            "type_code",
            "state",
            "owner",
            "location",
            "service",
            "supplier",
            "asset_tag",
            "serial_number",
            "under_change_control",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__iexact=value)
            | Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(asset_tag__iexact=value)
            | Q(serial_number__iexact=value)
        )


class RelationshipFilterSet(django_filters.FilterSet):
    ci = django_filters.ModelChoiceFilter(queryset=_cis, method="either_end", label="CI (either end)")
    source = django_filters.ModelChoiceFilter(queryset=_cis)
    target = django_filters.ModelChoiceFilter(queryset=_cis)
    kind = django_filters.MultipleChoiceFilter(choices=RelationshipKind.choices)

    class Meta:
        model = Relationship
        fields = ["ci", "source", "target", "kind"]

    @extend_schema_field(OpenApiTypes.INT)
    def either_end(self, queryset, name, value):
        return queryset.filter(Q(source=value) | Q(target=value))


class ServiceFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ServiceState.choices, label="Status")
    criticality = django_filters.MultipleChoiceFilter(choices=Criticality.choices)
    customer = django_filters.ModelChoiceFilter(
        queryset=lambda request: Party.objects.filter(party_type=PartyType.CUSTOMER), field_name="customers"
    )
    component = django_filters.ModelChoiceFilter(queryset=_cis, field_name="components", label="Has component")
    is_customer_facing = django_filters.BooleanFilter()

    class Meta:
        model = Service
        fields = ["q", "state", "criticality", "owner", "customer", "component", "is_customer_facing"]


class BaselineFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    taken_by = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members())
    taken_after = django_filters.DateFilter(field_name="taken_at", lookup_expr="date__gte")
    taken_before = django_filters.DateFilter(field_name="taken_at", lookup_expr="date__lte")

    class Meta:
        model = Baseline
        fields = ["q", "taken_by", "taken_after", "taken_before"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class CMDBAuditFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=AuditState.choices, label="Status")
    auditor = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members())
    planned_after = django_filters.DateFilter(field_name="planned_for", lookup_expr="gte")
    planned_before = django_filters.DateFilter(field_name="planned_for", lookup_expr="lte")

    class Meta:
        model = CMDBAudit
        fields = ["q", "state", "owner", "auditor", "planned_after", "planned_before"]
