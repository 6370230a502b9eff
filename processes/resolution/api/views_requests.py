from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sms.core.api.errors import validation_detail
from sms.core.api.views import RecordViewSet, TenantModelViewSet, TenantScopedMixin

from .. import services_requests as sr
from ..filters_requests import CatalogueItemFilterSet, FulfilmentTaskFilterSet, ServiceRequestFilterSet
from ..models import CatalogueItem, FulfilmentTask, ServiceRequest
from . import serializers_requests as s


class CatalogueItemViewSet(TenantModelViewSet):
    """The request catalogue (8.1): what can be requested of each service, what is asked,
    who approves and which tasks fulfil it. Everyone reads it; process owners and
    administrators keep it. Items with requests are deactivated rather than deleted."""

    queryset = CatalogueItem.unscoped.none()
    serializer_class = s.CatalogueItemSerializer
    filterset_class = CatalogueItemFilterSet
    capability_area = "requestcatalogue"
    ordering_fields = ["name", "priority", "created_at"]

    def scoped_queryset(self):
        return CatalogueItem.objects.select_related("service").prefetch_related("approvers").order_by("name", "id")

    def perform_destroy(self, instance):
        if instance.requests.exists():
            raise ValidationError({"detail": ["Requests were made for this item; deactivate it instead."]})
        instance.delete()


class ServiceRequestViewSet(RecordViewSet):
    """Service requests (8.1). POST with ``catalogue_item`` and ``answers`` submits one;
    ``?awaiting_my_decision=true`` lists those you may approve or reject now."""

    queryset = ServiceRequest.unscoped.none()
    serializer_class = s.ServiceRequestSerializer
    filterset_class = ServiceRequestFilterSet
    capability_area = "request"
    select_related = (
        "owner",
        "created_by",
        "updated_by",
        "requester",
        "assignee",
        "service",
        "catalogue_item",
        "customer",
        "assignment_group",
    )
    ordering_fields = ["number", "priority", "state", "response_due_at", "fulfilment_due_at", "created_at"]

    def scoped_queryset(self):
        return ServiceRequest.objects.select_related(*self.select_related).prefetch_related(
            "decisions__decided_by", "tasks"
        )


class FulfilmentTaskViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Fulfilment tasks of requests (made from the item's templates on approval). PATCH
    the assignee or notes; ``POST {id}/complete/`` with ``state`` ``done`` or
    ``not_needed`` (with notes saying why) once the request is in fulfilment."""

    queryset = FulfilmentTask.unscoped.none()
    serializer_class = s.FulfilmentTaskSerializer
    filterset_class = FulfilmentTaskFilterSet
    http_method_names = ["get", "patch", "post", "head", "options"]
    capability_area = "request"
    action_capabilities = {
        "list": "request.view",
        "retrieve": "request.view",
        "partial_update": "request.update",
        "update": "request.update",
        "complete": "request.update",
    }
    ordering_fields = ["position", "updated_at"]

    def scoped_queryset(self):
        return FulfilmentTask.objects.select_related("request", "assignee", "done_by").order_by(
            "request_id", "position"
        )

    @extend_schema(request=s.CompleteTaskSerializer, responses=s.FulfilmentTaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        body = s.CompleteTaskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            task = sr.complete_task(task, by=request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(validation_detail(exc)) from exc
        return Response(self.get_serializer(task).data)
