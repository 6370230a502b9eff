"""API of the schedule of change (clause 9.2), mixed into the change viewset:
``GET /changes/schedule/`` lists the changes of a date range with their conflicts, and
``POST /changes/{id}/reschedule/`` moves an approved or scheduled change."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sms.core.api.errors import validation_detail

from .. import schedule
from ..choices import ChangeState, ChangeType


def _services():
    from sms.cmdb.models import Service

    return Service.objects.all()


class ScheduleQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the range (a date is read as midnight, tenant time).")
    end = serializers.DateTimeField(
        help_text=f"End of the range, exclusive; at most {schedule.MAX_RANGE_DAYS} days after the start."
    )
    service = serializers.IntegerField(required=False, help_text="Only changes touching this service (or its CIs).")
    change_type = serializers.ChoiceField(choices=ChangeType.choices, required=False)
    state = serializers.ListField(
        child=serializers.ChoiceField(choices=ChangeState.choices),
        required=False,
        help_text="Only these states (repeat the parameter). Default: all but drafts, rejected and cancelled.",
    )

    def to_internal_value(self, data):
        # Dates alone are accepted as the start of that day in the current time zone.
        data = data.copy()
        for name in ("start", "end"):
            value = data.get(name)
            if isinstance(value, str) and len(value) == 10:
                try:
                    day = dt.date.fromisoformat(value)
                except ValueError:
                    continue
                data[name] = timezone.make_aware(dt.datetime.combine(day, dt.time())).isoformat()
        if hasattr(data, "getlist"):
            states = [s for s in data.getlist("state") if s]
            data = {k: data.get(k) for k in data if k != "state"} | ({"state": states} if states else {})
        return super().to_internal_value(data)

    def validate_service(self, value):
        if not _services().filter(pk=value).exists():
            raise serializers.ValidationError("No such service in this tenant.")
        return value


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    shares = serializers.ListField(child=serializers.CharField(), help_text="What the two changes share, in words.")


class BlackoutRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    services = serializers.SerializerMethodField(help_text="Service ids; empty: every service.")

    def get_services(self, obj) -> list[int]:
        return [s.pk for s in obj.services.all()]


class ScheduleEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="change.pk")
    reference = serializers.CharField(source="change.reference")
    title = serializers.CharField(source="change.title")
    state = serializers.CharField(source="change.state")
    change_type = serializers.CharField(source="change.change_type")
    risk_level = serializers.CharField(source="change.risk_level")
    is_major = serializers.BooleanField(source="change.is_major")
    planned_start = serializers.DateTimeField(source="change.planned_start")
    planned_end = serializers.DateTimeField(source="change.planned_end")
    has_conflicts = serializers.BooleanField(source="flagged")
    conflicts = ConflictSerializer(many=True)
    blackouts = serializers.SerializerMethodField()

    def get_blackouts(self, obj) -> list[dict]:
        return [{"id": b.pk, "name": b.name} for b in obj.blackouts]


class ScheduleSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    count = serializers.SerializerMethodField()
    changes = ScheduleEntrySerializer(many=True, source="entries")
    blackouts = BlackoutRefSerializer(many=True)

    def get_count(self, obj) -> int:
        return len(obj.entries)


class RescheduleSerializer(serializers.Serializer):
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    reason = serializers.CharField(max_length=500, help_text="Why the change moves (kept in its history and told).")


class ScheduleActions:
    """Mixed into ``ChangeViewSet`` (before ``RecordViewSet``)."""

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {**super().action_capabilities, "schedule": "change.view", "reschedule": "change.transition"}

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "action", None) == "conflicts":
            # Conflict detection reads the change's scope itself: the list's prefetches
            # (scope, approvals) would be wasted queries on every check.
            qs = qs.prefetch_related(None)
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True, description="Start of the range."),
            OpenApiParameter("end", OpenApiTypes.DATETIME, required=True, description="End of the range (exclusive)."),
            OpenApiParameter("service", OpenApiTypes.INT, description="Only changes touching this service."),
            OpenApiParameter("change_type", OpenApiTypes.STR, enum=ChangeType.values),
            OpenApiParameter("state", OpenApiTypes.STR, many=True, enum=ChangeState.values),
        ],
        responses=ScheduleSerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def schedule(self, request):
        """The schedule of change: changes whose planned window overlaps the range, by
        planned start, each with the changes it conflicts with (same service, same CI or
        a directly related CI, overlapping windows) and the blackout windows it falls in;
        and the blackout windows in the range."""
        query = ScheduleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            start, end = schedule.parse_range(data["start"], data["end"])
        except DjangoValidationError as exc:
            raise ValidationError(validation_detail(exc)) from exc
        result = schedule.schedule(
            start,
            end,
            service=data.get("service"),
            change_type=data.get("change_type", ""),
            states=data.get("state") or None,
        )
        return Response(ScheduleSerializer(result).data)

    @extend_schema(request=RescheduleSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move an approved or scheduled change to a new planned window, with the reason.
        The interested parties of the affected services are told (once per move)."""
        change = self.get_object()
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            schedule.reschedule(change, by=request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(validation_detail(exc)) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=change.pk)).data)
