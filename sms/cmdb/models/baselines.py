"""Configuration baselines (clause 9.1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sms.core.models import TenantModel


class ImmutableError(Exception):
    """A baseline was asked to change or disappear."""


class Baseline(TenantModel):
    """A configuration baseline: the recorded state of a set of CIs at one moment, with
    all their attributes and relationships (clause 9.1: a baseline of the affected CIs
    is taken before a release is deployed into the live environment).

    Immutable once taken: the model refuses updates and deletion, and a database
    trigger refuses UPDATE. The SHA-256 of the snapshot lets anyone verify that the
    items are those recorded at ``taken_at``.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    taken_at = models.DateTimeField(default=timezone.now, editable=False)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    scope = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What the baseline covers (CIs, services, types), so the current CMDB can be compared like for like.",
    )
    items = models.JSONField(default=dict, editable=False, help_text="Snapshot keyed by CI reference.")
    item_count = models.PositiveIntegerField(default=0, editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-taken_at"], name="cmdb_baseline_taken_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("A configuration baseline cannot be changed once taken.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A configuration baseline cannot be deleted.")
