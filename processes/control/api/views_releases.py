"""API of release and deployment management (clause 9.3): release policies, releases
(with their workflow, baseline and post-deployment incidents) and their acceptance
criteria with the test results."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from sms.core.api.views import RecordViewSet, TenantModelViewSet

from .. import services_releases as rs
from ..filters_releases import AcceptanceCriterionFilterSet, ReleaseFilterSet, ReleasePolicyFilterSet
from ..models import AcceptanceCriterion, Release, ReleasePolicy
from . import serializers_releases as s


class ReleasePolicyViewSet(TenantModelViewSet):
    """Release policies: the tenant-wide one (no service) and services' own. Read by
    everyone; agreed by process owners and administrators."""

    queryset = ReleasePolicy.unscoped.none()
    serializer_class = s.ReleasePolicySerializer
    filterset_class = ReleasePolicyFilterSet
    capability_area = "releasepolicy"
    ordering_fields = ["id", "updated_at"]

    def scoped_queryset(self):
        return ReleasePolicy.objects.select_related("service").order_by("service_id", "id")

    def perform_update(self, serializer):
        serializer.save()

    def perform_destroy(self, instance):
        instance._history_user = self.request.user
        instance.delete()


class ReleaseViewSet(RecordViewSet):
    """Releases (clause 9.3). Filter by ``deploys_after``/``deploys_before`` (the
    deployment date, actual else planned), ``service``, ``state``, ``outcome``... for a
    release calendar. Transitions through ``.../transitions/<name>/``: approval needs
    every acceptance criterion passed and someone other than the release manager;
    starting deployment takes the configuration baseline of the release's CIs."""

    queryset = Release.unscoped.none()
    serializer_class = s.ReleaseSerializer
    filterset_class = ReleaseFilterSet
    capability_area = "release"
    ordering_fields = ["number", "state", "planned_start", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {**super().action_capabilities, "incidents": "release.view"}

    def scoped_queryset(self):
        return rs.with_incident_counts(
            Release.objects.select_related(
                "owner", "created_by", "updated_by", "release_manager", "approved_by", "baseline"
            )
            .prefetch_related(
                "services", "cis", "changes", "problems", "known_errors", "criteria__tested_by", "criteria__release"
            )
            .order_by("-number")
        )

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def incidents(self, request, pk=None):
        """The incidents counted against the release: on its CIs or linked to it,
        created from the start of deployment to the end of its incident period."""
        release = self.get_object()
        rows = rs.incidents_after(release).order_by("-created_at")[:200]
        return Response(
            {
                "count": rs.incidents_after(release).count(),
                "from": release.deployment_started_at,
                "until": release.incident_period_end,
                "incidents": [
                    {"id": i.pk, "reference": i.reference, "title": i.title, "state": i.state,
                     "created_at": i.created_at}
                    for i in rows
                ],
            }
        )


class AcceptanceCriterionViewSet(TenantModelViewSet):
    """Acceptance criteria of releases (``?release=<id>``). Agreed and changed while the
    release is planned, built or tested; ``POST .../result/`` records the test result
    (passed or failed, with the evidence and the environment) while it is in acceptance
    test."""

    queryset = AcceptanceCriterion.unscoped.none()
    serializer_class = s.AcceptanceCriterionSerializer
    filterset_class = AcceptanceCriterionFilterSet
    capability_area = "release"
    action_capabilities = {"destroy": "release.update", "result": "release.update"}
    ordering_fields = ["position", "id"]

    def scoped_queryset(self):
        return AcceptanceCriterion.objects.select_related("release", "tested_by").order_by(
            "release_id", "position", "id"
        )

    def perform_update(self, serializer):
        serializer.save()

    def perform_destroy(self, instance):
        rs.delete_criterion(instance, by=self.request.user)

    @extend_schema(request=s.ResultSerializer, responses=s.AcceptanceCriterionSerializer)
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        criterion = self.get_object()
        body = s.ResultSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        criterion = rs.record_result(criterion, by=request.user, **body.validated_data)
        return Response(self.get_serializer(criterion).data, status=status.HTTP_200_OK)
