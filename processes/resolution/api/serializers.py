from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from sms.cmdb.models import ConfigurationItem
from sms.core.api.errors import validation_detail
from sms.core.api.related import (
    AttachedManyField,
    BatchedFieldMixin,
    BatchedPrimaryKeyRelatedField,
    BatchedRelatedMixin,
)
from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer
from sms.tenancy import context

from .. import services, services_major
from ..choices import MATRIX_SIZES, PRIORITY_LEVELS, RUNNING_STATES, IncidentState, scale_label
from ..models import (
    Category,
    Incident,
    PriorityLevel,
    PriorityMatrixCell,
    ResolutionSettings,
    ServiceCalendar,
    ServiceHours,
)
from .listing import ATTACHED_CI_IDS


class PriorityLevelSerializer(TenantModelSerializer):
    class Meta:
        model = PriorityLevel
        fields = ["id", "level", "name", "response_minutes", "resolution_minutes", "updated_at"]
        read_only_fields = ["level", "updated_at"]


class PriorityMatrixCellSerializer(TenantModelSerializer):
    """Labels from the tenant's 3- or 5-level scale (read once per answer)."""

    impact_label = serializers.SerializerMethodField()
    urgency_label = serializers.SerializerMethodField()

    def _size(self) -> int:
        root = self.root
        if not hasattr(root, "_scale_size"):
            root._scale_size = services.scale_size()
        return root._scale_size

    def get_impact_label(self, obj) -> str:
        return scale_label("impact", obj.impact, self._size())

    def get_urgency_label(self, obj) -> str:
        return scale_label("urgency", obj.urgency, self._size())

    class Meta:
        model = PriorityMatrixCell
        fields = ["id", "impact", "impact_label", "urgency", "urgency_label", "priority", "updated_at"]
        read_only_fields = ["impact", "urgency", "updated_at"]


class ServiceCalendarSerializer(TenantModelSerializer):
    hours_text = serializers.CharField(read_only=True)
    working_hours = serializers.JSONField(required=False)
    holidays = serializers.JSONField(required=False)

    class Meta:
        model = ServiceCalendar
        fields = [
            "id",
            "name",
            "description",
            "time_zone",
            "is_24x7",
            "working_hours",
            "holidays",
            "hours_text",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        # The hours and holidays are lists, which the base validation leaves out of the
        # model's clean(); check them all on a copy.
        fields = ("name", "description", "time_zone", "is_24x7", "working_hours", "holidays")
        copy = ServiceCalendar(**{f: getattr(self.instance, f) for f in fields}) if self.instance else ServiceCalendar()
        for key, value in attrs.items():
            setattr(copy, key, value)
        try:
            copy.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        return attrs

    def validate_name(self, value: str) -> str:
        value = value.strip()
        qs = ServiceCalendar.objects.filter(name__iexact=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("A calendar with this name already exists.")
        return value


class ServiceHoursSerializer(TenantModelSerializer):
    service_reference = serializers.CharField(source="service.reference", read_only=True)
    calendar_name = serializers.CharField(source="calendar.name", read_only=True)

    class Meta:
        model = ServiceHours
        fields = ["id", "service", "service_reference", "calendar", "calendar_name", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_service(self, value):
        qs = ServiceHours.objects.filter(service=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("This service already has a calendar; change that one.")
        return value


class CategorySerializer(TenantModelSerializer):
    path = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "parent", "path", "description", "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        name = attrs.get("name", getattr(self.instance, "name", ""))
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        qs = Category.objects.filter(name__iexact=(name or "").strip(), parent=parent)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError({"name": ["This category already has a child of this name."]})
        return attrs


class ResolutionSettingsSerializer(TenantModelSerializer):
    class Meta:
        model = ResolutionSettings
        fields = [
            "id",
            "reopen_days",
            "default_calendar",
            "at_risk_percent",
            "repeat_count",
            "repeat_days",
            "matrix_size",
            "updated_at",
        ]
        read_only_fields = ["matrix_size", "updated_at"]


class SwitchMatrixSerializer(serializers.Serializer):
    matrix_size = serializers.ChoiceField(
        choices=list(MATRIX_SIZES), help_text="3 or 5 levels of impact and urgency."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class PartyField(BatchedFieldMixin, serializers.PrimaryKeyRelatedField):
    """A party of the current tenant (its type is checked in ``validate``). Declared so that
    the model's ``limit_choices_to`` is not applied at import time, when there is no tenant."""

    def get_queryset(self):
        from sms.parties.models import Party

        return Party.objects.all()


class CategoryField(BatchedFieldMixin, serializers.PrimaryKeyRelatedField):
    """A category of the current tenant, loaded with its parents (the answer shows its path)."""

    def get_queryset(self):
        return Category.objects.select_related("parent__parent")


class ContactField(BatchedFieldMixin, serializers.PrimaryKeyRelatedField):
    """A contact of the current tenant, loaded with its party (validation reads it)."""

    def get_queryset(self):
        from sms.parties.models import Contact

        return Contact.objects.select_related("party")


class IncidentSerializer(BatchedRelatedMixin, RecordSerializer):
    """Priority is computed from impact and urgency; send ``priority`` with a
    ``priority_override_reason`` to override it. Due times and breach flags are the
    system's. The related rows named in the body are read in one round trip."""

    caller = ContactField(required=False, allow_null=True)
    customer = PartyField(required=False, allow_null=True)
    assignment_group = PartyField(required=False, allow_null=True)
    category = CategoryField(required=False, allow_null=True)
    assignee = MemberField(required=False, allow_null=True)
    assignee_detail = UserSummarySerializer(source="assignee", read_only=True)
    affected_cis = AttachedManyField(
        child_relation=BatchedPrimaryKeyRelatedField(
            queryset=ConfigurationItem.objects, label="Affected CIs", required=False
        ),
        attached=ATTACHED_CI_IDS,
        label="Affected CIs",
        required=False,
    )
    priority = serializers.ChoiceField(choices=list(PRIORITY_LEVELS), required=False)
    priority_override_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    category_path = serializers.CharField(source="category.path", read_only=True, default=None)
    service_reference = serializers.CharField(source="service.reference", read_only=True, default=None)
    response_overdue = serializers.SerializerMethodField()
    resolution_overdue = serializers.SerializerMethodField()
    resolution_left_minutes = serializers.SerializerMethodField()
    major_manager = MemberField(read_only=True)
    major_manager_detail = UserSummarySerializer(source="major_manager", read_only=True)

    class Meta:
        model = Incident
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "caller",
            "customer",
            "service",
            "service_reference",
            "affected_cis",
            "category",
            "category_path",
            "impact",
            "urgency",
            "priority",
            "priority_overridden",
            "priority_override_reason",
            "assignment_group",
            "assignee",
            "assignee_detail",
            "channel",
            "is_security",
            "resolution_code",
            "resolution_notes",
            "responded_at",
            "resolved_at",
            "closed_at",
            "paused_since",
            "paused_minutes",
            "response_due_at",
            "resolution_due_at",
            "response_breached",
            "resolution_breached",
            "response_overdue",
            "resolution_overdue",
            "resolution_left_minutes",
            "is_major",
            "major_declared_at",
            "major_reason",
            "major_manager",
            "major_manager_detail",
        ]
        read_only_fields = [
            "state",
            "priority_overridden",
            "responded_at",
            "resolved_at",
            "closed_at",
            "paused_since",
            "paused_minutes",
            "response_due_at",
            "resolution_due_at",
            "response_breached",
            "resolution_breached",
        ]

    # --- computed on read (annotated in SQL by the viewset; computed here otherwise) ---------
    def _running(self, obj) -> bool:
        return obj.state in RUNNING_STATES

    def get_response_overdue(self, obj) -> bool:
        if hasattr(obj, "response_overdue"):
            return bool(obj.response_overdue)
        due = obj.response_due_at
        return self._running(obj) and obj.responded_at is None and due is not None and due < timezone.now()

    def get_resolution_overdue(self, obj) -> bool:
        if hasattr(obj, "resolution_overdue"):
            return bool(obj.resolution_overdue)
        due = obj.resolution_due_at
        return self._running(obj) and due is not None and due < timezone.now()

    def get_resolution_left_minutes(self, obj) -> int | None:
        if hasattr(obj, "resolution_left_minutes"):
            return obj.resolution_left_minutes
        if not self._running(obj) or obj.resolution_due_at is None:
            return None
        return int((obj.resolution_due_at - timezone.now()).total_seconds() // 60)

    # --- validation --------------------------------------------------------------------------
    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate(self, attrs):
        # The base validation reads every attribute off the instance; a new incident has
        # no many-to-many manager yet, so the CIs are set aside for it.
        cis = attrs.pop("affected_cis", None)
        attrs = super().validate(attrs)
        if cis is not None:
            attrs["affected_cis"] = cis
        if self.instance is not None and self.instance.state in (IncidentState.CLOSED, IncidentState.CANCELLED):
            raise serializers.ValidationError(
                {"detail": [f"A {self.instance.get_state_display().lower()} incident cannot be changed."]}
            )
        get = lambda name: attrs.get(name, getattr(self.instance, name, None))  # noqa: E731
        errors: dict[str, list[str]] = {}
        customer, caller, group = get("customer"), get("caller"), get("assignment_group")
        if customer is not None and not customer.is_customer:
            errors["customer"] = [f"{customer} is not a customer."]
        if group is not None and group.party_type != "internal_group":
            errors["assignment_group"] = [f"{group} is not an internal group."]
        if caller is not None and customer is not None and caller.party_id != customer.pk and customer.is_customer:
            if caller.party.is_customer:
                errors["caller"] = [f"{caller.name} works for {caller.party}, not {customer}."]
        if errors:
            raise serializers.ValidationError(errors)
        if caller is not None and customer is None and "customer" not in attrs and caller.party.is_customer:
            attrs["customer"] = caller.party
        return attrs

    # --- writing -----------------------------------------------------------------------------
    def _apply(self, incident: Incident, attrs: dict, *, adding: bool) -> list:
        cis = attrs.pop("affected_cis", None)
        priority = attrs.pop("priority", None)
        reason = attrs.pop("priority_override_reason", "")
        before = None if adding else (incident.priority, incident.service_id)
        for key, value in attrs.items():
            setattr(incident, key, value)
        try:
            if adding or priority is not None or {"impact", "urgency"} & set(attrs):
                services.apply_priority(incident, priority=priority, reason=reason)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        if adding or before != (incident.priority, incident.service_id):
            services.schedule(incident)
        return cis

    @transaction.atomic(savepoint=False)  # no savepoint round trips: an error rolls back the request
    def create(self, validated_data):
        incident = self.new_instance()
        cis = self._apply(incident, dict(validated_data), adding=True)
        incident.save()
        if cis:
            incident.affected_cis.set(cis)
        else:  # the answer's CI list is known to be empty: no query (nor queryset) for it
            setattr(incident, ATTACHED_CI_IDS, [])
        services_major.auto_declare(incident, by=context.get_current_user())
        return incident

    @transaction.atomic
    def update(self, instance, validated_data):
        cis = self._apply(instance, dict(validated_data), adding=False)
        instance.save()
        if cis is not None:
            instance.affected_cis.set(cis)
        services_major.auto_declare(instance, by=context.get_current_user())
        return instance
