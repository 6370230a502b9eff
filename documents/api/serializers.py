from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from sms.core.api.errors import validation_detail
from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer
from sms.core.models import Attachment
from sms.tenancy.roles import Role

from .. import services
from ..choices import VersionState
from ..models import Acknowledgement, ApprovalRule, DistributionEntry, Document, DocumentVersion


class DocumentField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": "No document {pk_value} in this tenant."}

    def get_queryset(self):
        return Document.objects.all()


class PartyField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": "No party {pk_value} in this tenant."}

    def get_queryset(self):
        from sms.parties.models import Party

        return Party.objects.all()


class VersionSummarySerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    approved_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = DocumentVersion
        fields = ["id", "number", "state", "state_label", "change_summary", "approved_by", "approved_at",
                  "issued_at"]


class DocumentSerializer(RecordSerializer):
    processes = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    clauses = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    current_version = VersionSummarySerializer(read_only=True)
    review_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Document
        fields = [
            *RecordSerializer.RECORD_FIELDS, "state", "state_label", "document_type", "classification",
            "owning_role", "processes", "clauses", "review_interval_months", "next_review_date", "review_overdue",
            "last_reviewed_at", "current_version", "origin", "external_reference", "version_received",
            "received_on", "copy_holders",
        ]
        read_only_fields = ["state", "last_reviewed_at"]

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate(self, attrs):
        # The model's clean() normalises and checks the lists too, so run it on everything.
        attrs = serializers.ModelSerializer.validate(self, attrs)
        instance = self.instance or Document()
        original = {k: getattr(instance, k, None) for k in attrs}
        try:
            for key, value in attrs.items():
                setattr(instance, key, value)
            instance.clean()
            for key in ("processes", "clauses"):
                if key in attrs:
                    attrs[key] = getattr(instance, key)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        finally:
            if self.instance is not None:
                for key, value in original.items():
                    setattr(self.instance, key, value)
        return attrs


class DocumentVersionSerializer(TenantModelSerializer):
    document = DocumentField()
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    content_html = serializers.SerializerMethodField()
    file = serializers.FileField(write_only=True, required=False)
    created_by = UserSummarySerializer(read_only=True)
    approved_by = UserSummarySerializer(read_only=True)
    issued_by = UserSummarySerializer(read_only=True)
    is_obsolete = serializers.BooleanField(read_only=True)
    acknowledgements_requested = serializers.IntegerField(read_only=True, default=None)
    acknowledgements_outstanding = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = DocumentVersion
        fields = [
            "id", "document", "number", "state", "state_label", "is_obsolete", "change_summary", "reason",
            "content", "content_html", "file", "filename", "file_content_type", "file_size", "sha256",
            "created_by", "created_at", "submitted_at", "approved_by", "approved_at", "approval_note",
            "issued_by", "issued_at", "obsolete_at", "superseded_by", "withdrawal_reason",
            "acknowledgements_requested", "acknowledgements_outstanding",
        ]
        read_only_fields = [f for f in fields if f not in ("document", "change_summary", "reason", "content", "file")]

    def get_content_html(self, obj) -> str:
        return str(obj.content_html)

    def validate_file(self, upload):
        try:
            Attachment.validate_upload(upload)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["file"]) from exc
        return upload

    def validate_document(self, document):
        if self.instance is not None and document.pk != self.instance.document_id:
            raise serializers.ValidationError("A version stays with its document.")
        return document

    def validate(self, attrs):
        if self.instance is not None and self.instance.state != VersionState.DRAFT:
            raise serializers.ValidationError(
                {"non_field_errors": ["Only a draft can be edited; draft a new version instead."]}
            )
        return attrs

    def create(self, validated_data):
        user = self.context["request"].user
        try:
            return services.create_version(
                validated_data["document"], by=user, change_summary=validated_data.get("change_summary", ""),
                reason=validated_data.get("reason", ""), content=validated_data.get("content", ""),
                upload=validated_data.get("file"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc

    def update(self, instance, validated_data):
        validated_data.pop("document", None)
        upload = validated_data.pop("file", None)
        try:
            return services.update_draft(instance, by=self.context["request"].user, upload=upload, **validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc


class DistributionEntrySerializer(TenantModelSerializer):
    document = DocumentField()
    role = serializers.ChoiceField(choices=Role.choices, required=False, allow_blank=True, default="")
    user = MemberField(required=False, allow_null=True, default=None)
    party = PartyField(required=False, allow_null=True, default=None)
    recipient = serializers.CharField(source="recipient_label", read_only=True)

    class Meta:
        model = DistributionEntry
        fields = ["id", "document", "role", "user", "party", "recipient", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        given = [k for k in ("role", "user", "party") if attrs.get(k)]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": ["Name exactly one recipient: a role, a user or a party."]}
            )
        key = given[0]
        if DistributionEntry.objects.filter(document=attrs["document"], **{key: attrs[key]}).exists():
            raise serializers.ValidationError({key: ["Already on this document's distribution list."]})
        return attrs

    def create(self, validated_data):
        return services.add_distribution(validated_data.pop("document"), by=self.context["request"].user,
                                         **validated_data)


class AcknowledgementSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    document = serializers.SerializerMethodField()
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    version_state = serializers.CharField(source="version.state", read_only=True)

    class Meta:
        model = Acknowledgement
        fields = ["id", "version", "version_number", "version_state", "document", "user", "requested_at",
                  "acknowledged_at"]
        read_only_fields = fields

    def get_document(self, obj) -> dict:
        doc = obj.version.document
        return {"id": doc.pk, "reference": doc.reference, "title": doc.title}


class ReviewSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ApprovalRuleSerializer(TenantModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)

    class Meta:
        model = ApprovalRule
        fields = ["id", "document_type", "roles", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_document_type(self, value):
        qs = ApprovalRule.objects.filter(document_type=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("This document type already has an approval rule.")
        return value

    def validate(self, attrs):
        # The model's clean() needs the roles list, which the generic validation leaves out.
        probe = ApprovalRule(document_type=attrs.get("document_type", getattr(self.instance, "document_type", "")),
                             roles=attrs.get("roles", getattr(self.instance, "roles", [])))
        try:
            probe.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        attrs["roles"] = probe.roles
        return attrs
