"""API of problem management, the known error database and trend analysis (clause 8.2,
and 6.6.3 for information security incidents)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from sms.core.api.errors import validation_detail
from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer
from sms.core.api.views import RecordViewSet

from .. import services_problems as sp
from .. import trends
from ..choices import PRIORITY_LEVELS
from ..filters_problems import KnownErrorFilterSet, ProblemFilterSet
from ..models import Category, Incident, KnownError, Problem, ProblemReview
from ..problem_choices import FINISHED_PROBLEM_STATES, KnownErrorState
from .serializers import PartyField


def _ci_queryset():
    from sms.cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.all()


def _service_queryset():
    from sms.cmdb.models import Service

    return Service.objects.all()


@extend_schema_field(OpenApiTypes.INT)
class TenantRelated(serializers.PrimaryKeyRelatedField):
    """A row of the current tenant, looked up when the request runs (never at import)."""

    def __init__(self, queryset_factory, **kwargs):
        self._factory = queryset_factory
        super().__init__(**kwargs)

    def get_queryset(self):
        return self._factory()


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "reference": obj.reference, "title": obj.title} if obj is not None else None


# --- problems --------------------------------------------------------------------------------
class ProblemReviewSerializer(TenantModelSerializer):
    created_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = ProblemReview
        fields = [
            "id",
            "problem",
            "reviewed_on",
            "participants",
            "lessons_learned",
            "root_cause_removed",
            "recurrence_seen",
            "actions",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["problem", "created_at", "created_by"]


class ProblemSerializer(RecordSerializer):
    """Priority comes from the tenant's impact x urgency matrix; send ``priority`` with a
    ``priority_override_reason`` to override it. With ``needs_change`` the problem resolves
    only once a request for change is linked (``rfc_reference`` or a link to a change record)."""

    incidents = TenantRelated(lambda: Incident.objects.all(), many=True, required=False)
    services = TenantRelated(_service_queryset, many=True, required=False)
    affected_cis = TenantRelated(_ci_queryset, many=True, required=False)
    category = TenantRelated(lambda: Category.objects.all(), required=False, allow_null=True)
    assignment_group = PartyField(required=False, allow_null=True)
    assignee = MemberField(required=False, allow_null=True)
    assignee_detail = UserSummarySerializer(source="assignee", read_only=True)
    priority = serializers.ChoiceField(choices=list(PRIORITY_LEVELS), required=False)
    priority_override_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    category_path = serializers.CharField(source="category.path", read_only=True, default=None)
    known_errors = serializers.SerializerMethodField()
    reviews = ProblemReviewSerializer(many=True, read_only=True)

    class Meta:
        model = Problem
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "origin",
            "incidents",
            "services",
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
            "root_cause",
            "workaround",
            "needs_change",
            "rfc_reference",
            "resolution_notes",
            "investigation_started_at",
            "known_error_at",
            "resolved_at",
            "closed_at",
            "known_errors",
            "reviews",
        ]
        read_only_fields = [
            "state",
            "origin",
            "priority_overridden",
            "investigation_started_at",
            "known_error_at",
            "resolved_at",
            "closed_at",
        ]

    def get_known_errors(self, obj) -> list[dict]:
        return [_ref(ke) for ke in obj.known_errors.all()]

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate(self, attrs):
        many = {k: attrs.pop(k) for k in ("incidents", "services", "affected_cis") if k in attrs}
        attrs = super().validate(attrs)
        attrs.update(many)
        if self.instance is not None and self.instance.state in FINISHED_PROBLEM_STATES:
            raise serializers.ValidationError(
                {"detail": [f"A {self.instance.get_state_display().lower()} problem cannot be changed."]}
            )
        group = attrs.get("assignment_group")
        if group is not None and group.party_type != "internal_group":
            raise serializers.ValidationError({"assignment_group": [f"{group} is not an internal group."]})
        return attrs

    def _apply(self, problem: Problem, attrs: dict, *, adding: bool) -> dict:
        many = {k: attrs.pop(k) for k in ("incidents", "services", "affected_cis") if k in attrs}
        priority = attrs.pop("priority", None)
        reason = attrs.pop("priority_override_reason", "")
        for key, value in attrs.items():
            setattr(problem, key, value)
        try:
            if adding or priority is not None or {"impact", "urgency"} & set(attrs):
                sp.apply_problem_priority(problem, priority=priority, reason=reason)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from exc
        return many

    @transaction.atomic
    def create(self, validated_data):
        problem = Problem()
        many = self._apply(problem, dict(validated_data), adding=True)
        problem.save()
        for key, values in many.items():
            getattr(problem, key).set(values)
        return problem

    @transaction.atomic
    def update(self, instance, validated_data):
        many = self._apply(instance, dict(validated_data), adding=False)
        instance.save()
        for key, values in many.items():
            getattr(instance, key).set(values)
        return instance


class TrendQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (default: 90 days back).")
    end = serializers.DateField(required=False, help_text="Last day, inclusive (default: today).")
    period = serializers.ChoiceField(choices=trends.PERIODS, default="week")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"start": ["The start is after the end."]})
        if start and end and (end - start) > dt.timedelta(days=3 * 366):
            raise serializers.ValidationError({"start": ["Analyse at most three years at a time."]})
        return attrs


class ProblemViewSet(RecordViewSet):
    """Problems (clause 8.2). ``POST .../reviews/`` records a problem review once the
    problem is resolved; closing needs one."""

    queryset = Problem.unscoped.none()
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilterSet
    capability_area = "problem"
    select_related = ("owner", "created_by", "updated_by", "assignee", "category__parent__parent")
    ordering_fields = ["number", "priority", "state", "created_at", "updated_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {
            **super().action_capabilities,
            "reviews": "problem.view",
            "add_review": "problem.update",
            "trends": "incident.view",
        }

    def scoped_queryset(self):
        return (
            Problem.objects.select_related(*self.select_related)
            .prefetch_related("incidents", "services", "affected_cis", "known_errors", "reviews__created_by")
            .order_by("-number")
        )

    @extend_schema(responses=ProblemReviewSerializer(many=True))
    @action(detail=True, methods=["get"])
    def reviews(self, request, pk=None):
        problem = self.get_object()
        rows = problem.reviews.select_related("created_by")
        return Response(ProblemReviewSerializer(rows, many=True).data)

    @extend_schema(request=ProblemReviewSerializer, responses=ProblemReviewSerializer)
    @reviews.mapping.post
    def add_review(self, request, pk=None):
        problem = self.get_object()
        ser = ProblemReviewSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        review = sp.add_review(problem, by=request.user, **ser.validated_data)
        return Response(ProblemReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[TrendQuerySerializer], responses=dict)
    @action(detail=False, methods=["get"])
    def trends(self, request):
        """Trend analysis (clause 8.2): incidents per period, service, CI and category, and
        information security incidents by type, volume and impact (clause 6.6.3); aggregated
        in SQL over ``start``..``end`` (default: the last 90 days)."""
        params = TrendQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            w = trends.window(data.get("start"), data.get("end"), data["period"])
        except ValueError as exc:
            raise serializers.ValidationError({"start": [str(exc)]}) from exc
        return Response(
            {
                "start": w.start,
                "end": w.end,
                "period": w.period,
                "incidents": trends.incident_trends(w),
                "security": trends.security_trends(w),
            }
        )


# --- known errors ----------------------------------------------------------------------------
class KnownErrorSerializer(RecordSerializer):
    problem = TenantRelated(lambda: Problem.objects.all(), required=False, allow_null=True)
    problem_detail = serializers.SerializerMethodField()
    services = TenantRelated(_service_queryset, many=True, required=False)
    affected_cis = TenantRelated(_ci_queryset, many=True, required=False)
    category = TenantRelated(lambda: Category.objects.all(), required=False, allow_null=True)
    category_path = serializers.CharField(source="category.path", read_only=True, default=None)
    rank = serializers.FloatField(read_only=True, required=False, help_text="Search rank (with ?q=).")

    class Meta:
        model = KnownError
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "problem",
            "problem_detail",
            "symptoms",
            "root_cause",
            "workaround",
            "services",
            "affected_cis",
            "category",
            "category_path",
            "retired_at",
            "rank",
        ]
        read_only_fields = ["state", "retired_at"]

    def get_problem_detail(self, obj) -> dict | None:
        return _ref(obj.problem)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate_workaround(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Describe the workaround.")
        return value.strip()

    def validate(self, attrs):
        many = {k: attrs.pop(k) for k in ("services", "affected_cis") if k in attrs}
        attrs = super().validate(attrs)
        attrs.update(many)
        if self.instance is not None and self.instance.state == KnownErrorState.RETIRED:
            raise serializers.ValidationError({"detail": ["A retired known error cannot be changed; reinstate it."]})
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        many = {k: validated_data.pop(k) for k in ("services", "affected_cis") if k in validated_data}
        ke = KnownError.objects.model(**validated_data)
        ke.save()
        for key, values in many.items():
            getattr(ke, key).set(values)
        return ke

    @transaction.atomic
    def update(self, instance, validated_data):
        many = {k: validated_data.pop(k) for k in ("services", "affected_cis") if k in validated_data}
        for key, value in validated_data.items():
            setattr(instance, key, value)
        instance.save()
        for key, values in many.items():
            getattr(instance, key).set(values)
        return instance


class MatchQuerySerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=250, default="")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    service = TenantRelated(_service_queryset, required=False, allow_null=True)
    category = TenantRelated(lambda: Category.objects.all(), required=False, allow_null=True)
    cis = TenantRelated(_ci_queryset, many=True, required=False)
    incident = TenantRelated(
        lambda: Incident.objects.all(), required=False, allow_null=True, help_text="Match an incident as it is."
    )


class KnownErrorMatchSerializer(serializers.ModelSerializer):
    score = serializers.FloatField(source="match_score")
    category_path = serializers.CharField(source="category.path", read_only=True, default=None)

    class Meta:
        model = KnownError
        fields = ["id", "reference", "title", "symptoms", "workaround", "category_path", "score"]


class LinkIncidentSerializer(serializers.Serializer):
    incident = TenantRelated(lambda: Incident.objects.all())


class KnownErrorViewSet(RecordViewSet):
    """The known error database (clause 8.2). ``?q=`` searches it in full text (best
    first), also by ``service``, ``ci``, ``category`` (with sub-categories) and ``state``.
    ``GET .../match/`` offers open known errors for an incident being logged;
    ``POST .../{id}/link-incident/`` records that an incident is an occurrence of one."""

    queryset = KnownError.unscoped.none()
    serializer_class = KnownErrorSerializer
    filterset_class = KnownErrorFilterSet
    capability_area = "knownerror"
    select_related = ("owner", "created_by", "updated_by", "problem", "category__parent__parent")
    ordering_fields = ["number", "state", "created_at", "updated_at"]
    search_fields: list[str] = []  # ``q`` is the full-text search

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {**super().action_capabilities, "match": "knownerror.view", "link_incident": "incident.update"}

    def scoped_queryset(self):
        return (
            KnownError.objects.select_related(*self.select_related)
            .prefetch_related("services", "affected_cis")
            .order_by("-number")
        )

    @extend_schema(parameters=[MatchQuerySerializer], responses=KnownErrorMatchSerializer(many=True))
    @action(detail=False, methods=["get"])
    def match(self, request):
        params = MatchQuerySerializer(data=_query_data(request))
        params.is_valid(raise_exception=True)
        data = params.validated_data
        incident = data.get("incident")
        if incident is not None:
            matches = sp.match_known_errors(
                title=incident.title,
                description=incident.description,
                service=incident.service,
                category=incident.category,
                cis=list(incident.affected_cis.values_list("pk", flat=True)),
            )
        else:
            matches = sp.match_known_errors(
                title=data["title"],
                description=data["description"],
                service=data.get("service"),
                category=data.get("category"),
                cis=data.get("cis") or (),
            )
        return Response({"count": len(matches), "results": KnownErrorMatchSerializer(matches, many=True).data})

    @extend_schema(request=LinkIncidentSerializer, responses=None)
    @action(detail=True, methods=["post"], url_path="link-incident")
    def link_incident(self, request, pk=None):
        ke = self.get_object()
        body = LinkIncidentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        link = sp.link_known_error(body.validated_data["incident"], ke, by=request.user)
        return Response(
            {"link": link.pk, "incident": body.validated_data["incident"].pk, "known_error": ke.pk},
            status=status.HTTP_201_CREATED,
        )


def _query_data(request) -> dict:
    data = {k: v for k, v in request.query_params.items() if k != "cis"}
    cis = request.query_params.getlist("cis")
    if cis:
        data["cis"] = cis
    return data
