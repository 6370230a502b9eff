"""Tenant and membership operations (always inside the tenant's own context, as RLS requires)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from . import context
from .models import Membership, Tenant
from .roles import Role


@transaction.atomic
def create_tenant(slug: str, name: str, time_zone: str = "UTC") -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": name, "time_zone": time_zone})
    return tenant


@transaction.atomic
def add_member(tenant: Tenant, user, roles: Iterable[str]) -> Membership:
    roles = sorted({Role(r).value for r in roles})
    if not roles:
        raise ValueError("A membership needs at least one role.")
    with context.tenant_context(tenant, user=context.get_current_user()):
        membership, created = Membership.objects.get_or_create(
            user=user, defaults={"roles": roles, "tenant": tenant}
        )
        if not created and (set(membership.roles) != set(roles) or not membership.is_active):
            membership.roles = roles
            membership.is_active = True
            membership.save(update_fields=["roles", "is_active"])
    return membership
