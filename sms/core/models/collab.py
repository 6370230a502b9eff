"""What hangs off any record: journal entries, attachments, links and watchers."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from .base import TenantModel, TrackedModel


class OnRecord(models.Model):
    """A generic pointer to one record of any registered kind."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")

    class Meta:
        abstract = True


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public (customer can see it)"
    INTERNAL = "internal", "Internal note"


class JournalEntry(OnRecord, TenantModel):
    """A dated, attributed entry in a record's journal; never edited, never deleted.

    Public entries are what the customer is told (clause 8.1: keep the customer
    informed); internal notes stay with the service provider.
    """

    body = models.TextField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=["tenant", "content_type", "object_id", "-created_at"], name="core_journal_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_visibility_display()}: {self.body[:60]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.tenant_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(OnRecord, TenantModel):
    """A file kept as evidence on a record, identified by its SHA-256 digest."""

    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type_header = models.CharField("content type", max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "content_type", "object_id", "-created_at"], name="core_attach_record_idx"),
        ]

    def __str__(self) -> str:
        return self.filename

    @staticmethod
    def validate_upload(upload) -> None:
        errors = {}
        if upload.size > settings.SMS_ATTACHMENT_MAX_BYTES:
            errors["file"] = (
                f"The file is {upload.size} bytes; the limit is {settings.SMS_ATTACHMENT_MAX_BYTES} bytes."
            )
        ctype = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if ctype not in settings.SMS_ATTACHMENT_CONTENT_TYPES:
            errors["file"] = f"Files of type {ctype or 'unknown'!r} are not accepted."
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def digest(upload) -> str:
        sha = hashlib.sha256()
        for chunk in upload.chunks():
            sha.update(chunk)
        upload.seek(0)
        return sha.hexdigest()


class LinkType(models.TextChoices):
    RELATES_TO = "relates_to", "relates to"
    CAUSED_BY = "caused_by", "caused by"
    DUPLICATES = "duplicates", "duplicates"
    BLOCKS = "blocks", "blocks"
    RESOLVES = "resolves", "resolves"
    IMPLEMENTS = "implements", "implements"
    RAISED_FROM = "raised_from", "raised from"
    CHANGES = "changes", "changes (request for change for)"
    EVIDENCES = "evidences", "is evidence for"
    # From a change with potential major impact to the record of the new or changed
    # service that plans it (clause 5 design and transition; until that app provides its
    # own record kind, any record may stand in, e.g. a controlled design document).
    PLANNED_IN = "planned_in", "is planned in (new or changed service record)"


INVERSE_LABELS = {
    LinkType.RELATES_TO: "relates to",
    LinkType.CAUSED_BY: "caused",
    LinkType.DUPLICATES: "is duplicated by",
    LinkType.BLOCKS: "is blocked by",
    LinkType.RESOLVES: "is resolved by",
    LinkType.IMPLEMENTS: "is implemented by",
    LinkType.RAISED_FROM: "gave rise to",
    LinkType.CHANGES: "is changed by",
    LinkType.EVIDENCES: "is evidenced by",
    LinkType.PLANNED_IN: "plans (as new or changed service record)",
}


class RecordLink(TrackedModel):
    """A typed, directed link between two records of any kinds (e.g. a problem
    ``caused_by`` a CI change, an RFC that ``resolves`` a problem)."""

    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    source_id = models.PositiveBigIntegerField()
    source = GenericForeignKey("source_type", "source_id")
    link_type = models.CharField(max_length=20, choices=LinkType.choices)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    note = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source_type", "source_id", "link_type", "target_type", "target_id"],
                name="core_recordlink_uniq",
            ),
            models.CheckConstraint(
                condition=~(models.Q(source_type=models.F("target_type")) & models.Q(source_id=models.F("target_id"))),
                name="core_recordlink_not_self",
                violation_error_message="A record cannot be linked to itself.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "target_type", "target_id"], name="core_recordlink_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_link_type_display()} {self.target}"


class Watcher(TenantModel):
    """A user who follows a record and is told about its changes."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "content_type", "object_id", "user"], name="core_watcher_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.user} watches {self.record}"
