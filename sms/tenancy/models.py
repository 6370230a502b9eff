"""Tenants, memberships and API tokens.

A tenant is one service provider running one SMS (ISO/IEC 20000-1 clause 4.1: the
organisation whose management system this is). A membership gives a user roles in a
tenant; a user may hold memberships in several tenants with different roles.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import connections, models

from . import context
from .roles import Role, has_capability


class Tenant(models.Model):
    """A service provider organisation that runs one SMS in this installation.

    Not itself tenant-scoped: it is the list the tenant context points into.
    """

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Lower-case letters, digits and hyphens.")],
        help_text="Used in browser URLs: /t/<slug>/.",
    )
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)
    settings_version = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Goes up with every change to set-up that processes keep in memory (the incident "
        "priority matrix, targets, service hours...): a process holding an older copy reloads it.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The version moves only through bump_settings_version: a form or command saving a
        # tenant read earlier must not write an older version back.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "settings_version"
            ]
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        """Remembers the transaction the row was read in: ``settings_version`` read in the
        running transaction is as current as a fresh read (see ``version_now``)."""
        instance = super().from_db(db, field_names, values)
        instance._read_in = _transaction_of(db)
        return instance

    def version_now(self, using: str = "default") -> int:
        """``settings_version`` as the running transaction sees it: the loaded value when
        this row was read in this very transaction (requests read their tenant when they
        authenticate), else read again."""
        if getattr(self, "_read_in", None) is not None and self._read_in == _transaction_of(using):
            return self.settings_version
        version = Tenant.objects.using(using).filter(pk=self.pk).values_list("settings_version", flat=True).first()
        return version or 0

    @classmethod
    def bump_settings_version(cls, tenant_id: int, using: str = "default") -> None:
        """Cached set-up of this tenant changed (in the running transaction, if any)."""
        cls.objects.using(using).filter(pk=tenant_id).update(settings_version=models.F("settings_version") + 1)


def _transaction_of(alias: str):
    """The running transaction of a connection, or None outside one (the backend numbers
    its transactions; see sms.core.db.base)."""
    conn = connections[alias]
    serial = getattr(conn, "transaction_serial", None)
    if not conn.in_atomic_block or serial is None:
        return None
    return (alias, serial)


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, tenant__is_active=True)


class MembershipManager(models.Manager.from_queryset(MembershipQuerySet)):
    """Memberships of the current tenant. Fails closed without one."""

    def get_queryset(self):
        return super().get_queryset().filter(tenant=context.require_tenant())

    def none(self):
        return super().get_queryset().none()


class Membership(models.Model):
    """A user's roles in one tenant.

    Row-level security lets a session see the memberships of its tenant and, to build
    the tenant switcher, the current user's own memberships in other tenants.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    roles = ArrayField(
        models.CharField(max_length=32, choices=Role.choices),
        default=list,
        help_text="One or more roles; capabilities are the union of the roles' capabilities.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipManager()
    # The current user's memberships across tenants (RLS user policy): login, switcher.
    unscoped = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="tenancy_membership_tenant_user_uniq"),
        ]
        indexes = [models.Index(fields=["user", "tenant"], name="tenancy_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant.slug} ({', '.join(self.roles)})"

    def can(self, capability: str) -> bool:
        return self.is_active and has_capability(self.roles, capability)

    def get_role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles if role in Role.values]


class ApiToken(models.Model):
    """An API key that acts as one membership, so in exactly one tenant.

    Only the SHA-256 digest is stored; the key is shown once, when it is created.
    The table has no tenant column: a token is looked up by digest before any tenant
    is known, and grants nothing without its membership (which RLS protects).
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, default="API token")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to tell keys apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, membership: Membership, name: str = "API token") -> tuple[ApiToken, str]:
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            membership=membership, user_id=membership.user_id, name=name,
            digest=cls.hash_key(key), prefix=key[:8],
        )
        return token, key
