"""Serializers of the look back on changes (clause 9.2): a failed change's
investigation and the change trend reports."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from sms.core.api.serializers import MemberField, TenantModelSerializer, UserSummarySerializer

from ..models import ChangeTrendReport
from ..services_review import MAX_ACTIONS


class AgreedActionSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, help_text="What is to be done.")
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    owner = MemberField(required=False, allow_null=True, help_text="Who does it (default: you).")
    due_date = serializers.DateField(required=False, allow_null=True)

    def validate_due_date(self, value):
        if value is not None and value < timezone.localdate():
            raise serializers.ValidationError("The due date is in the past.")
        return value


class InvestigationInputSerializer(serializers.Serializer):
    """Record the investigation of a failed change: ``findings`` (what went wrong and why)
    and the ``actions`` agreed. Each action becomes a corrective action (an improvement)
    raised from the change; sending more actions later adds to them."""

    findings = serializers.CharField(max_length=20000)
    actions = AgreedActionSerializer(many=True, required=False, default=list, max_length=MAX_ACTIONS)


class ImprovementRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    owner = UserSummarySerializer(allow_null=True)
    due_date = serializers.DateField(allow_null=True)


class InvestigationSerializer(serializers.Serializer):
    change = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    outcome = serializers.CharField()
    needed = serializers.BooleanField(help_text="True when the change failed: it is closed only once investigated.")
    findings = serializers.CharField(source="investigation_findings")
    investigated_at = serializers.DateTimeField(allow_null=True)
    investigated_by = UserSummarySerializer(allow_null=True)
    actions = ImprovementRefSerializer(many=True)


class ChangeTrendReportSerializer(TenantModelSerializer):
    """An analysis of the changes of a period. POST ``period_start``, ``period_end`` (and
    optionally ``incident_window_days``) to compute one; the figures are read-only.
    ``conclude/`` records the process owner's conclusions."""

    reviewed_by = UserSummarySerializer(read_only=True)
    created_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = ChangeTrendReport
        fields = [
            "id",
            "period_start",
            "period_end",
            "incident_window_days",
            "figures",
            "activity",
            "conclusions",
            "reviewed_by",
            "reviewed_at",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["figures", "activity", "conclusions", "reviewed_at", "created_at"]


class ConclusionsSerializer(serializers.Serializer):
    conclusions = serializers.CharField(max_length=20000, help_text="What the figures tell and what follows.")
