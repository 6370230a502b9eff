"""API of escalation rules, escalations taken, and major incidents (clause 8.1)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sms.core.api.errors import validation_detail
from sms.core.api.serializers import MemberField, TenantModelSerializer, UserSummarySerializer
from sms.core.api.views import TenantModelViewSet, TenantScopedMixin
from sms.core.filters import FilterSet

from .. import services_major
from ..choices import PRIORITY_LEVELS
from ..models import Escalation, EscalationRule, Incident, MajorIncidentDefinition, MajorIncidentReview
from ..models.escalation import EscalationAction, EscalationTarget
from .serializers import PartyField

CONFIGURE = "resolution.configure"
WRITE_ACTIONS = ("create", "update", "partial_update", "destroy")


class EscalationFilterSet(FilterSet):
    """Declared filters: generated ones would read the incidents before there is a tenant."""

    incident = django_filters.NumberFilter(field_name="incident_id")
    rule = django_filters.NumberFilter(field_name="rule_id")
    action = django_filters.ChoiceFilter(choices=[*EscalationAction.choices, ("breach_notice", "Target missed")])
    target = django_filters.ChoiceFilter(choices=EscalationTarget.choices)

    class Meta:
        model = Escalation
        fields = ["incident", "rule", "action", "target"]


class MajorIncidentReviewFilterSet(FilterSet):
    incident = django_filters.NumberFilter(field_name="incident_id")

    class Meta:
        model = MajorIncidentReview
        fields = ["incident"]


# --- escalation rules -------------------------------------------------------------------------
class EscalationRuleSerializer(TenantModelSerializer):
    reassign_to = PartyField(required=False, allow_null=True)
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=list(PRIORITY_LEVELS)), required=False, allow_empty=True
    )
    summary = serializers.CharField(read_only=True)

    class Meta:
        model = EscalationRule
        fields = [
            "id",
            "name",
            "is_active",
            "target",
            "percent",
            "priorities",
            "action",
            "notify",
            "role",
            "reassign_to",
            "raise_by",
            "summary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # The model's clean() skips list values in the base validation; check the whole rule.
        fields = [f for f in self.Meta.fields if f not in ("id", "summary", "created_at", "updated_at")]
        copy = EscalationRule(**{f: getattr(self.instance, f) for f in fields}) if self.instance else EscalationRule()
        for key, value in attrs.items():
            setattr(copy, key, value)
        try:
            copy.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        if "priorities" in attrs:
            attrs["priorities"] = sorted(set(attrs["priorities"]))
        return attrs


class EscalationRuleViewSet(TenantModelViewSet):
    """The tenant's escalation rules: everyone reads them; administrators change them.
    Deleting a rule keeps the escalations it took (they keep its name)."""

    queryset = EscalationRule.unscoped.none()
    serializer_class = EscalationRuleSerializer
    capability_area = "resolutionconfig"
    action_capabilities = {name: CONFIGURE for name in WRITE_ACTIONS}
    search_fields = ["name"]
    ordering_fields = ["percent", "name", "target"]

    def scoped_queryset(self):
        return EscalationRule.objects.select_related("reassign_to").order_by("target", "percent", "name", "id")


class EscalationSerializer(serializers.ModelSerializer):
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "incident",
            "incident_reference",
            "rule",
            "rule_name",
            "target",
            "percent",
            "action",
            "action_label",
            "detail",
            "created_at",
        ]
        read_only_fields = fields


class EscalationViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Escalations taken on incidents (``?incident=<id>``), newest first."""

    queryset = Escalation.unscoped.none()
    serializer_class = EscalationSerializer
    capability_area = "incident"
    filterset_class = EscalationFilterSet
    ordering_fields = ["created_at"]

    def scoped_queryset(self):
        return Escalation.objects.select_related("incident").order_by("-created_at", "-id")


# --- major incidents --------------------------------------------------------------------------
class MajorIncidentDefinitionSerializer(TenantModelSerializer):
    rule_text = serializers.CharField(read_only=True)

    class Meta:
        model = MajorIncidentDefinition
        fields = ["id", "definition", "auto_declare", "max_priority", "service_criticality", "rule_text", "updated_at"]
        read_only_fields = ["updated_at"]


class MajorIncidentDefinitionViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's agreed definition of a major incident (one row): read by everyone,
    changed by administrators."""

    queryset = MajorIncidentDefinition.unscoped.none()
    serializer_class = MajorIncidentDefinitionSerializer
    capability_area = "resolutionconfig"
    action_capabilities = {name: CONFIGURE for name in WRITE_ACTIONS}
    http_method_names = ["get", "patch", "head", "options"]

    def scoped_queryset(self):
        services_major.definition()
        return MajorIncidentDefinition.objects.order_by("id")


class IncidentField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Incident.objects.all()


class MajorIncidentReviewSerializer(TenantModelSerializer):
    incident = IncidentField()
    incident_reference = serializers.CharField(source="incident.reference", read_only=True)
    is_complete = serializers.BooleanField(read_only=True)
    created_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = MajorIncidentReview
        fields = [
            "id",
            "incident",
            "incident_reference",
            "what_happened",
            "timeline",
            "causes",
            "improvements",
            "held_on",
            "participants",
            "is_complete",
            "created_at",
            "created_by",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []

    def validate_incident(self, value):
        if not value.is_major:
            raise serializers.ValidationError(f"{value.reference} is not a major incident.")
        if self.instance is not None and value.pk != self.instance.incident_id:
            raise serializers.ValidationError("A review stays with its incident.")
        existing = MajorIncidentReview.objects.filter(incident=value)
        if self.instance is not None:
            existing = existing.exclude(pk=self.instance.pk)
        if existing.exists():
            raise serializers.ValidationError(f"{value.reference} has a review already; change that one.")
        return value

    def validate(self, attrs):
        attrs = super().validate(attrs)
        for name in ("what_happened", "timeline", "causes", "improvements"):
            if name in attrs and not attrs[name].strip():
                raise serializers.ValidationError({name: ["This part of the review is required."]})
        return attrs


class MajorIncidentReviewViewSet(
    TenantScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Reviews of major incidents (what happened, timeline, causes, opportunities for
    improvement). A major incident cannot be closed without one. Reviews are kept, never
    deleted."""

    queryset = MajorIncidentReview.unscoped.none()
    serializer_class = MajorIncidentReviewSerializer
    capability_area = "majorincidentreview"
    filterset_class = MajorIncidentReviewFilterSet
    ordering_fields = ["created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self):
        return MajorIncidentReview.objects.select_related("incident", "created_by").order_by("-created_at", "-id")


class DeclareMajorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why this incident is a major incident.")
    major_manager = MemberField(required=False, allow_null=True)


class MajorManagerSerializer(serializers.Serializer):
    major_manager = MemberField(allow_null=True)


class MajorIncidentActionsMixin:
    """Actions on ``/api/v1/incidents/{id}/``: declare a major incident, designate its
    manager, and list its escalations."""

    @property
    def action_capabilities(self) -> dict[str, str]:
        caps = dict(super().action_capabilities)
        caps.update(
            {"declare_major": "incident.update", "major_manager": "incident.update", "escalations": "incident.view"}
        )
        return caps

    @extend_schema(request=DeclareMajorSerializer, responses=None)
    @action(detail=True, methods=["post"], url_path="declare-major")
    def declare_major(self, request, pk=None):
        incident = self.get_object()
        body = DeclareMajorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services_major.declare_major(incident, by=request.user, reason=body.validated_data["reason"])
        if body.validated_data.get("major_manager"):
            incident = services_major.designate_manager(
                incident, manager=body.validated_data["major_manager"], by=request.user
            )
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=MajorManagerSerializer, responses=None)
    @action(detail=True, methods=["post"], url_path="major-manager")
    def major_manager(self, request, pk=None):
        incident = self.get_object()
        body = MajorManagerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services_major.designate_manager(incident, manager=body.validated_data["major_manager"], by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(responses=EscalationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def escalations(self, request, pk=None):
        incident = self.get_object()
        rows = Escalation.objects.filter(incident=incident).select_related("incident").order_by("-created_at")
        return Response(EscalationSerializer(rows, many=True).data)
