"""Operations on records that the API, the browser and tasks share."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from sms.core.models import Attachment, JournalEntry, RecordLink, Visibility, Watcher


def _on(record) -> dict:
    return {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}


@transaction.atomic
def add_journal_entry(record, *, by, body: str, visibility: str = Visibility.INTERNAL) -> JournalEntry:
    entry = JournalEntry.objects.create(body=body.strip(), visibility=visibility, author=by, **_on(record))
    watch(record, by)
    return entry


@transaction.atomic
def attach_file(record, upload, *, by) -> Attachment:
    Attachment.validate_upload(upload)
    attachment = Attachment(
        filename=upload.name[:255],
        content_type_header=(upload.content_type or "").split(";")[0].strip().lower(),
        size=upload.size,
        sha256=Attachment.digest(upload),
        uploaded_by=by,
        **_on(record),
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def link_records(record, *, by, link_type: str, source_type, source_id, target_type, target_id,
                 note: str = "") -> RecordLink:
    link = RecordLink(
        source_type=source_type, source_id=source_id, link_type=link_type,
        target_type=target_type, target_id=target_id, note=note,
    )
    link._history_user = by
    link.save(reason=f"Linked to {target_type.model} {target_id}")
    return link


@transaction.atomic
def unlink_records(link: RecordLink, *, by) -> None:
    link._history_user = by
    link._change_reason = "Link removed"
    link.delete()


def watch(record, user) -> Watcher:
    watcher, _ = Watcher.objects.get_or_create(user=user, **_on(record))
    return watcher
