"""Idempotency keys of API creations: a client that retries a POST with the same
``Idempotency-Key`` gets the first answer again instead of a second record."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .base import TenantModel


class IdempotencyKey(TenantModel):
    """One key a client sent with a creating request, per tenant and endpoint.

    The row is inserted in the same transaction as the record it creates, under a unique
    constraint: a concurrent retry waits on the first insert and then finds the committed
    answer; a request that failed leaves no row, so the client may try again."""

    scope = models.CharField(max_length=100, help_text="The endpoint's model, e.g. resolution.incident.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path, caller and body of the first request."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "idempotency key"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "scope", "key"], name="core_idempotencykey_tenant_scope_key_uniq"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="core_idemkey_created_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
