"""Who works in which support group (clause 8.1: incidents go to the groups that resolve
them). A member sees the group's incidents in the console's "my groups" queue."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from sms.core.api.serializers import tenant_members

from .models import GroupMember

INTERNAL_GROUP = "internal_group"


def support_groups():
    """The tenant's internal groups with their member counts, in one query."""
    from sms.parties.models import Party

    counts = (
        GroupMember.objects.filter(group=OuterRef("pk"))
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Party.objects.filter(party_type=INTERNAL_GROUP)
        .annotate(member_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))
        .order_by("name", "pk")
    )


def members_of(group):
    return GroupMember.objects.filter(group=group).select_related("user", "created_by").order_by(
        "user__first_name", "user__last_name", "user__username", "pk"
    )


def candidates(group):
    """Members of the tenant who are not yet in the group."""
    taken = GroupMember.objects.filter(group=group).values("user_id")
    return tenant_members().exclude(pk__in=taken).order_by("first_name", "last_name", "username").distinct()


def _require(membership, capability: str) -> None:
    if membership is None or not membership.can(capability):
        raise PermissionDenied("Only administrators and process owners change who is in a support group.")


def add_group_member(group, user, *, membership, reason: str = "") -> GroupMember:
    """Put a member of the tenant into an internal group (administrators, process owners)."""
    _require(membership, "groupmember.create")
    if group.party_type != INTERNAL_GROUP:
        raise ValidationError({"group": f"{group} is not an internal group."})
    if not tenant_members().filter(pk=user.pk).exists():
        raise ValidationError({"user": f"{user} is not an active member of this organisation."})
    if GroupMember.objects.filter(group=group, user=user).exists():
        raise ValidationError({"user": f"{user.get_full_name() or user} is already in {group}."})
    member = GroupMember(group=group, user=user)
    try:
        with transaction.atomic():
            member.save(reason=(reason or "").strip() or "Added to the group")
    except IntegrityError:  # a concurrent add of the same person
        raise ValidationError({"user": f"{user.get_full_name() or user} is already in {group}."}) from None
    return member


def remove_group_member(member: GroupMember, *, membership, reason: str = "") -> None:
    """Take someone out of a group; the history keeps who did it and why."""
    _require(membership, "groupmember.delete")
    member._change_reason = (reason or "").strip() or "Removed from the group"
    member.delete()
