"""The current tenant and acting user, held in context variables.

Set by the tenant middleware (browser), by token authentication (API), by the Celery
base task (``tenant_id`` is an explicit task argument) and by management commands
(``--tenant``). The database backend copies both into the transaction's settings
(``app.tenant_id``, ``app.user_id``) which the row-level security policies read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from .models import Membership, Tenant

_tenant: ContextVar[Tenant | None] = ContextVar("sms_tenant", default=None)
_user: ContextVar[AbstractBaseUser | None] = ContextVar("sms_user", default=None)
_membership: ContextVar[Membership | None] = ContextVar("sms_membership", default=None)


class NoTenantError(RuntimeError):
    """A tenant-scoped query ran with no current tenant: a bug, never a fallback."""


def get_current_tenant() -> Tenant | None:
    return _tenant.get()


def current_tenant_id() -> int | None:
    tenant = _tenant.get()
    return tenant.pk if tenant is not None else None


def require_tenant() -> Tenant:
    tenant = _tenant.get()
    if tenant is None:
        raise NoTenantError(
            "No current tenant. Tenant-scoped data needs a tenant context "
            "(tenant_context(...)); cross-tenant system work uses Model.unscoped."
        )
    return tenant


def get_current_user() -> AbstractBaseUser | None:
    return _user.get()


def current_user_id() -> int | None:
    user = _user.get()
    return user.pk if user is not None and user.is_authenticated else None


def get_current_membership() -> Membership | None:
    return _membership.get()


def activate(tenant: Tenant | None, user=None, membership: Membership | None = None) -> None:
    """Set the context for the rest of this request/task (no automatic reset)."""
    _tenant.set(tenant)
    _user.set(user)
    _membership.set(membership)


def set_user(user) -> None:
    _user.set(user)


@contextmanager
def tenant_context(tenant: Tenant | None, user=None, membership: Membership | None = None) -> Iterator[None]:
    """Run a block as ``tenant`` (and ``user``); restores the previous context after."""
    tokens = (_tenant.set(tenant), _user.set(user if user is not None else _user.get()), _membership.set(membership))
    try:
        yield
    finally:
        _membership.reset(tokens[2])
        _user.reset(tokens[1])
        _tenant.reset(tokens[0])
