from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from sms.core.api.errors import validation_detail
from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer

from .. import services_requests as sr
from ..choices import REQUEST_FINISHED_STATES, REQUEST_RUNNING_STATES, ApprovalMode, TaskState
from ..models import CatalogueItem, FulfilmentTask, RequestDecision, ServiceRequest
from .serializers import PartyField


class CatalogueItemSerializer(TenantModelSerializer):
    """A catalogue item. ``fields`` are the questions asked (label, type, required,
    choices); ``tasks`` the fulfilment task templates in order; ``approval`` is
    ``none``, ``role`` (with ``approver_role``) or ``named`` (with ``approvers``)."""

    fields = serializers.JSONField(required=False)
    tasks = serializers.JSONField(required=False)
    approvers = MemberField(many=True, required=False)
    service_reference = serializers.CharField(source="service.reference", read_only=True)
    service_title = serializers.CharField(source="service.title", read_only=True)

    class Meta:
        model = CatalogueItem
        fields = [
            "id",
            "service",
            "service_reference",
            "service_title",
            "name",
            "description",
            "is_active",
            "fields",
            "approval",
            "approver_role",
            "approvers",
            "tasks",
            "priority",
            "fulfilment_minutes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        # The questions and tasks are lists, which the base validation leaves out of the
        # model's clean(); check everything on a copy.
        simple = ("service_id", "name", "description", "is_active", "fields", "approval", "approver_role", "tasks")
        copy = CatalogueItem(**{f: getattr(self.instance, f) for f in simple}) if self.instance else CatalogueItem()
        for key, value in attrs.items():
            if key != "approvers":
                setattr(copy, key, value)
        try:
            copy.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        attrs["fields"], attrs["tasks"] = copy.fields, copy.tasks
        attrs["approver_role"] = copy.approver_role
        if copy.approval == ApprovalMode.NAMED:
            approvers = attrs.get("approvers")
            if approvers is None and self.instance is not None:
                approvers = list(self.instance.approvers.all())
            if not approvers:
                raise serializers.ValidationError({"approvers": ["Name at least one approver."]})
        name = copy.name
        qs = CatalogueItem.objects.filter(service_id=copy.service_id, name__iexact=name)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError({"name": ["This service already has a catalogue item of this name."]})
        return attrs


class RequestDecisionSerializer(serializers.ModelSerializer):
    decided_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = RequestDecision
        fields = ["id", "decision", "rationale", "decided_by", "decided_at"]


class FulfilmentTaskSerializer(TenantModelSerializer):
    """A fulfilment task: change its assignee or notes here; complete it with
    ``POST .../complete/``."""

    assignee = MemberField(required=False, allow_null=True)
    done_by = UserSummarySerializer(read_only=True)
    request_reference = serializers.CharField(source="request.reference", read_only=True)

    class Meta:
        model = FulfilmentTask
        fields = [
            "id",
            "request",
            "request_reference",
            "position",
            "title",
            "description",
            "state",
            "assignee",
            "notes",
            "done_at",
            "done_by",
            "updated_at",
        ]
        read_only_fields = ["request", "position", "title", "description", "state", "done_at", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None and self.instance.request.state in REQUEST_FINISHED_STATES:
            raise serializers.ValidationError({"detail": ["The request is finished; its tasks cannot be changed."]})
        return super().validate(attrs)


class CompleteTaskSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[TaskState.DONE, TaskState.NOT_NEEDED], default=TaskState.DONE, required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


_DATETIME = serializers.DateTimeField()


class TaskSummarySerializer(serializers.Serializer):
    """A fulfilment task as listed on its request."""

    id = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=TaskState.choices)
    assignee = serializers.IntegerField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)


class CatalogueItemField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return CatalogueItem.objects.select_related("service")


# Named apart from the "ServiceRequest" component drf-spectacular derives for writing services.
@extend_schema_serializer(component_name="ServiceRequestRecord")
class ServiceRequestSerializer(RecordSerializer):
    """Submit with ``catalogue_item`` and ``answers`` (question name -> answer); the
    answers are checked against the item's questions (400 naming each question at
    fault). The title defaults to the item's name and ``requester`` to you. The state,
    priority, due times and breach flags are the system's; approve, reject, start,
    fulfil, close and cancel through ``transitions/<name>/``."""

    title = serializers.CharField(required=False, allow_blank=True, max_length=250)
    catalogue_item = CatalogueItemField()
    catalogue_item_name = serializers.CharField(source="catalogue_item.name", read_only=True)
    answers = serializers.JSONField(required=False)
    requester = MemberField(required=False, allow_null=True)
    requester_detail = UserSummarySerializer(source="requester", read_only=True)
    customer = PartyField(required=False, allow_null=True)
    assignment_group = PartyField(required=False, allow_null=True)
    assignee = MemberField(required=False, allow_null=True)
    assignee_detail = UserSummarySerializer(source="assignee", read_only=True)
    service_reference = serializers.CharField(source="service.reference", read_only=True, default=None)
    decisions = RequestDecisionSerializer(many=True, read_only=True)
    tasks = serializers.SerializerMethodField()
    response_overdue = serializers.SerializerMethodField()
    fulfilment_overdue = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "catalogue_item",
            "catalogue_item_name",
            "service",
            "service_reference",
            "requester",
            "requester_detail",
            "customer",
            "questions",
            "answers",
            "needs_approval",
            "priority",
            "assignment_group",
            "assignee",
            "assignee_detail",
            "decisions",
            "tasks",
            "responded_at",
            "decided_at",
            "fulfilled_at",
            "closed_at",
            "paused_since",
            "paused_minutes",
            "response_due_at",
            "fulfilment_due_at",
            "response_breached",
            "fulfilment_breached",
            "response_overdue",
            "fulfilment_overdue",
        ]
        read_only_fields = [
            "state",
            "service",
            "questions",
            "needs_approval",
            "priority",
            "responded_at",
            "decided_at",
            "fulfilled_at",
            "closed_at",
            "paused_since",
            "paused_minutes",
            "response_due_at",
            "fulfilment_due_at",
            "response_breached",
            "fulfilment_breached",
        ]

    @extend_schema_field(TaskSummarySerializer(many=True))
    def get_tasks(self, obj) -> list[dict]:
        # Built directly from the prefetched rows: a nested serializer per request costs
        # more than the rest of the row; the full task is at /fulfilment-tasks/{id}/.
        return [
            {
                "id": t.pk,
                "position": t.position,
                "title": t.title,
                "state": t.state,
                "assignee": t.assignee_id,
                "done_at": _DATETIME.to_representation(t.done_at) if t.done_at else None,
            }
            for t in obj.tasks.all()
        ]

    def get_response_overdue(self, obj) -> bool:
        due = obj.response_due_at
        running = obj.state in REQUEST_RUNNING_STATES
        return running and obj.responded_at is None and due is not None and due < timezone.now()

    def get_fulfilment_overdue(self, obj) -> bool:
        due = obj.fulfilment_due_at
        return obj.state in REQUEST_RUNNING_STATES and due is not None and due < timezone.now()

    def validate(self, attrs):
        if self.instance is not None:
            for frozen in ("catalogue_item", "answers", "requester"):
                if frozen in attrs and attrs[frozen] != getattr(self.instance, frozen):
                    raise serializers.ValidationError(
                        {frozen: ["Fixed when the request is submitted; cancel it and submit a new one."]}
                    )
                attrs.pop(frozen, None)
            if self.instance.state in REQUEST_FINISHED_STATES:
                raise serializers.ValidationError(
                    {"detail": [f"A {self.instance.get_state_display().lower()} request cannot be changed."]}
                )
        answers = attrs.pop("answers", None)
        attrs = super().validate(attrs)
        errors: dict[str, list] = {}
        get = lambda name: attrs.get(name, getattr(self.instance, name, None))  # noqa: E731
        customer, group = get("customer"), get("assignment_group")
        if customer is not None and not customer.is_customer:
            errors["customer"] = [f"{customer} is not a customer."]
        if group is not None and group.party_type != "internal_group":
            errors["assignment_group"] = [f"{group} is not an internal group."]
        if self.instance is None:
            item = attrs.get("catalogue_item")
            if item is not None and not item.is_active:
                errors["catalogue_item"] = ["This item is no longer offered."]
            elif item is not None:
                try:
                    attrs["answers"] = sr.clean_answers(item, answers)
                except DjangoValidationError as exc:
                    errors["answers"] = exc.message_dict
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        data = dict(validated_data)
        item = data.pop("catalogue_item")
        try:
            return sr.submit(item, by=self.context["request"].user, **data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
