"""Base viewsets: tenant-scoped CRUD, and the generic actions every record kind gets."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from sms.core import services
from sms.core.filters import PlannedActivityFilterSet
from sms.core.models import Attachment, JournalEntry, PlannedActivity, RecordLink, Watcher
from sms.core.registry import kinds
from sms.core.search import search
from sms.core.workflow import available_transitions, run_transition

from . import serializers as s


class TenantScopedMixin:
    """Querysets come from the model's tenant-scoped default manager, so another
    tenant's ids are simply not found (404). Subclasses override ``scoped_queryset``."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return self.queryset.model.unscoped.none()
        return self.scoped_queryset()

    def scoped_queryset(self):
        return self.queryset.model.objects.all()

    def perform_update(self, serializer):
        # Why it changed goes into the history; a viewset whose serializer validates the
        # reason (e.g. CIs under change control) overrides this.
        serializer.instance._change_reason = self.request.data.get("change_reason") or "Updated through the API"
        serializer.save()


class TenantModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    """CRUD on one tenant-scoped model."""

    capability_area: str = ""
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]


class RecordViewSet(TenantScopedMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                    mixins.ListModelMixin, viewsets.GenericViewSet):
    """A record kind's endpoints plus transitions, journal, attachments, links,
    watchers and history. Records are never deleted through the API (clause 4.3.3):
    they are cancelled or closed through their workflow."""

    capability_area: str = ""
    select_related: tuple[str, ...] = ("owner", "created_by", "updated_by")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    search_fields = ["reference", "title", "description"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        area = self.capability_area
        return {
            "transitions": f"{area}.view",
            "take_transition": f"{area}.view",  # the transition's own capability is checked by the service
            "journal": f"{area}.view",
            "add_journal": "journal.add",
            "attachments": f"{area}.view",
            "add_attachment": "attachment.add",
            "links": f"{area}.view",
            "add_link": "link.add",
            "delete_link": "link.delete",
            "watchers": f"{area}.view",
            "watch": "watch.manage",
            "unwatch": "watch.manage",
            "history": f"{area}.view",
        }

    def scoped_queryset(self):
        return self.queryset.model.objects.select_related(*self.select_related)

    def perform_create(self, serializer):
        serializer.save()

    # --- transitions -----------------------------------------------------------------
    @extend_schema(responses=s.TransitionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def transitions(self, request, pk=None):
        record = self.get_object()
        data = [t.__dict__ for t in available_transitions(record, request.user)]
        return Response(s.TransitionSerializer(data, many=True).data)

    @extend_schema(request=s.TransitionRequestSerializer, responses=None)
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[a-z_]+)")
    def take_transition(self, request, pk=None, name=None):
        record = self.get_object()
        body = s.TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = run_transition(record, name, by=request.user, reason=body.validated_data["reason"])
        return Response(self.get_serializer(record).data)

    # --- journal ---------------------------------------------------------------------
    def _record_filter(self, record):
        return {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}

    @extend_schema(responses=s.JournalEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def journal(self, request, pk=None):
        record = self.get_object()
        qs = JournalEntry.objects.filter(**self._record_filter(record)).select_related("author")
        return self.get_paginated_response(
            s.JournalEntrySerializer(self.paginate_queryset(qs), many=True).data
        )

    @extend_schema(request=s.JournalEntrySerializer, responses=s.JournalEntrySerializer)
    @journal.mapping.post
    def add_journal(self, request, pk=None):
        record = self.get_object()
        ser = s.JournalEntrySerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        entry = services.add_journal_entry(record, by=request.user, **ser.validated_data)
        return Response(s.JournalEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    # --- attachments -----------------------------------------------------------------
    @extend_schema(responses=s.AttachmentSerializer(many=True))
    @action(detail=True, methods=["get"])
    def attachments(self, request, pk=None):
        record = self.get_object()
        qs = Attachment.objects.filter(**self._record_filter(record)).select_related("uploaded_by")
        return self.get_paginated_response(
            s.AttachmentSerializer(self.paginate_queryset(qs), many=True).data
        )

    @extend_schema(request={"multipart/form-data": s.AttachmentSerializer}, responses=s.AttachmentSerializer)
    @attachments.mapping.post
    def add_attachment(self, request, pk=None):
        record = self.get_object()
        ser = s.AttachmentSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        attachment = services.attach_file(record, ser.validated_data["file"], by=request.user)
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    # --- links -----------------------------------------------------------------------
    @extend_schema(responses=s.RecordLinkSerializer(many=True))
    @action(detail=True, methods=["get"])
    def links(self, request, pk=None):
        record = self.get_object()
        ct = ContentType.objects.get_for_model(record)
        qs = RecordLink.objects.filter(
            Q(source_type=ct, source_id=record.pk) | Q(target_type=ct, target_id=record.pk)
        ).prefetch_related("source", "target")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.RecordLinkSerializer(page, many=True).data)

    @extend_schema(request=s.RecordLinkSerializer, responses=s.RecordLinkSerializer)
    @links.mapping.post
    def add_link(self, request, pk=None):
        record = self.get_object()
        ser = s.RecordLinkSerializer(data=request.data, context={"record": record, "request": request})
        ser.is_valid(raise_exception=True)
        link = services.link_records(record, by=request.user, **ser.validated_data)
        return Response(s.RecordLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>[0-9]+)")
    def delete_link(self, request, pk=None, link_id=None):
        record = self.get_object()
        ct = ContentType.objects.get_for_model(record)
        link = get_object_or_404(
            RecordLink.objects.filter(Q(source_type=ct, source_id=record.pk) | Q(target_type=ct, target_id=record.pk)),
            pk=link_id,
        )
        services.unlink_records(link, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- watchers --------------------------------------------------------------------
    @extend_schema(responses=s.WatcherSerializer(many=True))
    @action(detail=True, methods=["get"])
    def watchers(self, request, pk=None):
        record = self.get_object()
        qs = Watcher.objects.filter(**self._record_filter(record)).select_related("user")
        return Response(s.WatcherSerializer(qs, many=True).data)

    @extend_schema(request=None, responses=s.WatcherSerializer)
    @watchers.mapping.post
    def watch(self, request, pk=None):
        record = self.get_object()
        watcher = services.watch(record, request.user)
        return Response(s.WatcherSerializer(watcher).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @watchers.mapping.delete
    def unwatch(self, request, pk=None):
        record = self.get_object()
        Watcher.objects.filter(user=request.user, **self._record_filter(record)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- history ---------------------------------------------------------------------
    @extend_schema(responses=s.HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        record = self.get_object()
        rows = list(record.history.select_related("history_user").order_by("-history_date", "-history_id")[:200])
        for newer, older in zip(rows, rows[1:], strict=False):
            newer._prev = older
        return Response(s.HistorySerializer(rows, many=True).data)


class PlannedActivityViewSet(TenantModelViewSet):
    """Activities the SMS performs at planned intervals; ``?due=overdue|30`` filters."""

    queryset = PlannedActivity.unscoped.none()
    serializer_class = s.PlannedActivitySerializer
    capability_area = "planned"
    filterset_class = PlannedActivityFilterSet
    ordering_fields = ["next_due", "title", "kind"]
    search_fields = ["title", "description"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {
            "list": "planned.view", "retrieve": "planned.view",
            "create": "planned.manage", "update": "planned.manage", "partial_update": "planned.manage",
            "destroy": "planned.manage", "complete": "planned.complete",
        }

    def scoped_queryset(self):
        return PlannedActivity.objects.select_related("owner")

    def perform_destroy(self, instance):
        # Planned activities are evidence of the planning itself: deactivate, keep history.
        instance.is_active = False
        instance.save(reason="Deactivated through the API")

    @extend_schema(request=None, responses=s.PlannedActivitySerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        activity = self.get_object()
        activity._history_user = request.user
        activity.complete(reason=request.data.get("reason", "") if hasattr(request.data, "get") else "")
        return Response(self.get_serializer(activity).data)


class SearchQuerySerializer(s.serializers.Serializer):
    q = s.serializers.CharField(max_length=200, help_text="Words, a quoted phrase, or a reference such as IMP-12.")
    kind = s.serializers.ChoiceField(choices=[], required=False, help_text="Restrict to one kind of record.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [k.code for k in kinds]


class SearchHitSerializer(s.serializers.Serializer):
    kind = s.serializers.CharField(source="kind.code")
    id = s.serializers.IntegerField(source="pk")
    reference = s.serializers.CharField()
    title = s.serializers.CharField()
    rank = s.serializers.FloatField()
    headline = s.serializers.CharField(help_text="Matching text, HTML-escaped, matches in <mark>.")


class SearchView(APIView):
    """Full-text search across every record kind the caller may read, in their tenant."""

    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchHitSerializer(many=True))
    def get(self, request):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        hits = search(request._request.membership, params.validated_data["q"],
                      kind=params.validated_data.get("kind") or None)
        return Response({"count": len(hits), "results": SearchHitSerializer(hits, many=True).data})
