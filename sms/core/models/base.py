"""The shared record model: TenantModel -> TrackedModel -> Record.

Every table of the SMS that belongs to a tenant derives from ``TenantModel``; every one
whose changes must be evidenced (clause 4.3.3, control of records) from ``TrackedModel``;
every process record with a human reference (``INC-1042``) from ``Record``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, models
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from sms.tenancy import context


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Rows of the current tenant only; raises ``NoTenantError`` when none is set."""

    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=context.require_tenant().pk)

    def none(self):
        # An empty queryset leaks nothing; introspection (schema generation) needs it.
        return super().get_queryset().none()


class UnscopedManager(models.Manager.from_queryset(TenantQuerySet)):
    """No tenant filter. For system work that knows what it does; RLS still applies."""


class TenantModel(models.Model):
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.PROTECT, editable=False, related_name="+", db_index=False
    )

    objects = TenantManager()
    unscoped = UnscopedManager()

    class Meta:
        abstract = True
        base_manager_name = "unscoped"

    def save(self, *args, **kwargs):
        current = context.current_tenant_id()
        if self.tenant_id is None:
            self.tenant_id = context.require_tenant().pk
        elif current is not None and self.tenant_id != current:
            raise context.NoTenantError(
                f"{type(self).__name__} belongs to tenant {self.tenant_id}, not the current tenant {current}."
            )
        super().save(*args, **kwargs)


def _history_user(instance=None, request=None, **kwargs):
    """Acting user for simple-history: explicit on the instance, else the context's."""
    explicit = getattr(instance, "_history_user", None) if instance is not None else None
    if explicit is not None:
        return explicit
    user = context.get_current_user()
    return user if user is not None and user.is_authenticated else None


class _HistoryManager(HistoryManager):
    """simple-history's manager, with the manager class it builds on every ``instance.history``
    (``from_queryset``, which inspects every queryset method) built once per queryset class.
    Saving a record reads that attribute once for its history row."""

    _built: dict = {}

    @classmethod
    def from_queryset(cls, queryset_class, class_name=None):
        key = (cls, queryset_class, class_name)
        built = cls._built.get(key)
        if built is None:
            built = cls._built[key] = super().from_queryset(queryset_class, class_name)
        return built


class TrackedModel(TenantModel):
    """Who created and last changed the row, and its full history with reasons."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False, verbose_name="creator",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False, verbose_name="last changed by",
    )

    history = HistoricalRecords(
        inherit=True, get_user=_history_user, cascade_delete_history=False, history_manager=_HistoryManager
    )

    class Meta:
        abstract = True

    def save(self, *args, reason: str | None = None, **kwargs):
        user = _history_user(self)
        if user is not None:
            if self._state.adding and self.created_by_id is None:
                self.created_by = user
            self.updated_by = user
        if reason:
            self._change_reason = reason
        elif self._state.adding and not getattr(self, "_change_reason", None):
            self._change_reason = "Created"
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"updated_at", "updated_by"}
        super().save(*args, **kwargs)


class ReferenceCounter(TenantModel):
    """Last reference number given out per tenant and record kind.

    Allocation is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` inside the
    creating transaction: concurrent creators queue on the counter row and a rolled-back
    creation gives its number back, so references have no gaps and no duplicates.
    """

    kind = models.CharField(max_length=32)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="core_referencecounter_tenant_kind_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.last_number}"

    @staticmethod
    def allocate(tenant_id: int, kind: str) -> int:
        table = ReferenceCounter._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (tenant_id, kind, last_number) VALUES (%s, %s, 1)
                ON CONFLICT (tenant_id, kind) DO UPDATE SET last_number = {table}.last_number + 1
                RETURNING last_number
                """,
                [tenant_id, kind],
            )
            return cursor.fetchone()[0]


class Record(TrackedModel):
    """A process record with a per-tenant human reference, e.g. ``INC-1042``.

    Journal entries, attachments, links and watchers hang off any record through
    generic relations (see ``sms.core.models.collab``).
    """

    number = models.PositiveIntegerField(editable=False)
    reference = models.CharField(max_length=32, editable=False)
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Accountable for the record; must be a member of the tenant.",
    )

    class Meta:
        abstract = True
        ordering = ["-number"]
        constraints = [
            # Tenant-first: also the index behind the default list order and reference lookups.
            models.UniqueConstraint(fields=["tenant", "number"], name="%(app_label)s_%(class)s_tenant_number_uniq"),
            models.UniqueConstraint(fields=["tenant", "reference"], name="%(app_label)s_%(class)s_tenant_ref_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}" if self.reference else self.title

    def save(self, *args, **kwargs):
        if self._state.adding and not self.number:
            kind = self.kind()
            tenant_id = self.tenant_id or context.require_tenant().pk
            self.tenant_id = tenant_id
            self.number = ReferenceCounter.allocate(tenant_id, kind.code)
            self.reference = f"{kind.prefix}-{self.number}"
        super().save(*args, **kwargs)

    @classmethod
    def kind(cls):
        from sms.core.registry import kinds

        return kinds.for_model(cls)
