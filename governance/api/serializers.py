from rest_framework import serializers

from sms.core.api.serializers import RecordSerializer, UserSummarySerializer

from ..models import Improvement


class ImprovementSerializer(RecordSerializer):
    decided_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = Improvement
        fields = [
            *RecordSerializer.RECORD_FIELDS, "state", "state_label", "improvement_type", "source", "priority",
            "dimension", "target", "due_date", "result", "decision_rationale", "decided_by", "decided_at",
        ]
        read_only_fields = ["state", "decision_rationale", "decided_at"]

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()
