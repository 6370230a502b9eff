from rest_framework import serializers

from sms.core.api.serializers import RecordSerializer, TenantModelSerializer, UserSummarySerializer
from sms.core.registry import kinds

from ..models import DisposalItem, DisposalRun, LegalHold, RetentionRule, Tombstone


class RetentionRuleSerializer(TenantModelSerializer):
    record_kind = serializers.ChoiceField(choices=[])

    class Meta:
        model = RetentionRule
        fields = ["id", "record_kind", "retain_months", "action", "rationale", "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_kind"].choices = [k.code for k in kinds]

    def validate_record_kind(self, value):
        qs = RetentionRule.objects.filter(record_kind=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("This kind of record already has a retention rule.")
        return value


class LegalHoldSerializer(TenantModelSerializer):
    record_kind = serializers.ChoiceField(choices=[])
    released_by = UserSummarySerializer(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "record_kind",
            "object_id",
            "reference",
            "reason",
            "is_active",
            "created_at",
            "released_at",
            "released_by",
            "release_reason",
        ]
        read_only_fields = ["reference", "created_at", "released_at", "release_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_kind"].choices = [k.code for k in kinds]

    def validate(self, attrs):
        kind = kinds.get(attrs["record_kind"])
        if not kind.model.objects.filter(pk=attrs["object_id"]).exists():
            raise serializers.ValidationError({"object_id": [f"No {kind.label} with id {attrs['object_id']}."]})
        if LegalHold.objects.filter(
            record_kind=kind.code, object_id=attrs["object_id"], released_at__isnull=True
        ).exists():
            raise serializers.ValidationError({"object_id": ["This record is already on hold."]})
        return attrs


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DisposalItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisposalItem
        fields = ["id", "record_kind", "object_id", "reference", "title", "closed_at", "rule", "outcome", "note"]


class DisposalRunSerializer(RecordSerializer):
    approved_by = UserSummarySerializer(read_only=True)
    executed_by = UserSummarySerializer(read_only=True)
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = DisposalRun
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "approved_by",
            "approved_at",
            "executed_by",
            "executed_at",
            "item_count",
        ]


class TombstoneSerializer(serializers.ModelSerializer):
    executed_by = UserSummarySerializer(read_only=True)
    run_reference = serializers.CharField(source="run.reference", read_only=True)

    class Meta:
        model = Tombstone
        fields = [
            "id",
            "record_kind",
            "reference",
            "record_created_at",
            "closed_at",
            "action",
            "rule_summary",
            "run",
            "run_reference",
            "executed_by",
            "executed_at",
            "archive_sha256",
        ]
