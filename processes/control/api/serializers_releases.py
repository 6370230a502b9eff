"""Serializers of release and deployment management (clause 9.3)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from sms.core.api.errors import validation_detail
from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer

from .. import services_releases as rs
from ..models import AcceptanceCriterion, Change, Release, ReleasePolicy
from ..release_choices import CriterionResult, ReleaseType
from .serializers import TenantRelated, _cis, _services


def _problems():
    from processes.resolution.models import Problem

    return Problem.objects.all()


def _known_errors():
    from processes.resolution.models import KnownError

    return KnownError.objects.all()


def _ref(obj) -> dict:
    return {"id": obj.pk, "reference": obj.reference, "title": obj.title}


class ReleasePolicySerializer(TenantModelSerializer):
    """A release policy: the tenant-wide one (``service`` null) or a service's own.
    ``release_types`` lists the agreed types (major, minor, emergency)."""

    service = TenantRelated(_services, required=False, allow_null=True)
    release_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ReleaseType.choices), allow_empty=False, required=False
    )

    class Meta:
        model = ReleasePolicy
        fields = [
            "id",
            "service",
            "release_types",
            "frequency",
            "emergency_definition",
            "incident_window_days",
            "agreed_with",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        service = attrs.get("service", getattr(self.instance, "service", None))
        clash = ReleasePolicy.objects.filter(service=service) if service else ReleasePolicy.objects.filter(
            service__isnull=True
        )
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(
                {"service": ["This service already has its own release policy." if service
                             else "There is already a tenant-wide release policy."]}
            )
        return attrs

    def _save(self, policy, validated_data):
        for key, value in validated_data.items():
            setattr(policy, key, value)
        try:
            return rs.save_policy(
                policy, by=self.context["request"].user, reason=self.context["request"].data.get("change_reason", "")
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc

    def create(self, validated_data):
        return self._save(ReleasePolicy(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class AcceptanceCriterionSerializer(TenantModelSerializer):
    """An acceptance criterion of a release. Agreed (``description``, ``agreed_with``)
    while the release is planned, built or tested; its result is recorded through
    ``POST .../result/`` while the release is in acceptance test."""

    release = TenantRelated(lambda: Release.objects.all())
    release_reference = serializers.CharField(source="release.reference", read_only=True)
    tested_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = AcceptanceCriterion
        fields = [
            "id",
            "release",
            "release_reference",
            "position",
            "description",
            "agreed_with",
            "result",
            "result_notes",
            "environment",
            "tested_at",
            "tested_by",
            "updated_at",
        ]
        read_only_fields = ["result", "result_notes", "environment", "tested_at", "updated_at"]

    def validate_description(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Say what must be true for the release to be accepted.")
        return value.strip()

    def validate_release(self, value):
        if self.instance is not None and value.pk != self.instance.release_id:
            raise serializers.ValidationError("A criterion stays with its release.")
        return value

    def _save(self, criterion, validated_data):
        for key, value in validated_data.items():
            setattr(criterion, key, value)
        try:
            return rs.save_criterion(
                criterion, by=self.context["request"].user, reason=self.context["request"].data.get("change_reason", "")
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc

    def create(self, validated_data):
        return self._save(AcceptanceCriterion(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class ResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=[CriterionResult.PASSED, CriterionResult.FAILED])
    notes = serializers.CharField(max_length=4000, help_text="What was tested and what was seen.")
    environment = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        help_text="The acceptance test environment; empty: the release's own.",
    )


class ReleaseSerializer(RecordSerializer):
    """A release (clause 9.3). ``services`` and ``cis`` are what it deploys into;
    ``changes`` the requests for change it implements; ``problems`` and
    ``known_errors`` what it fixes (moved on when it is deployed successfully).
    ``baseline`` is taken automatically when deployment starts; ``incidents_after`` counts
    the incidents on its CIs or linked to it from then to the end of the policy's period."""

    services = TenantRelated(_services, many=True, required=False)
    cis = TenantRelated(_cis, many=True, required=False)
    changes = TenantRelated(lambda: Change.objects.all(), many=True, required=False)
    problems = TenantRelated(_problems, many=True, required=False)
    known_errors = TenantRelated(_known_errors, many=True, required=False)
    release_manager = MemberField(required=False, allow_null=True)
    release_manager_detail = UserSummarySerializer(source="release_manager", read_only=True)
    approved_by = UserSummarySerializer(read_only=True)
    services_detail = serializers.SerializerMethodField()
    cis_detail = serializers.SerializerMethodField()
    changes_detail = serializers.SerializerMethodField()
    problems_detail = serializers.SerializerMethodField()
    known_errors_detail = serializers.SerializerMethodField()
    criteria = AcceptanceCriterionSerializer(many=True, read_only=True)
    baseline_detail = serializers.SerializerMethodField()
    incidents_after = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "release_type",
            "release_manager",
            "release_manager_detail",
            "services",
            "services_detail",
            "cis",
            "cis_detail",
            "changes",
            "changes_detail",
            "problems",
            "problems_detail",
            "known_errors",
            "known_errors_detail",
            "planned_start",
            "planned_end",
            "deliverables",
            "deployment_method",
            "deployment_plan",
            "test_environment",
            "rollback_plan",
            "rollback_tested",
            "rollback_test_notes",
            "criteria",
            "baseline",
            "baseline_detail",
            "approved_by",
            "approved_at",
            "deployment_started_at",
            "deployment_ended_at",
            "outcome",
            "deployment_result",
            "follow_up",
            "incident_window_days",
            "incident_period_end",
            "incidents_after",
            "review_notes",
            "closed_at",
        ]
        read_only_fields = ["state", "baseline"]

    def get_services_detail(self, obj) -> list[dict]:
        return [_ref(x) for x in obj.services.all()]

    def get_cis_detail(self, obj) -> list[dict]:
        return [_ref(x) for x in obj.cis.all()]

    def get_changes_detail(self, obj) -> list[dict]:
        return [{**_ref(x), "state": x.state, "change_type": x.change_type} for x in obj.changes.all()]

    def get_problems_detail(self, obj) -> list[dict]:
        return [{**_ref(x), "state": x.state} for x in obj.problems.all()]

    def get_known_errors_detail(self, obj) -> list[dict]:
        return [{**_ref(x), "state": x.state} for x in obj.known_errors.all()]

    def get_baseline_detail(self, obj) -> dict | None:
        b = obj.baseline
        if b is None:
            return None
        return {"id": b.pk, "name": b.name, "taken_at": b.taken_at, "item_count": b.item_count, "sha256": b.sha256}

    def get_incidents_after(self, obj) -> int:
        count = getattr(obj, "incidents_after_count", None)
        return count if count is not None else rs.incidents_after(obj).count()

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate(self, attrs):
        many = {k: attrs.pop(k) for k in rs.RELATIONS if k in attrs}
        attrs = super().validate(attrs)
        attrs.update(many)
        if self.instance is not None and not self.instance.is_editable and set(attrs) - {"review_notes"}:
            raise serializers.ValidationError(
                {"detail": [f"A release that is {self.instance.get_state_display().lower()} can no longer be "
                            "edited; only its analysis (review_notes) is recorded once it is deployed."]}
            )
        editable = self.instance is None or self.instance.is_editable
        if editable and (attrs.get("review_notes") or "").strip():
            raise serializers.ValidationError(
                {"review_notes": ["The success or failure analysis is recorded once the release is deployed."]}
            )
        return attrs

    def _save(self, release: Release, validated_data: dict) -> Release:
        data = dict(validated_data)
        relations = {k: data.pop(k) for k in rs.RELATIONS if k in data}
        for key, value in data.items():
            setattr(release, key, value)
        request = self.context["request"]
        try:
            if release.pk is not None and not release.is_editable:
                return rs.save_review(release, by=request.user, notes=data.get("review_notes", ""))
            return rs.save_release(
                release, by=request.user, reason=getattr(release, "_change_reason", "") or "", **relations
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc

    def create(self, validated_data):
        return self._save(Release(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)
