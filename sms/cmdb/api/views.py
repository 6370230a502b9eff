from __future__ import annotations

from django.db.models import Count, Prefetch, Q
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.response import Response

from sms.core.api.views import RecordViewSet, TenantModelViewSet, TenantScopedMixin

from ..filters import (
    BaselineFilterSet,
    CITypeFilterSet,
    CMDBAuditFilterSet,
    ConfigurationItemFilterSet,
    RelationshipFilterSet,
    ServiceFilterSet,
)
from ..models import AuditedCI, Baseline, CIType, CMDBAudit, ConfigurationItem, Relationship, Service
from ..services import impact
from . import serializers as s


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state of the CMDB."


IMPACT_PARAMETERS = [
    OpenApiParameter(
        "direction",
        OpenApiTypes.STR,
        enum=["down", "up", "both"],
        description="down: what depends on it; up: what it depends on; both.",
    ),
    OpenApiParameter("depth", OpenApiTypes.INT, description="How many steps to follow (1 to 30, default 10)."),
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description=(
            "The most nodes per direction to return, nearest first (1 to 200,000, default 1,000); "
            "`truncated` in the answer says whether more were reachable."
        ),
    ),
]


def csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def run_import(request, importer) -> Response:
    """Only CMDB writers import: creating and updating CIs both."""
    membership = getattr(request._request, "membership", None)
    if membership is None or not membership.can("ci.create"):
        raise PermissionDenied("Your role in this tenant does not allow importing into the CMDB (ci.create).")
    ser = s.CSVImportSerializer(data=request.data)
    ser.is_valid(raise_exception=True)
    upload = ser.validated_data["file"]
    report = importer(upload.read(), filename=upload.name[:200], by=request.user, dry_run=ser.validated_data["dry_run"])
    return Response(report.as_dict(), status=status.HTTP_200_OK if report.valid else status.HTTP_400_BAD_REQUEST)


class ImpactMixin:
    @extend_schema(parameters=IMPACT_PARAMETERS, responses=s.ImpactResultSerializer)
    @action(detail=True, methods=["get"])
    def impact(self, request, pk=None):
        """Impact analysis: what depends on this item (down), what it depends on (up), or both."""
        node = self.get_object()
        query = s.ImpactQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = impact(node, data["direction"], data["depth"], data["limit"])
        return Response(result.as_dict())


class CITypeViewSet(TenantModelViewSet):
    """The documented definition of each type of CI (clause 9.1). Everyone reads them;
    only tenant administrators change them."""

    queryset = CIType.unscoped.none()
    serializer_class = s.CITypeSerializer
    filterset_class = CITypeFilterSet
    capability_area = "citype"
    search_fields = ["name", "code", "description"]
    ordering_fields = ["name", "code", "created_at"]
    action_capabilities = {
        "create": "citype.manage",
        "update": "citype.manage",
        "partial_update": "citype.manage",
        "destroy": "citype.manage",
    }

    def scoped_queryset(self):
        return CIType.objects.annotate(ci_count=Count("items")).order_by("name", "id")

    def perform_destroy(self, instance):
        used = instance.items.count()
        if used:
            raise Conflict(f"{used} CIs have this type; deactivate it (is_active: false) instead of deleting it.")
        instance._change_reason = "Deleted through the API"
        instance.delete()


class ConfigurationItemViewSet(ImpactMixin, RecordViewSet):
    """Configuration items of the CMDB (clause 9.1). Process owners and administrators
    write; service desk agents read, link CIs to their incidents and problems, and
    propose changes through RFCs: update access is controlled (9.1) so that the CMDB
    changes only through change management, not during incident handling."""

    queryset = ConfigurationItem.unscoped.none()
    serializer_class = s.ConfigurationItemSerializer
    filterset_class = ConfigurationItemFilterSet
    capability_area = "ci"
    select_related = ("owner", "created_by", "updated_by", "ci_type", "supplier")
    search_fields = ["reference", "title", "description", "asset_tag", "serial_number"]
    ordering_fields = ["number", "title", "state", "ci_type__name", "location", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {
            **super().action_capabilities,
            "impact": "ci.view",
            "relationships": "ci.view",
            "health": "ci.view",
            "export": "ci.view",
            "import_csv": "ci.update",
        }

    def scoped_queryset(self):
        return (
            super()
            .scoped_queryset()
            .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("number")))
        )

    def perform_create(self, serializer):
        serializer.save()

    def perform_update(self, serializer):
        instance = serializer.instance
        reason = getattr(serializer, "change_reason", "") or "Updated through the API"
        reference = serializer.validated_data.get("last_change_reference")
        instance._change_reason = f"{reason} (under {reference})" if reference else reason
        serializer.save()

    @extend_schema(
        parameters=[OpenApiParameter("stale_after_days", OpenApiTypes.INT, description="1 to 3650, default 365.")],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=False, methods=["get"])
    def health(self, request):
        """CMDB health (clause 9.1): per CI type, CIs without an owner, orphans, CIs not
        verified for ``stale_after_days``, duplicate names and serial numbers, and
        attributes failing the type's schema; computed in a fixed number of queries."""
        from ..quality import health

        query = s.HealthQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(health(stale_after_days=query.validated_data["stale_after_days"]))

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        """The CIs matching the list's filters as CSV (streamed); see ``sms.cmdb.csvio``."""
        from ..csvio import export_cis

        qs = self.filter_queryset(ConfigurationItem.objects.all())
        return csv_response(export_cis(qs), "cis.csv")

    @extend_schema(request={"multipart/form-data": s.CSVImportSerializer}, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request):
        """Import CIs from CSV: ``dry_run`` (default true) only validates; a real run
        writes every row or none. 400 with the row errors when any row is invalid."""
        from ..csvio import import_cis

        return run_import(request, import_cis)

    @extend_schema(responses=s.CIRelationshipSerializer(many=True))
    @action(detail=True, methods=["get"])
    def relationships(self, request, pk=None):
        """This CI's relationships in both directions, read from its side."""
        ci = self.get_object()
        qs = (
            Relationship.objects.filter(Q(source=ci) | Q(target=ci))
            .select_related("source__ci_type", "target__ci_type")
            .order_by("kind", "id")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.CIRelationshipSerializer(page, many=True, context={"ci": ci}).data)


class RelationshipViewSet(
    TenantScopedMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Typed, directed relationships between CIs. Created and removed, never edited:
    a different relationship is a new one, and both stay in the history."""

    queryset = Relationship.unscoped.none()
    serializer_class = s.RelationshipSerializer
    filterset_class = RelationshipFilterSet
    capability_area = "ci"
    http_method_names = ["get", "post", "delete", "head", "options"]
    ordering_fields = ["kind", "created_at"]
    # A relationship is part of the CI's record (9.1 b): adding or removing one is an update of the CI.
    action_capabilities = {
        "create": "ci.update",
        "destroy": "ci.update",
        "export": "ci.view",
        "import_csv": "ci.update",
    }

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request):
        """The relationships matching the filters as CSV (streamed)."""
        from ..csvio import export_relationships

        return csv_response(export_relationships(self.filter_queryset(Relationship.objects.all())), "relationships.csv")

    @extend_schema(request={"multipart/form-data": s.CSVImportSerializer}, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request):
        """Add relationships from CSV (source, kind, target, note, change_reason)."""
        from ..csvio import import_relationships

        return run_import(request, import_relationships)

    def scoped_queryset(self):
        return Relationship.objects.select_related("source__ci_type", "target__ci_type", "created_by").order_by(
            "source_id", "kind", "target_id"
        )

    def perform_create(self, serializer):
        instance = Relationship(**serializer.validated_data)
        instance.save(reason=serializer.change_reason or "Added through the API")
        serializer.instance = instance

    @extend_schema(parameters=[OpenApiParameter("change_reason", OpenApiTypes.STR)])
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        data = self.request.data if hasattr(self.request.data, "get") else {}
        reason = (data.get("change_reason") or self.request.query_params.get("change_reason") or "").strip()
        if instance.source.ci_type.under_change_control and not reason:
            from rest_framework.exceptions import ValidationError

            raise ValidationError(
                {
                    "change_reason": [
                        f"CIs of type {instance.source.ci_type.name} are under change control: "
                        "say why this relationship is removed."
                    ]
                }
            )
        instance._change_reason = reason or "Removed through the API"
        instance.delete()


class ServiceViewSet(ImpactMixin, RecordViewSet):
    """The catalogue of services (clause 6.1): readable by every member of the tenant."""

    queryset = Service.unscoped.none()
    serializer_class = s.ServiceSerializer
    filterset_class = ServiceFilterSet
    capability_area = "service"
    ordering_fields = ["number", "title", "state", "criticality", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {**super().action_capabilities, "impact": "service.view"}

    def scoped_queryset(self):
        return (
            super()
            .scoped_queryset()
            .prefetch_related(
                "customers",
                Prefetch("components", queryset=ConfigurationItem.objects.select_related("ci_type").order_by("number")),
                Prefetch("depends_on", queryset=Service.objects.order_by("number")),
                Prefetch("needed_by", queryset=Service.objects.order_by("number")),
            )
        )

    def perform_update(self, serializer):
        serializer.instance._change_reason = getattr(serializer, "change_reason", "") or "Updated through the API"
        serializer.save()


class BaselineViewSet(
    TenantScopedMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Configuration baselines (clause 9.1): taken, listed, compared; never changed or deleted."""

    queryset = Baseline.unscoped.none()
    serializer_class = s.BaselineSerializer
    filterset_class = BaselineFilterSet
    capability_area = "baseline"
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["taken_at", "name"]
    action_capabilities = {"diff": "baseline.view"}

    def scoped_queryset(self):
        qs = Baseline.objects.select_related("taken_by")
        if self.action == "list":
            qs = qs.defer("items")
        return qs

    def get_serializer_class(self):
        return s.BaselineDetailSerializer if self.action == "retrieve" else s.BaselineSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("against", OpenApiTypes.STR, description="Another baseline's id, or 'current' (default).")
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """CIs added, removed and changed (field by field) from this baseline to another
        baseline or to the current CMDB over the same scope."""
        from ..services import diff_baseline

        baseline = self.get_object()
        query = s.BaselineDiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(diff_baseline(baseline, query.validated_data["against"]))


class CMDBAuditViewSet(RecordViewSet):
    """CMDB audits (clause 9.1): planned, started (the automatic checks run), CIs
    verified, deficiencies and actions recorded, completed. Auditors perform them;
    nobody audits the area they own."""

    queryset = CMDBAudit.unscoped.none()
    serializer_class = s.CMDBAuditSerializer
    filterset_class = CMDBAuditFilterSet
    capability_area = "cmdbaudit"
    select_related = ("owner", "created_by", "updated_by", "auditor", "area_owner")
    ordering_fields = ["number", "title", "state", "planned_for", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {
            **super().action_capabilities,
            "results": "cmdbaudit.view",
            "verifications": "cmdbaudit.view",
            "verify": "cmdbaudit.verify",
            "rerun_checks": "cmdbaudit.update",
            "raise_improvement": "improvement.create",
        }

    def scoped_queryset(self):
        qs = super().scoped_queryset()
        return qs.defer("results") if self.action == "list" else qs

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """The automatic data-quality results as recorded when the checks ran."""
        audit = self.get_object()
        return Response({"checked_at": audit.checked_at, **(audit.results or {})})

    @extend_schema(responses=s.AuditedCISerializer(many=True))
    @action(detail=True, methods=["get"])
    def verifications(self, request, pk=None):
        audit = self.get_object()
        qs = AuditedCI.objects.filter(audit=audit).select_related("ci__ci_type", "verified_by").order_by("id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.AuditedCISerializer(page, many=True).data)

    @extend_schema(request=s.AuditedCISerializer, responses=s.AuditedCISerializer)
    @verifications.mapping.post
    def verify(self, request, pk=None):
        """Record the verdict on one CI checked against reality; stamps the CI verified."""
        from ..auditing import verify_ci

        audit = self.get_object()
        ser = s.AuditedCISerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        row = verify_ci(
            audit,
            ser.validated_data["ci"],
            by=request.user,
            result=ser.validated_data["result"],
            note=ser.validated_data["note"],
        )
        return Response(s.AuditedCISerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.CMDBAuditSerializer)
    @action(detail=True, methods=["post"], url_path="rerun-checks")
    def rerun_checks(self, request, pk=None):
        from ..auditing import rerun_checks

        audit = rerun_checks(self.get_object(), by=request.user)
        return Response(self.get_serializer(audit).data)

    @extend_schema(request=s.RaiseImprovementSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], url_path="raise-improvement")
    def raise_improvement(self, request, pk=None):
        """Raise an improvement from this audit's deficiencies, linked to the audit."""
        from ..auditing import raise_improvement

        audit = self.get_object()
        ser = s.RaiseImprovementSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            improvement = raise_improvement(audit, by=request.user, **ser.validated_data)
        except LookupError as exc:
            raise Conflict(str(exc)) from exc
        return Response(
            {"id": improvement.pk, "reference": improvement.reference, "title": improvement.title},
            status=status.HTTP_201_CREATED,
        )
