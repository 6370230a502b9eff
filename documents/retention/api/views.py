from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sms.core.api.views import RecordViewSet, TenantModelViewSet, TenantScopedMixin

from .. import services
from ..filters import DisposalRunFilterSet, LegalHoldFilterSet, RetentionRuleFilterSet, TombstoneFilterSet
from ..models import DisposalItem, DisposalRun, LegalHold, RetentionRule, Tombstone
from . import serializers as s


class RetentionRuleViewSet(TenantModelViewSet):
    """Retention period and end-of-retention action per kind of record (4.3.3)."""

    queryset = RetentionRule.unscoped.none()
    serializer_class = s.RetentionRuleSerializer
    filterset_class = RetentionRuleFilterSet
    ordering_fields = ["record_kind", "retain_months"]
    action_capabilities = {
        "list": "retention.view",
        "retrieve": "retention.view",
        "create": "retention.manage",
        "update": "retention.manage",
        "partial_update": "retention.manage",
        "destroy": "retention.manage",
    }

    def perform_destroy(self, instance):
        # Rules that disposals were made under stay, as evidence: deactivate instead.
        instance.is_active = False
        instance.save(reason="Deactivated through the API")


class LegalHoldViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Records that must not be disposed of; released, never deleted."""

    queryset = LegalHold.unscoped.none()
    serializer_class = s.LegalHoldSerializer
    filterset_class = LegalHoldFilterSet
    action_capabilities = {
        "list": "retention.view",
        "retrieve": "retention.view",
        "create": "legalhold.manage",
        "release": "legalhold.manage",
    }

    def scoped_queryset(self):
        return LegalHold.objects.select_related("released_by")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.place_hold(
            record_kind=data["record_kind"], object_id=data["object_id"], reason=data["reason"], by=self.request.user
        )

    @extend_schema(request=s.ReleaseSerializer, responses=s.LegalHoldSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        hold = self.get_object()
        if not hold.is_active:
            raise ValidationError({"detail": ["This hold was already released."]})
        body = s.ReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hold = services.release_hold(hold, by=request.user, reason=body.validated_data["reason"])
        return Response(self.get_serializer(hold).data)


class DisposalRunViewSet(RecordViewSet):
    """Disposal runs: POST (no body) proposes one from every eligible record; approve,
    then execute. PATCH changes only the title, description and owner."""

    queryset = DisposalRun.unscoped.none()
    serializer_class = s.DisposalRunSerializer
    filterset_class = DisposalRunFilterSet
    capability_area = "disposal"
    select_related = ("owner", "created_by", "updated_by", "approved_by", "executed_by")

    def scoped_queryset(self):
        return super().scoped_queryset().annotate(item_count=Count("items")).order_by("-number")

    @extend_schema(request=None, responses={201: s.DisposalRunSerializer})
    def create(self, request, *args, **kwargs):
        try:
            run = services.propose_run(by=request.user)
        except services.NothingToDispose as exc:
            raise ValidationError({"detail": [str(exc)]}) from exc
        run = self.scoped_queryset().get(pk=run.pk)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.DisposalItemSerializer(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        run = self.get_object()
        qs = DisposalItem.objects.filter(run=run).order_by("record_kind", "reference")
        return self.get_paginated_response(s.DisposalItemSerializer(self.paginate_queryset(qs), many=True).data)

    @property
    def action_capabilities(self):
        return {**super().action_capabilities, "items": "disposal.view"}


class TombstoneViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """What remains of disposed and archived records: kind, reference, dates, rule, run."""

    queryset = Tombstone.unscoped.none()
    serializer_class = s.TombstoneSerializer
    filterset_class = TombstoneFilterSet
    capability_area = "retention"

    def scoped_queryset(self):
        return Tombstone.objects.select_related("executed_by", "run")
