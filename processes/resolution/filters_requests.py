"""Filters of the request catalogue, service requests and fulfilment tasks (browser and
API alike). Every filter is declared: generated ones would read the fail-closed manager
at import time."""

import django_filters
from django.db.models import Q

from sms.core.api.serializers import tenant_members
from sms.core.filters import FilterSet, RecordFilterSet
from sms.tenancy.roles import Role

from .choices import ApprovalMode, RequestState, TaskState
from .filters import PRIORITY_CHOICES, _groups, _services
from .models import CatalogueItem, FulfilmentTask, ServiceRequest


def _items(request):
    return CatalogueItem.objects.select_related("service").order_by("name")


def _requests(request):
    return ServiceRequest.objects.order_by("-number")


class CatalogueItemFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    service = django_filters.ModelChoiceFilter(queryset=_services, empty_label="Any service")
    approval = django_filters.ChoiceFilter(choices=ApprovalMode.choices, empty_label="Any")
    approver_role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")
    is_active = django_filters.BooleanFilter(label="Offered")

    class Meta:
        model = CatalogueItem
        fields = ["q", "service", "approval", "approver_role", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value)) if value else queryset


class ServiceRequestFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RequestState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=PRIORITY_CHOICES)
    catalogue_item = django_filters.ModelChoiceFilter(queryset=_items, empty_label="Any item")
    service = django_filters.ModelChoiceFilter(queryset=_services, empty_label="Any service")
    requester = django_filters.ModelChoiceFilter(
        queryset=lambda request: tenant_members(), empty_label="Anyone", label="Requested for"
    )
    assignment_group = django_filters.ModelChoiceFilter(queryset=_groups, empty_label="Any group")
    assignee = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")
    breached = django_filters.BooleanFilter(method="filter_breached", label="Target breached")
    awaiting_my_decision = django_filters.BooleanFilter(
        method="filter_awaiting_my_decision", label="Awaiting my approval"
    )

    class Meta:
        model = ServiceRequest
        fields = [
            "q",
            "state",
            "priority",
            "catalogue_item",
            "service",
            "requester",
            "assignment_group",
            "assignee",
            "unassigned",
            "breached",
            "awaiting_my_decision",
            "owner",
        ]

    def filter_breached(self, queryset, name, value):
        breached = Q(response_breached=True) | Q(fulfilment_breached=True)
        return queryset.filter(breached) if value else queryset.exclude(breached)

    def filter_awaiting_my_decision(self, queryset, name, value):
        from .services_requests import awaiting_decision_by

        request = self.request
        if request is None:
            return queryset.none() if value else queryset
        membership = getattr(request, "membership", None) or getattr(
            getattr(request, "_request", None), "membership", None
        )
        mine = awaiting_decision_by(queryset, request.user, membership)
        return mine if value else queryset.exclude(pk__in=mine.values("pk"))


class FulfilmentTaskFilterSet(FilterSet):
    request = django_filters.ModelChoiceFilter(queryset=_requests)
    state = django_filters.MultipleChoiceFilter(choices=TaskState.choices)
    assignee = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members(), empty_label="Anyone")

    class Meta:
        model = FulfilmentTask
        fields = ["request", "state", "assignee"]
