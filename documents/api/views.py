from __future__ import annotations

import csv

from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from sms.core.api import serializers as s
from sms.core.api.strict import RejectUnknownQueryParams
from sms.core.api.views import RecordViewSet, TenantModelViewSet, TenantScopedMixin
from sms.core.workflow import available_transitions, run_transition

from .. import services
from ..exports import REGISTER_HEADER, register_rows
from ..filters import AcknowledgementFilterSet, DocumentFilterSet, DocumentVersionFilterSet
from ..models import Acknowledgement, ApprovalRule, DistributionEntry, Document, DocumentVersion
from ..pdf import pdf_filename, render_version_pdf
from .serializers import (
    AcknowledgementSerializer,
    ApprovalRuleSerializer,
    DistributionEntrySerializer,
    DocumentSerializer,
    DocumentVersionSerializer,
    ReviewSerializer,
)

DOCUMENT_SELECT = ("owner", "created_by", "updated_by", "current_version", "current_version__approved_by")


class _CoveredDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()


class ProcessCoverageSerializer(serializers.Serializer):
    process = serializers.CharField()
    complete = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    policy = serializers.SerializerMethodField()
    process_description = serializers.SerializerMethodField()
    procedure = serializers.SerializerMethodField()

    def _docs(self, row, code):
        return _CoveredDocumentSerializer(row.documents.get(code, []), many=True).data

    def get_policy(self, row) -> list[dict]:
        return self._docs(row, "policy")

    def get_process_description(self, row) -> list[dict]:
        return self._docs(row, "process")

    def get_procedure(self, row) -> list[dict]:
        return self._docs(row, "procedure")


class DocumentViewSet(RecordViewSet):
    """Controlled documents (clause 4.3). ``current_version`` is the issued version in
    force; ``GET .../current/`` returns it in full."""

    queryset = Document.unscoped.none()
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilterSet
    capability_area = "document"
    select_related = DOCUMENT_SELECT
    ordering_fields = ["number", "title", "document_type", "next_review_date", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {**super().action_capabilities, "current": "document.view", "review": "document.update",
                "register": "document.view", "process_coverage": "document.view"}

    @extend_schema(responses=ProcessCoverageSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="process-coverage", pagination_class=None, filter_backends=[])
    def process_coverage(self, request):
        """Per SMS process: the issued policy, process description and procedure documents,
        and which of the three are missing (clause 4.3.1)."""
        from ..coverage import process_coverage

        return Response(ProcessCoverageSerializer(process_coverage(), many=True).data)

    @extend_schema(responses=DocumentVersionSerializer)
    @action(detail=True, methods=["get"])
    def current(self, request, pk=None):
        document = self.get_object()
        if document.current_version_id is None:
            raise Http404("This document has no issued version.")
        version = DocumentVersion.objects.select_related("created_by", "approved_by", "issued_by").get(
            pk=document.current_version_id
        )
        return Response(DocumentVersionSerializer(version, context=self.get_serializer_context()).data)

    @extend_schema(request=ReviewSerializer, responses=DocumentSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        document = self.get_object()
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.record_review(document, by=request.user, note=body.validated_data["note"])
        return Response(self.get_serializer(self.get_queryset().get(pk=document.pk)).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="The document register as CSV.")})
    @action(detail=False, methods=["get"])
    def register(self, request):
        """The document register (every document, its current version, status and reviews) as CSV."""
        queryset = self.filter_queryset(self.get_queryset())
        return csv_response(register_rows(queryset))


def csv_response(rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="document-register.csv"'
    writer = csv.writer(response)
    writer.writerow(REGISTER_HEADER)
    writer.writerows(rows)
    return response


class DocumentVersionViewSet(TenantScopedMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                             mixins.UpdateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Versions of controlled documents: drafted, sent to review, approved by someone
    other than the author, issued (superseding the version in force) or withdrawn.
    Never deleted: superseded and withdrawn versions stay, marked obsolete."""

    queryset = DocumentVersion.unscoped.none()
    serializer_class = DocumentVersionSerializer
    filterset_class = DocumentVersionFilterSet
    capability_area = "document"
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["number", "created_at", "issued_at"]
    search_fields = ["change_summary", "content", "document__title", "document__reference"]
    action_capabilities = {
        "list": "document.view", "retrieve": "document.view", "create": "document.update",
        "update": "document.update", "partial_update": "document.update", "transitions": "document.view",
        "take_transition": "document.view",  # the transition's own capability is checked by the service
        "pdf": "document.view", "download": "document.view", "acknowledge": "document.view",
    }

    def scoped_queryset(self):
        return DocumentVersion.objects.select_related(
            "document", "created_by", "approved_by", "issued_by"
        ).annotate(
            acknowledgements_requested=Count("acknowledgements"),
            acknowledgements_outstanding=Count("acknowledgements", filter=Q(acknowledgements__acknowledged_at=None)),
        ).order_by("document_id", "-number")

    def _fresh(self, pk):
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.save()
        return Response(self._fresh(version.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        version = serializer.save()
        return Response(self._fresh(version.pk))

    @extend_schema(responses=s.TransitionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def transitions(self, request, pk=None):
        version = self.get_object()
        return Response(s.TransitionSerializer([t.__dict__ for t in available_transitions(version, request.user)],
                                               many=True).data)

    @extend_schema(request=s.TransitionRequestSerializer, responses=DocumentVersionSerializer)
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[a-z_]+)")
    def take_transition(self, request, pk=None, name=None):
        version = self.get_object()
        body = s.TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run_transition(version, name, by=request.user, reason=body.validated_data["reason"])
        return Response(self._fresh(version.pk))

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The version as PDF.")})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        version = self.get_object()
        response = HttpResponse(render_version_pdf(version), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf_filename(version)}"'
        return response

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The uploaded file.")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        version = self.get_object()
        if not version.file:
            raise Http404("This version has no uploaded file.")
        return file_response(version)

    @extend_schema(request=None, responses=AcknowledgementSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        version = self.get_object()
        ack = services.acknowledge(version, user=request.user)
        ack = Acknowledgement.objects.select_related("user", "version__document").get(pk=ack.pk)
        return Response(AcknowledgementSerializer(ack).data)


def file_response(version: DocumentVersion) -> FileResponse:
    # Always a download: an uploaded HTML or SVG file must never render in our origin.
    response = FileResponse(version.file.open("rb"), as_attachment=True, filename=version.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


class DistributionEntryViewSet(TenantScopedMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                               mixins.DestroyModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Distribution lists of documents: roles, members and parties told of each issue."""

    queryset = DistributionEntry.unscoped.none()
    serializer_class = DistributionEntrySerializer
    capability_area = "document"
    action_capabilities = {"list": "document.view", "retrieve": "document.view", "create": "document.update",
                           "destroy": "document.update"}
    extra_query_params = ("document",)

    def scoped_queryset(self):
        qs = DistributionEntry.objects.select_related("user", "party", "document").order_by("document_id", "id")
        document = self.request.query_params.get("document", "")
        return qs.filter(document_id=int(document)) if document.isdigit() else qs

    def perform_destroy(self, instance):
        instance._history_user = self.request.user
        instance._change_reason = "Removed from the distribution list"
        instance.delete()


class AcknowledgementViewSet(TenantScopedMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                             viewsets.GenericViewSet):
    """Who was asked to read which issued version, and who has confirmed it.
    ``?mine=true&outstanding=true`` is the caller's to-do list."""

    queryset = Acknowledgement.unscoped.none()
    serializer_class = AcknowledgementSerializer
    filterset_class = AcknowledgementFilterSet
    capability_area = "document"
    action_capabilities = {"list": "document.view", "retrieve": "document.view", "acknowledge": "document.view"}

    def scoped_queryset(self):
        return Acknowledgement.objects.select_related("user", "version__document").order_by("-requested_at", "id")

    @extend_schema(request=None, responses=AcknowledgementSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        ack = self.get_object()
        if ack.user_id != request.user.pk:
            return Response({"detail": "Only the person asked can acknowledge."}, status=status.HTTP_403_FORBIDDEN)
        services.acknowledge(ack.version, user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=ack.pk)).data)


class ApprovalRuleViewSet(TenantModelViewSet):
    """Which roles approve which document types (4.3.2 a); types without a rule are
    approved by anyone holding ``document.approve``."""

    queryset = ApprovalRule.unscoped.none()
    serializer_class = ApprovalRuleSerializer
    filter_backends = [RejectUnknownQueryParams]
    action_capabilities = {
        "list": "document.view", "retrieve": "document.view", "create": "document.configure",
        "update": "document.configure", "partial_update": "document.configure", "destroy": "document.configure",
    }
