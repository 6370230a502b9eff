"""API of the service desk console: the queues, bulk assignment, and support group members."""

from __future__ import annotations

import django_filters
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from sms.core.api.serializers import MemberField, TenantModelSerializer, UserSummarySerializer, tenant_members
from sms.core.api.views import TenantModelViewSet
from sms.core.filters import FilterSet

from .. import services_desk
from ..filters import _groups
from ..models import GroupMember
from .serializers import PartyField

QUEUE_CODES = ("mine", "groups", "unassigned", "breaching", "major")


@extend_schema_field(OpenApiTypes.INT)
class GroupField(PartyField):
    """An internal group's id."""


@extend_schema_field(OpenApiTypes.INT)
class AssigneeField(MemberField):
    """A member's user id."""


class BulkAssignSerializer(serializers.Serializer):
    incidents = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)
    assignment_group = GroupField(required=False, allow_null=True)
    assignee = AssigneeField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=250)

    def validate(self, attrs):
        if attrs.get("assignment_group") is None and attrs.get("assignee") is None:
            raise serializers.ValidationError({"assignment_group": ["Choose a group, an assignee, or both."]})
        group = attrs.get("assignment_group")
        if group is not None and group.party_type != "internal_group":
            raise serializers.ValidationError({"assignment_group": [f"{group} is not an internal group."]})
        return attrs


BulkAssignResult = inline_serializer(
    "BulkAssignResult",
    {
        "assigned": inline_serializer(
            "BulkAssigned", {"id": serializers.IntegerField(), "reference": serializers.CharField()}, many=True
        ),
        "errors": inline_serializer(
            "BulkAssignError", {"incident": serializers.CharField(), "detail": serializers.CharField()}, many=True
        ),
    },
)


class ServiceDeskActionsMixin:
    """Mixed into the incident viewset: ``GET incidents/queues/`` (counts),
    ``GET incidents/queues/<code>/`` (one queue, paged like the list) and
    ``POST incidents/bulk-assign/``."""

    @property
    def action_capabilities(self) -> dict[str, str]:
        return {
            **super().action_capabilities,
            "queues": "incident.view",
            "queue": "incident.view",
            "bulk_assign": "incident.update",
        }

    @extend_schema(
        responses=inline_serializer("QueueCounts", {code: serializers.IntegerField() for code in QUEUE_CODES})
    )
    @action(detail=False, methods=["get"])
    def queues(self, request):
        return Response(services_desk.queue_counts(request.user))

    @extend_schema(operation_id="incidents_queue_list")
    @action(detail=False, methods=["get"], url_path=r"queues/(?P<queue>[a-z]+)")
    def queue(self, request, queue=None):
        try:
            qs = services_desk.console_queue(request.user, queue)
        except KeyError:
            raise Http404("No such queue.") from None
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=BulkAssignSerializer, responses=BulkAssignResult)
    @action(detail=False, methods=["post"], url_path="bulk-assign")
    def bulk_assign(self, request):
        body = BulkAssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = services_desk.bulk_assign(
            data["incidents"],
            by=request.user,
            membership=request._request.membership,
            group=data.get("assignment_group"),
            assignee=data.get("assignee"),
            reason=data.get("reason", ""),
        )
        return Response(
            {
                "assigned": [{"id": i.pk, "reference": i.reference} for i in result.changed],
                "errors": [{"incident": ref, "detail": message} for ref, message in result.errors],
            }
        )


class GroupMemberSerializer(TenantModelSerializer):
    group = PartyField()
    user = MemberField()
    user_detail = UserSummarySerializer(source="user", read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)

    class Meta:
        model = GroupMember
        fields = ["id", "group", "group_name", "user", "user_detail", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        group = attrs.get("group", getattr(self.instance, "group", None))
        user = attrs.get("user", getattr(self.instance, "user", None))
        if group is not None and group.party_type != "internal_group":
            raise serializers.ValidationError({"group": [f"{group} is not an internal group."]})
        qs = GroupMember.objects.filter(group=group, user=user)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if group is not None and user is not None and qs.exists():
            raise serializers.ValidationError({"user": ["Already a member of this group."]})
        return attrs


class GroupMemberFilterSet(FilterSet):
    group = django_filters.ModelChoiceFilter(queryset=_groups)
    user = django_filters.ModelChoiceFilter(queryset=lambda request: tenant_members())

    class Meta:
        model = GroupMember
        fields = ["group", "user"]


class GroupMemberViewSet(TenantModelViewSet):
    """Who works in which internal support group ("my groups" on the console). Everyone
    reads; tenant administrators and process owners change it (``groupmember.*``)."""

    queryset = GroupMember.unscoped.none()
    serializer_class = GroupMemberSerializer
    capability_area = "groupmember"
    filterset_class = GroupMemberFilterSet
    ordering_fields = ["created_at"]

    def scoped_queryset(self):
        return GroupMember.objects.select_related("group", "user").order_by("group__name", "user__username", "id")

    def perform_destroy(self, instance):
        instance._change_reason = "Removed through the API"
        instance.delete()
