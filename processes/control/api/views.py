"""API of change management (clause 9.2): the policy, standard change templates,
approval rules, requests for change with their approval decisions, and the approvals
asked of people."""

from __future__ import annotations

from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sms.core.api.views import RecordViewSet, TenantModelViewSet, TenantScopedMixin

from .. import services
from ..filters import ChangeApprovalFilterSet, ChangeFilterSet
from ..models import ApprovalRule, BlackoutWindow, Change, ChangeApproval, ChangePolicy, StandardChangeTemplate
from . import serializers as s
from .views_review import InvestigationActions
from .views_schedule import ScheduleActions

WRITE_ACTIONS = ("create", "update", "partial_update", "destroy")


class ChangePolicyViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's change management policy (one row, created on first read): read by
    everyone, changed by process owners and administrators."""

    queryset = ChangePolicy.unscoped.none()
    serializer_class = s.ChangePolicySerializer
    capability_area = "changepolicy"
    http_method_names = ["get", "patch", "head", "options"]

    def scoped_queryset(self):
        services.policy()
        return ChangePolicy.objects.order_by("id")

    def perform_update(self, serializer):
        serializer.instance._change_reason = self.request.data.get("change_reason") or "Updated through the API"
        serializer.instance._history_user = self.request.user
        serializer.save()


class StandardChangeTemplateViewSet(TenantModelViewSet):
    """Standard change templates. ``POST .../approve/`` pre-approves one (change
    approvers and process owners, not its author); only approved, active templates
    can be used. Templates in use are deactivated rather than deleted."""

    queryset = StandardChangeTemplate.unscoped.none()
    serializer_class = s.StandardChangeTemplateSerializer
    capability_area = "changetemplate"
    action_capabilities = {"approve": "change.approve"}
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def scoped_queryset(self):
        return StandardChangeTemplate.objects.select_related("approved_by").order_by("name", "id")

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as exc:
            raise ValidationError({"detail": ["Changes were made from it; deactivate it instead."]}) from exc

    @extend_schema(request=s.RationaleSerializer, responses=s.StandardChangeTemplateSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        template = self.get_object()
        body = s.RationaleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template = services.approve_template(template, by=request.user, **body.validated_data)
        return Response(self.get_serializer(template).data)


class ApprovalRuleViewSet(TenantModelViewSet):
    """Who approves requests for change of a type and risk level, and the rule: all of
    them, any one, or a quorum. One rejection always rejects."""

    queryset = ApprovalRule.unscoped.none()
    serializer_class = s.ApprovalRuleSerializer
    capability_area = "changepolicy"
    ordering_fields = ["change_type", "risk_level"]

    def scoped_queryset(self):
        return ApprovalRule.objects.prefetch_related("approvers").order_by("change_type", "risk_level", "id")


class BlackoutWindowViewSet(TenantModelViewSet):
    """Blackout windows: periods in which no change is deployed, for every service or
    the services named. The deployment gate refuses inside them."""

    queryset = BlackoutWindow.unscoped.none()
    serializer_class = s.BlackoutWindowSerializer
    capability_area = "changepolicy"
    search_fields = ["name", "reason"]
    ordering_fields = ["starts_at", "name"]

    def scoped_queryset(self):
        return BlackoutWindow.objects.prefetch_related("services").order_by("starts_at", "id")


class ChangeViewSet(InvestigationActions, ScheduleActions, RecordViewSet):
    """Requests for change (clause 9.2). ``GET/POST .../decisions/``: the approvers'
    decisions; POST ``{"decision": "approved"|"rejected", "rationale": "..."}`` records
    yours (403 for the requester or someone not asked, 409 when the change no longer
    awaits approval)."""

    queryset = Change.unscoped.none()
    serializer_class = s.ChangeSerializer
    filterset_class = ChangeFilterSet
    capability_area = "change"
    ordering_fields = ["number", "state", "planned_start", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {
            **super().action_capabilities,
            "decisions": "change.view",
            "decide": "change.approve",
            "gate": "change.view",
            "impact": "change.view",
            "conflicts": "change.view",
            "investigation": "change.view",
            "investigate": "change.investigate",
        }

    def scoped_queryset(self):
        return (
            Change.objects.select_related("owner", "created_by", "updated_by", "requester", "template")
            .prefetch_related("services", "cis", "approvals__approver", "approvals__change")
            .order_by("-number")
        )

    @extend_schema(responses=s.ChangeApprovalSerializer(many=True))
    @action(detail=True, methods=["get"])
    def decisions(self, request, pk=None):
        change = self.get_object()
        rows = change.approvals.select_related("approver", "change")
        return Response(s.ChangeApprovalSerializer(rows, many=True).data)

    @extend_schema(request=s.DecisionSerializer, responses=s.ChangeSerializer)
    @decisions.mapping.post
    def decide(self, request, pk=None):
        change = self.get_object()
        body = s.DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.decide(change, by=request.user, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data, status=status.HTTP_200_OK)

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def impact(self, request, pk=None):
        """What the change may affect, from the CMDB's impact analysis: services (in
        scope, or depending on its CIs), their customers, and the CIs depending on its CIs."""
        return Response(services.change_impact(self.get_object()))

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def conflicts(self, request, pk=None):
        """Conflicts in the schedule: other changes overlapping this one's planned window on
        the same service, the same CI or a directly related CI, and the blackout windows
        it overlaps."""
        change = self.get_object()
        rows = services.conflicts(change)
        blackouts = services.blackouts_for(change, change.planned_start, change.planned_end)
        return Response(
            {
                "changes": [
                    {
                        "id": r["change"].pk,
                        "reference": r["change"].reference,
                        "title": r["change"].title,
                        "state": r["change"].state,
                        "planned_start": r["change"].planned_start,
                        "planned_end": r["change"].planned_end,
                        "shares": r["shares"],
                    }
                    for r in rows
                ],
                "blackouts": [
                    {"id": b.pk, "name": b.name, "starts_at": b.starts_at, "ends_at": b.ends_at} for b in blackouts
                ],
            }
        )

    @extend_schema(responses=s.GateSerializer)
    @action(detail=False, methods=["get"], url_path=r"(?P<ref>[A-Za-z0-9-]+)/gate")
    def gate(self, request, ref=None):
        """Deployment gate for pipelines: may a deployment under this change (its
        reference, e.g. CHG-12, or its id) go ahead now? ``allowed`` is true only when
        the change is approved, scheduled or being implemented and now is inside its
        planned window; ``reasons`` says what is missing. Hold the deployment until
        ``allowed`` is true."""
        qs = Change.objects.all()
        change = get_object_or_404(qs, pk=int(ref)) if ref.isdigit() else get_object_or_404(qs, reference__iexact=ref)
        now = timezone.now()
        answer = services.gate(change, now=now)
        body = {
            "reference": change.reference,
            "state": change.state,
            "allowed": answer.allowed,
            "reasons": answer.reasons,
            "planned_start": change.planned_start,
            "planned_end": change.planned_end,
            "checked_at": now,
        }
        return Response(s.GateSerializer(body).data)


class ChangeApprovalViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Approvals asked of people (read only); ``?mine=true&decision=pending`` is the
    caller's approvals inbox. Decide through ``/changes/{id}/decisions/``."""

    queryset = ChangeApproval.unscoped.none()
    serializer_class = s.ChangeApprovalSerializer
    filterset_class = ChangeApprovalFilterSet
    capability_area = "change"
    ordering_fields = ["id", "decided_at"]

    def scoped_queryset(self):
        return ChangeApproval.objects.select_related("approver", "change").order_by("-id")
