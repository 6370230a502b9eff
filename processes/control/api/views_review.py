"""API of the look back on changes (clause 9.2): change trend reports, and the
investigation of a failed change (``/changes/{id}/investigation/``, a mixin of the
change endpoints)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sms.core.api.views import TenantScopedMixin

from .. import services_review
from ..models import ChangeTrendReport
from ..models.changes import FAILED_OUTCOMES, investigation_actions
from . import serializers_review as s


def investigation_body(change) -> dict:
    return {
        "pk": change.pk,
        "reference": change.reference,
        "outcome": change.outcome,
        "needed": change.outcome in FAILED_OUTCOMES,
        "investigation_findings": change.investigation_findings,
        "investigated_at": change.investigated_at,
        "investigated_by": change.investigated_by,
        "actions": list(investigation_actions(change)),
    }


class InvestigationActions:
    """``GET /changes/{id}/investigation/``: the investigation of a failed change and its
    agreed actions. ``POST`` records it (process owners, change approvers and
    administrators): ``{"findings": "...", "actions": [{"title", "description",
    "owner", "due_date"}]}``. A failed change is closed only once investigated."""

    @extend_schema(responses=s.InvestigationSerializer)
    @action(detail=True, methods=["get"])
    def investigation(self, request, pk=None):
        change = self.get_object()
        return Response(s.InvestigationSerializer(investigation_body(change)).data)

    @extend_schema(request=s.InvestigationInputSerializer, responses=s.InvestigationSerializer)
    @investigation.mapping.post
    def investigate(self, request, pk=None):
        change = self.get_object()
        body = s.InvestigationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # A refusal of the service (Django's ValidationError) becomes a 400 in the API's exception handler.
        change = services_review.record_investigation(change, by=request.user, **body.validated_data)
        return Response(s.InvestigationSerializer(investigation_body(change)).data, status=status.HTTP_200_OK)


class ChangeTrendReportViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Change trend reports: the figures of the changes of a period (volumes by type,
    service and outcome, success rate, emergency share, changes followed by incidents).
    Made at planned intervals (activity kind ``change_trends``) or on demand by POST;
    the figures never change afterwards. ``POST .../conclude/`` records the conclusions."""

    queryset = ChangeTrendReport.unscoped.none()
    serializer_class = s.ChangeTrendReportSerializer
    capability_area = "changetrend"
    action_capabilities = {"conclude": "changetrend.update"}
    ordering_fields = ["period_end", "created_at"]

    def scoped_queryset(self):
        return ChangeTrendReport.objects.select_related("reviewed_by", "created_by").order_by("-period_end", "-id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services_review.create_trend_report(
            data["period_start"],
            data["period_end"],
            incident_window_days=data.get("incident_window_days", services_review.DEFAULT_INCIDENT_WINDOW_DAYS),
            by=self.request.user,
        )

    @extend_schema(request=s.ConclusionsSerializer, responses=s.ChangeTrendReportSerializer)
    @action(detail=True, methods=["post"])
    def conclude(self, request, pk=None):
        report = self.get_object()
        body = s.ConclusionsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services_review.conclude_trend_report(report, by=request.user, **body.validated_data)
        return Response(self.get_serializer(report).data)
