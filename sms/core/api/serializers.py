"""Base serializers: tenant-safe relations, model validation, the record envelope."""

from __future__ import annotations

import copy

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import serializers

from sms.core.api.errors import validation_detail
from sms.core.api.related import BatchedFieldMixin
from sms.core.models import Attachment, JournalEntry, PlannedActivity, RecordLink, Watcher
from sms.core.registry import activity_kinds, kinds
from sms.tenancy import context

User = get_user_model()


def tenant_members():
    """Users with an active membership in the current tenant."""
    return User.objects.filter(
        memberships__tenant_id=context.require_tenant().pk, memberships__is_active=True, is_active=True
    )


class MemberField(BatchedFieldMixin, serializers.PrimaryKeyRelatedField):
    """A user id that must belong to a member of the current tenant."""

    default_error_messages = {
        "does_not_exist": "User {pk_value} is not a member of this tenant.",
        "incorrect_type": "Expected a user id, got {data_type}.",
    }

    def get_queryset(self):
        return tenant_members()


class PrototypeFieldsMixin:
    """For a ModelSerializer: the fields it builds from its model are built once per class
    and copied for each instance. DRF builds them (model introspection, validators, field
    arguments) every time a serializer is made, which on a record's endpoint costs more
    than reading the record.

    A class whose built fields hold a queryset evaluated when they were built (a model
    field's ``limit_choices_to`` applied to a tenant-scoped manager would fix the tenant of
    the first request) keeps building them every time: declare such a field with a
    ``get_queryset`` instead, as the record serializers do."""

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = super().get_fields()
            cls._prototype_fields = _UNCACHEABLE if _holds_queryset(prototype.values()) else prototype
        if prototype is _UNCACHEABLE:
            return super().get_fields()
        return {name: _copy_field(field) for name, field in prototype.items()}


_UNCACHEABLE = object()


def _copy_field(field):
    """A prototype field ready to be bound to a new serializer. A plain field is copied
    shallowly (binding only sets attributes on the copy; its lists and dicts are copied so
    that changing them changes only the copy); a to-many relation gets its own copy of its
    child; a nested serializer, which holds bound fields of its own, is copied as DRF copies
    declared fields."""
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))  # what copy.copy does, without its reduce protocol
    clone.__dict__.update(field.__dict__)
    if isinstance(field, serializers.ManyRelatedField):  # its one child, bound to the copy
        clone.child_relation = _copy_field(field.child_relation)
        clone.child_relation.parent = clone  # bound once already (as DRF binds it, to "")
    if "_validators" in clone.__dict__:
        clone._validators = list(clone._validators)
    clone.error_messages = dict(clone.error_messages)
    return clone


def _holds_queryset(fields) -> bool:
    for field in fields:
        for candidate in (field, getattr(field, "child_relation", None)):
            if isinstance(getattr(candidate, "queryset", None), QuerySet):
                return True
    return False


class UserSummarySerializer(PrototypeFieldsMixin, serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, obj) -> str:
        return obj.get_full_name() or obj.username


class TenantModelSerializer(PrototypeFieldsMixin, serializers.ModelSerializer):
    """Related fields resolve through the tenant-scoped default managers (so another
    tenant's ids are "does not exist"), and the model's ``clean()`` runs on input."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        if not hasattr(model, "clean"):
            return attrs
        instance = self.instance or model()
        if self.instance is None:
            self._validated_instance = instance
        original = {k: getattr(instance, k, None) for k in attrs}
        simple = {k: v for k, v in attrs.items() if not isinstance(v, list)}
        try:
            for key, value in simple.items():
                setattr(instance, key, value)
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        finally:
            if self.instance is not None:
                for key in simple:
                    setattr(self.instance, key, original[key])
        return attrs

    def new_instance(self):
        """For ``create``: the new, unsaved instance that ``clean()`` passed on (its simple
        fields already set), or an empty one when validation built none."""
        instance = getattr(self, "_validated_instance", None)
        return instance if instance is not None else self.Meta.model()


class RecordSerializer(TenantModelSerializer):
    """The fields every record kind shares."""

    reference = serializers.CharField(read_only=True)
    owner = MemberField(required=False, allow_null=True)
    owner_detail = UserSummarySerializer(source="owner", read_only=True)
    created_by = UserSummarySerializer(read_only=True)
    updated_by = UserSummarySerializer(read_only=True)
    state_label = serializers.SerializerMethodField()

    RECORD_FIELDS = [
        "id", "reference", "title", "description", "owner", "owner_detail",
        "created_at", "created_by", "updated_at", "updated_by",
    ]

    def get_state_label(self, obj) -> str | None:
        return obj.get_state_display() if hasattr(obj, "get_state_display") else None


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    target = serializers.CharField()
    reason_required = serializers.BooleanField()
    allowed = serializers.BooleanField()
    blocked_by = serializers.ListField(child=serializers.CharField())


class TransitionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class JournalEntrySerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True)

    class Meta:
        model = JournalEntry
        fields = ["id", "body", "visibility", "author", "created_at"]
        read_only_fields = ["author", "created_at"]
        extra_kwargs = {"body": {"error_messages": {"blank": "Write something."}}}

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Write something.")
        return value


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = UserSummarySerializer(read_only=True)
    file = serializers.FileField(write_only=True)

    class Meta:
        model = Attachment
        fields = ["id", "file", "filename", "content_type_header", "size", "sha256", "uploaded_by", "created_at"]
        read_only_fields = ["filename", "content_type_header", "size", "sha256", "uploaded_by", "created_at"]

    def validate_file(self, upload):
        try:
            Attachment.validate_upload(upload)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["file"]) from exc
        return upload


def record_ref(obj) -> dict | None:
    if obj is None:
        return None
    try:
        kind = kinds.for_model(type(obj))
    except LookupError:
        return {"kind": None, "id": obj.pk, "reference": None, "title": str(obj)}
    return {"kind": kind.code, "id": obj.pk, "reference": obj.reference, "title": obj.title}


class RecordLinkSerializer(serializers.ModelSerializer):
    """Create with ``target_kind`` + ``target_id`` (or ``target_reference``)."""

    target_kind = serializers.ChoiceField(choices=[], write_only=True)
    target_id = serializers.IntegerField(write_only=True, required=False)
    target_reference = serializers.CharField(write_only=True, required=False)
    source = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    link_type_label = serializers.CharField(source="get_link_type_display", read_only=True)

    class Meta:
        model = RecordLink
        fields = ["id", "link_type", "link_type_label", "note", "source", "target",
                  "target_kind", "target_id", "target_reference", "created_at"]
        read_only_fields = ["created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_kind"].choices = [k.code for k in kinds]

    def get_source(self, obj) -> dict | None:
        return record_ref(obj.source)

    def get_target(self, obj) -> dict | None:
        return record_ref(obj.target)

    def validate(self, attrs):
        kind = kinds.get(attrs.pop("target_kind"))
        target_id = attrs.pop("target_id", None)
        reference = attrs.pop("target_reference", None)
        qs = kind.model.objects.all()
        if target_id is not None:
            target = qs.filter(pk=target_id).first()
        elif reference:
            target = qs.filter(reference__iexact=reference.strip()).first()
        else:
            raise serializers.ValidationError({"target_id": ["Give target_id or target_reference."]})
        if target is None:
            raise serializers.ValidationError({"target_id": [f"No {kind.label} with that id or reference."]})
        source = self.context["record"]
        if type(source) is type(target) and source.pk == target.pk:
            raise serializers.ValidationError({"target_id": ["A record cannot be linked to itself."]})
        attrs["target_type"] = ContentType.objects.get_for_model(target)
        attrs["target_id"] = target.pk
        attrs["source_type"] = ContentType.objects.get_for_model(source)
        attrs["source_id"] = source.pk
        exists = RecordLink.objects.filter(
            source_type=attrs["source_type"], source_id=source.pk, link_type=attrs["link_type"],
            target_type=attrs["target_type"], target_id=target.pk,
        ).exists()
        if exists:
            raise serializers.ValidationError({"link_type": ["These records are already linked this way."]})
        return attrs


class WatcherSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Watcher
        fields = ["id", "user", "created_at"]


class HistorySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    history_type = serializers.CharField()
    history_change_reason = serializers.CharField(allow_null=True)
    history_user = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    def get_history_user(self, obj) -> str | None:
        return obj.history_user.username if obj.history_user_id else None

    def get_changes(self, obj) -> list[dict]:
        prev = getattr(obj, "_prev", None)
        if prev is None:
            return []
        delta = obj.diff_against(prev)
        return [{"field": c.field, "old": str(c.old), "new": str(c.new)} for c in delta.changes]


class PlannedActivitySerializer(TenantModelSerializer):
    owner = MemberField(required=False, allow_null=True)
    owner_detail = UserSummarySerializer(source="owner", read_only=True)
    kind = serializers.ChoiceField(choices=[])
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = PlannedActivity
        fields = ["id", "kind", "title", "description", "interval_count", "interval_unit", "owner",
                  "owner_detail", "next_due", "lead_days", "last_done_at", "is_active", "is_overdue",
                  "created_at", "updated_at"]
        read_only_fields = ["last_done_at", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = activity_kinds.choices()
