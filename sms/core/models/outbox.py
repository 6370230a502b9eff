"""The notification outbox: every e-mail the SMS sends is first a row here.

A message is written in the same transaction as the event it reports (a public journal
entry, a state change, an escalation), so it exists exactly when the event does. After
commit a Celery task sends it through Django's mail backend; a failure is counted and
retried later with a growing delay, and a sweep each minute picks up whatever is still
queued, so nothing is lost while the mail server is down.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .base import TenantModel

MAX_ATTEMPTS = 6


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # Written while demo data was seeded: kept to show what the SMS would send, never sent
    # on its own (a person may still send one with "retry").
    HELD = "held", "Held (demo data, not sent)"


MESSAGE_STATUS_COLOURS = {
    MessageStatus.QUEUED: "amber",
    MessageStatus.SENT: "green",
    MessageStatus.FAILED: "red",
    MessageStatus.HELD: "grey",
}


class OutboundMessage(TenantModel):
    """One e-mail to one recipient about (optionally) one record."""

    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    topic = models.CharField(
        max_length=40, blank=True, help_text="Why it was sent, e.g. incident_update, escalation, major_incident."
    )
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="A queued message is not sent before this time (back-off after a failure)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound message"
        indexes = [
            # The sender's claim: queued messages whose time has come.
            models.Index(fields=["tenant", "status", "next_attempt_at"], name="core_outbox_due_idx"),
            models.Index(fields=["tenant", "-created_at"], name="core_outbox_created_idx"),
            models.Index(fields=["tenant", "content_type", "object_id"], name="core_outbox_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"

    @property
    def can_retry(self) -> bool:
        return self.status == MessageStatus.FAILED or (self.status == MessageStatus.QUEUED and self.attempts > 0)
