"""The notification outbox over the API: read it, and retry what did not go out."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sms.core import outbox
from sms.core.filters import OutboundMessageFilterSet
from sms.core.models import OutboundMessage

from .serializers import record_ref
from .views import TenantScopedMixin


class OutboundMessageSerializer(serializers.ModelSerializer):
    record = serializers.SerializerMethodField()
    can_retry = serializers.BooleanField(read_only=True)

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "recipient",
            "subject",
            "body",
            "topic",
            "record",
            "status",
            "attempts",
            "last_error",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "sent_at",
            "can_retry",
        ]
        read_only_fields = fields

    def get_record(self, obj) -> dict | None:
        return record_ref(obj.record) if obj.content_type_id else None


class OutboundMessageViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """E-mail the SMS sent or is about to send (``?status=queued|sent|failed``). Messages
    are written by the events they report and cannot be created or changed here; a
    failed one can be put back in the queue (``POST .../retry/``)."""

    queryset = OutboundMessage.unscoped.none()
    serializer_class = OutboundMessageSerializer
    filterset_class = OutboundMessageFilterSet
    capability_area = "outbox"
    action_capabilities = {"retry": "outbox.retry"}
    ordering_fields = ["created_at", "next_attempt_at", "status", "attempts"]
    search_fields = ["recipient", "subject"]
    http_method_names = ["get", "post", "head", "options"]

    def scoped_queryset(self):
        return OutboundMessage.objects.select_related("content_type").prefetch_related("record")

    @extend_schema(request=None, responses=OutboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        message = outbox.retry(self.get_object())
        return Response(self.get_serializer(message).data)
