from __future__ import annotations

from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sms.core.api.idempotency import IdempotentCreateMixin
from sms.core.api.views import RecordViewSet, TenantModelViewSet, TenantScopedMixin

from .. import services, services_matrix
from ..choices import OPEN_STATES
from ..filters import (
    CategoryFilterSet,
    IncidentFilterSet,
    PriorityLevelFilterSet,
    PriorityMatrixCellFilterSet,
    ServiceCalendarFilterSet,
    ServiceHoursFilterSet,
)
from ..models import (
    Category,
    Incident,
    PriorityLevel,
    PriorityMatrixCell,
    ResolutionSettings,
    ServiceCalendar,
    ServiceHours,
)
from . import serializers as s
from .escalation import MajorIncidentActionsMixin
from .listing import IncidentListMixin, incident_list_queryset
from .views_desk import ServiceDeskActionsMixin

CONFIGURE = "resolution.configure"
WRITE_ACTIONS = ("create", "update", "partial_update", "destroy")


class _ConfigViewSet(TenantModelViewSet):
    """Set-up of incident management: everyone reads it; tenant administrators change it."""

    capability_area = "resolutionconfig"
    action_capabilities = {name: CONFIGURE for name in WRITE_ACTIONS}

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as exc:
            raise ValidationError({"detail": ["It is in use; change what uses it first."]}) from exc


class _FixedConfigViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Rows that always exist (one per level, cell or tenant): read and change, never add
    or remove."""

    capability_area = "resolutionconfig"
    action_capabilities = {name: CONFIGURE for name in WRITE_ACTIONS}
    http_method_names = ["get", "patch", "head", "options"]


class PriorityLevelViewSet(_FixedConfigViewSet):
    """Priority levels and their response and resolution targets (minutes of service time).
    Changing a target reschedules the open incidents of that priority."""

    queryset = PriorityLevel.unscoped.none()
    serializer_class = s.PriorityLevelSerializer
    filterset_class = PriorityLevelFilterSet
    ordering_fields = ["level"]

    def scoped_queryset(self):
        services.ensure_defaults()
        return PriorityLevel.objects.order_by("level")

    def perform_update(self, serializer):
        super().perform_update(serializer)
        level = serializer.instance.level
        services.reschedule_incidents(
            Incident.objects.filter(priority=level, state__in=OPEN_STATES),
            reason=f"Targets of P{level} changed",
        )


class PriorityMatrixViewSet(_FixedConfigViewSet):
    """The impact x urgency matrix: PATCH a cell's ``priority``. Incidents keep the priority
    they were given; new ones and re-prioritised ones use the matrix as it is."""

    queryset = PriorityMatrixCell.unscoped.none()
    serializer_class = s.PriorityMatrixCellSerializer
    filterset_class = PriorityMatrixCellFilterSet
    ordering_fields = ["impact", "urgency", "priority"]

    def scoped_queryset(self):
        services.ensure_defaults()
        return PriorityMatrixCell.objects.order_by("impact", "urgency")


class ServiceCalendarViewSet(_ConfigViewSet):
    """Service calendars: weekly working hours, time zone and holidays (8.1, 6.1)."""

    queryset = ServiceCalendar.unscoped.none()
    serializer_class = s.ServiceCalendarSerializer
    filterset_class = ServiceCalendarFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def scoped_queryset(self):
        return ServiceCalendar.objects.order_by("name", "id")


class ServiceHoursViewSet(_ConfigViewSet):
    """Which calendar each service's targets run in."""

    queryset = ServiceHours.unscoped.none()
    serializer_class = s.ServiceHoursSerializer
    filterset_class = ServiceHoursFilterSet

    def scoped_queryset(self):
        return ServiceHours.objects.select_related("service", "calendar").order_by("service__title", "id")


class ResolutionSettingsViewSet(_FixedConfigViewSet):
    """The tenant's incident settings (one row): reopen window, default calendar, at-risk
    point. ``matrix_size`` (3 or 5 levels of impact and urgency) changes only through
    ``POST switch-matrix/``, which resets the matrix to the default of that size."""

    queryset = ResolutionSettings.unscoped.none()
    serializer_class = s.ResolutionSettingsSerializer
    action_capabilities = {**_FixedConfigViewSet.action_capabilities, "switch_matrix": CONFIGURE}
    http_method_names = ["get", "patch", "post", "head", "options"]

    def scoped_queryset(self):
        services.ensure_defaults()
        return ResolutionSettings.objects.order_by("id")

    @extend_schema(request=s.SwitchMatrixSerializer, responses=s.ResolutionSettingsSerializer)
    @action(detail=True, methods=["post"], url_path="switch-matrix")
    def switch_matrix(self, request, pk=None):
        """Switch between a 3 x 3 and a 5 x 5 matrix: the cells are replaced by the default
        matrix of that size (in the history, with the reason). Incidents keep their values."""
        self.get_object()
        body = s.SwitchMatrixSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services_matrix.switch_matrix_size(
            body.validated_data["matrix_size"], membership=request.membership, reason=body.validated_data["reason"]
        )
        return Response(s.ResolutionSettingsSerializer(row, context=self.get_serializer_context()).data)


class CategoryViewSet(TenantModelViewSet):
    """The incident classification tree (8.1 c). Process owners and administrators keep
    it; categories in use are deactivated rather than deleted."""

    queryset = Category.unscoped.none()
    serializer_class = s.CategorySerializer
    filterset_class = CategoryFilterSet
    capability_area = "incidentcategory"
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def scoped_queryset(self):
        return Category.objects.select_related("parent__parent").order_by("name", "id")

    def perform_destroy(self, instance):
        if instance.incidents.exists() or instance.children.exists():
            raise ValidationError({"detail": ["Incidents or other categories use it; deactivate it instead."]})
        instance.delete()


class IncidentViewSet(
    IncidentListMixin, ServiceDeskActionsMixin, MajorIncidentActionsMixin, IdempotentCreateMixin, RecordViewSet
):
    """Incidents (clause 8.1). Lists carry, computed on read, whether a running incident
    is past its due times and the minutes left (``ordering=resolution_due_at`` for the
    queue); the stored breach flags are set by the transitions and the planned check.
    POST honours an ``Idempotency-Key`` header, so monitoring tools can retry safely."""

    queryset = Incident.unscoped.none()
    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilterSet
    capability_area = "incident"
    select_related = (
        "owner",
        "created_by",
        "updated_by",
        "assignee",
        "service",
        "category__parent__parent",
        "caller",
        "customer",
        "assignment_group",
        "major_manager",
    )
    ordering_fields = [
        "number",
        "priority",
        "state",
        "response_due_at",
        "resolution_due_at",
        "created_at",
        "updated_at",
    ]

    def scoped_queryset(self):
        if self.action in self.list_actions:  # few joins; people and parties attached per page
            return incident_list_queryset()
        return Incident.objects.with_clock().select_related(*self.select_related).prefetch_related("affected_cis")
