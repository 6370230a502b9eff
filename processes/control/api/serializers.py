"""Serializers of change management (clause 9.2)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sms.core.api.errors import validation_detail
from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer

from .. import services
from ..choices import RISK_QUESTIONS, Decision
from ..models import ApprovalRule, BlackoutWindow, Change, ChangeApproval, ChangePolicy, StandardChangeTemplate


@extend_schema_field(OpenApiTypes.INT)
class TenantRelated(serializers.PrimaryKeyRelatedField):
    """A row of the current tenant, looked up when the request runs (never at import)."""

    def __init__(self, queryset_factory, **kwargs):
        self._factory = queryset_factory
        super().__init__(**kwargs)

    def get_queryset(self):
        return self._factory()


def _services():
    from sms.cmdb.models import Service

    return Service.objects.all()


def _cis():
    from sms.cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.all()


def _ci_types():
    from sms.cmdb.models import CIType

    return CIType.objects.all()


# --- policy --------------------------------------------------------------------------------------
class ChangePolicySerializer(TenantModelSerializer):
    """The tenant's change management policy. ``controlled_ci_types`` lists the CI types
    under change control (the CMDB's flag on each type); sending it sets exactly those."""

    controlled_ci_types = TenantRelated(_ci_types, many=True, required=False)
    always_major = serializers.SerializerMethodField()
    risk_questions = serializers.SerializerMethodField()

    class Meta:
        model = ChangePolicy
        fields = [
            "id",
            "emergency_definition",
            "major_impact_criteria",
            "major_service_criticality",
            "major_min_services",
            "always_major",
            "risk_questions",
            "controlled_ci_types",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def get_risk_questions(self, obj) -> list[dict]:
        return [{"key": k, "question": q, "weight": w} for k, q, w in RISK_QUESTIONS]

    def get_always_major(self, obj) -> list[str]:
        return ["Removing a service", "Transferring a service to another party"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["controlled_ci_types"] = list(
            services.controlled_ci_types().filter(under_change_control=True).values_list("pk", flat=True)
        )
        return data

    def update(self, instance, validated_data):
        types = validated_data.pop("controlled_ci_types", None)
        instance = super().update(instance, validated_data)
        if types is not None:
            services.set_controlled_ci_types([t.pk for t in types], by=self.context["request"].user)
        return instance


class StandardChangeTemplateSerializer(TenantModelSerializer):
    approved_by = UserSummarySerializer(read_only=True)
    is_approved = serializers.BooleanField(read_only=True)

    class Meta:
        model = StandardChangeTemplate
        fields = [
            "id",
            "name",
            "description",
            "risk_level",
            "implementation_plan",
            "test_plan",
            "remediation_plan",
            "remediation_tested",
            "is_active",
            "is_approved",
            "approved_by",
            "approved_at",
            "approval_rationale",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["approved_at", "approval_rationale", "created_at", "updated_at"]


class ApprovalRuleSerializer(TenantModelSerializer):
    approvers = MemberField(many=True, required=False)
    approvers_detail = UserSummarySerializer(source="approvers", many=True, read_only=True)

    class Meta:
        model = ApprovalRule
        fields = [
            "id",
            "change_type",
            "risk_level",
            "rule",
            "quorum",
            "approver_role",
            "approvers",
            "approvers_detail",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate(self, attrs):
        approvers = attrs.pop("approvers", None)
        attrs = super().validate(attrs)
        role = attrs.get("approver_role", getattr(self.instance, "approver_role", ""))
        named = approvers if approvers is not None else (list(self.instance.approvers.all()) if self.instance else [])
        if not role and not named:
            raise serializers.ValidationError({"approver_role": ["Name a role or people who approve."]})
        if approvers is not None:
            attrs["approvers"] = approvers
        change_type = attrs.get("change_type", getattr(self.instance, "change_type", None))
        risk = attrs.get("risk_level", getattr(self.instance, "risk_level", None))
        clash = ApprovalRule.objects.filter(change_type=change_type, risk_level=risk)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"risk_level": ["There is already a rule for this type and risk level."]})
        return attrs


class BlackoutWindowSerializer(TenantModelSerializer):
    services = TenantRelated(_services, many=True, required=False)

    class Meta:
        model = BlackoutWindow
        fields = ["id", "name", "reason", "starts_at", "ends_at", "services", "updated_at"]
        read_only_fields = ["updated_at"]

    def validate(self, attrs):
        services_ = attrs.pop("services", None)
        attrs = super().validate(attrs)
        if services_ is not None:
            attrs["services"] = services_
        return attrs


# --- requests for change -------------------------------------------------------------------------
class ChangeApprovalSerializer(serializers.ModelSerializer):
    approver = UserSummarySerializer(read_only=True)
    change_reference = serializers.CharField(source="change.reference", read_only=True)

    class Meta:
        model = ChangeApproval
        fields = ["id", "change", "change_reference", "approver", "decision", "rationale", "decided_at"]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[Decision.APPROVED, Decision.REJECTED])
    rationale = serializers.CharField(max_length=4000, help_text="Why you approve or reject it.")


class GateSerializer(serializers.Serializer):
    reference = serializers.CharField()
    state = serializers.CharField()
    allowed = serializers.BooleanField(help_text="True: the deployment may go ahead now.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why not, when it may not.")
    planned_start = serializers.DateTimeField(allow_null=True)
    planned_end = serializers.DateTimeField(allow_null=True)
    checked_at = serializers.DateTimeField()


class RationaleSerializer(serializers.Serializer):
    rationale = serializers.CharField(max_length=4000, help_text="Why changes may follow it without further approval.")


def _ref(obj) -> dict:
    return {"id": obj.pk, "reference": obj.reference, "title": obj.title}


class ChangeSerializer(RecordSerializer):
    """A request for change. ``services`` and ``cis`` are its scope. A standard change
    names its ``template`` and takes the template's plans and risk. ``is_major`` is worked
    out from the tenant's policy; ``major_impact_reasons`` says why. Approval: the
    approvers' decisions are POSTed to ``decisions/``; the change is approved when the
    rule (all, any, or a quorum) is met and rejected on the first rejection."""

    services = TenantRelated(_services, many=True, required=False)
    cis = TenantRelated(_cis, many=True, required=False)
    template = TenantRelated(lambda: StandardChangeTemplate.objects.all(), required=False, allow_null=True)
    requester = MemberField(required=False, allow_null=True)
    requester_detail = UserSummarySerializer(source="requester", read_only=True)
    services_detail = serializers.SerializerMethodField()
    cis_detail = serializers.SerializerMethodField()
    approvals = ChangeApprovalSerializer(many=True, read_only=True)
    approval = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "change_type",
            "template",
            "requester",
            "requester_detail",
            "services",
            "services_detail",
            "cis",
            "cis_detail",
            "service_action",
            "is_major",
            "risk_level",
            "risk_answers",
            "planned_start",
            "planned_end",
            "implementation_plan",
            "test_plan",
            "remediation_plan",
            "remediation_tested",
            "remediation_test_notes",
            "security_impact",
            "continuity_impact",
            "capacity_impact",
            "cost_impact",
            "release_impact",
            "technical_feasibility",
            "business_benefit",
            "implementation_result",
            "outcome",
            "review_notes",
            "approval_rule",
            "approval_quorum",
            "approval",
            "approvals",
            "submitted_at",
            "approval_requested_at",
            "approved_at",
            "implementation_started_at",
            "implementation_ended_at",
            "closed_at",
        ]
        read_only_fields = ["state", "is_major", "approval_rule", "approval_quorum"]

    def get_services_detail(self, obj) -> list[dict]:
        return [_ref(s) for s in obj.services.all()]

    def get_cis_detail(self, obj) -> list[dict]:
        return [_ref(c) for c in obj.cis.all()]

    def get_approval(self, obj) -> dict | None:
        if not obj.approval_rule:
            return None
        status = services.approval_status(obj)
        return {
            "rule": status.rule,
            "needed": status.needed,
            "asked": status.asked,
            "approved": status.approved,
            "rejected": status.rejected,
            "satisfied": status.satisfied,
            "summary": status.summary,
        }

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate(self, attrs):
        many = {k: attrs.pop(k) for k in ("services", "cis") if k in attrs}
        attrs = super().validate(attrs)
        attrs.update(many)
        if self.instance is not None and not self.instance.is_editable:
            raise serializers.ValidationError(
                {"detail": [f"A change that is {self.instance.get_state_display().lower()} can no longer be edited."]}
            )
        return attrs

    def _save(self, change: Change, validated_data: dict) -> Change:
        data = dict(validated_data)
        scope = {k: data.pop(k) for k in ("services", "cis") if k in data}
        for key, value in data.items():
            setattr(change, key, value)
        try:
            return services.save_change(
                change,
                by=self.context["request"].user,
                reason=getattr(change, "_change_reason", "") or "",
                **scope,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc

    def create(self, validated_data):
        return self._save(Change(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)
