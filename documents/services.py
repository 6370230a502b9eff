"""Operations on controlled documents that touch several rows (clause 4.3)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from sms.core.models import Attachment, IntervalUnit, PlannedActivity, add_interval
from sms.core.outbox import queue_mail
from sms.core.workflow import TransitionBlocked
from sms.tenancy import context
from sms.tenancy.models import Membership

from .choices import DocumentState, VersionState
from .models import Acknowledgement, DistributionEntry, Document, DocumentVersion

log = logging.getLogger(__name__)
REVIEW_KIND = "document_review"
User = get_user_model()


# --- review cycle (planned activity) ---------------------------------------------------
def review_activity(document: Document) -> PlannedActivity | None:
    return PlannedActivity.objects.filter(
        kind=REVIEW_KIND, subject_type=ContentType.objects.get_for_model(Document), subject_id=document.pk
    ).first()


def sync_review_activity(document: Document) -> PlannedActivity:
    """Keep the document's one ``document_review`` planned activity in line with it, so
    its review shows on the due list and the owner's home page."""
    activity = review_activity(document) or PlannedActivity(
        kind=REVIEW_KIND, subject_type=ContentType.objects.get_for_model(Document), subject_id=document.pk,
        interval_unit=IntervalUnit.MONTHS,
    )
    wanted = {
        "title": f"Review {document.reference} {document.title}"[:200],
        "owner_id": document.owner_id,
        "interval_count": document.review_interval_months,
        "interval_unit": IntervalUnit.MONTHS,
        "next_due": document.next_review_date,
        "is_active": document.state == DocumentState.ACTIVE,
    }
    changed = [k for k, v in wanted.items() if getattr(activity, k) != v]
    if activity.pk is None or changed:
        for key, value in wanted.items():
            setattr(activity, key, value)
        activity.description = "Check that the document is still suitable, correct and complete."
        activity._history_user = getattr(document, "_history_user", None)
        activity.save(reason="Document review cycle" if activity.pk is None else "Document review cycle changed")
    return activity


@transaction.atomic
def record_review(document: Document, *, by, note: str = "") -> Document:
    """The owner reviewed the document (clause 4.3.2 c): the next review is one interval
    after today, and the planned occurrence is marked done."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    document.last_reviewed_at = timezone.now()
    document.last_reviewed_by = by
    document.next_review_date = add_interval(timezone.localdate(), document.review_interval_months, "months")
    document._history_user = by
    document.save(reason=f"Reviewed: {note}" if note else "Reviewed")
    activity = review_activity(document)
    if activity is not None:
        activity.last_done_at = document.last_reviewed_at
        activity._history_user = by
        activity.save(reason="Review done")
    return document


def complete_review_activity(activity: PlannedActivity, *, by, note: str = "") -> None:
    """Done on the planned-activities page or API: the same as reviewing the document."""
    document = Document.objects.filter(pk=activity.subject_id).first()
    if document is None:  # the document is gone; fall back to the generic advance
        activity.subject_id = None
        activity.complete(reason=note)
        return
    record_review(document, by=by, note=note)


# --- versions ----------------------------------------------------------------------------
def _store_file(version: DocumentVersion, upload) -> None:
    Attachment.validate_upload(upload)
    version.sha256 = Attachment.digest(upload)
    version.filename = upload.name[:255]
    version.file_content_type = (upload.content_type or "").split(";")[0].strip().lower()
    version.file_size = upload.size
    version.file.save(upload.name, upload, save=False)


@transaction.atomic
def create_version(document: Document, *, by, change_summary: str = "", reason: str = "", content: str = "",
                   upload=None) -> DocumentVersion:
    """A new draft version, numbered one above the highest so far."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.state != DocumentState.ACTIVE:
        raise ValidationError({"document": "The document is retired; reinstate it before drafting a version."})
    last = document.versions.aggregate(n=Max("number"))["n"] or 0
    version = DocumentVersion(
        document=document, number=last + 1, change_summary=change_summary.strip(), reason=reason.strip(),
        content=content,
    )
    if upload is not None:
        _store_file(version, upload)
    version._history_user = by
    version.save(reason="Drafted")
    return version


@transaction.atomic
def update_draft(version: DocumentVersion, *, by, upload=None, **fields) -> DocumentVersion:
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    if version.state != VersionState.DRAFT:
        raise ValidationError({"non_field_errors": "Only a draft can be edited; draft a new version instead."})
    for key, value in fields.items():
        setattr(version, key, value)
    if upload is not None:
        _store_file(version, upload)
    version._history_user = by
    version.save(reason="Draft edited")
    return version


def on_issue(version: DocumentVersion, *, by) -> None:
    """Runs inside the ``issue`` transition (one transaction): supersede the version in
    force, point the document at the new one, restart its review cycle and ask the
    distribution list to acknowledge it."""
    # The document row serialises issuers of the same document.
    document = Document.objects.select_for_update().get(pk=version.document_id)
    previous = (
        DocumentVersion.objects.select_for_update()
        .filter(document=document, state=VersionState.ISSUED)
        .exclude(pk=version.pk)
        .first()
    )
    if previous is not None:
        if previous.number > version.number:
            raise TransitionBlocked(f"Version {previous.number}, newer than this one, is already issued.")
        previous.supersede(by=by, successor=version)
        previous._history_user = by
        previous.save(reason=f"Superseded by version {version.number}")
    document.current_version = version
    document.next_review_date = add_interval(timezone.localdate(), document.review_interval_months, "months")
    document._history_user = by
    document.save(reason=f"Version {version.number} issued")
    version.document = document
    request_acknowledgements(version)


def on_withdraw(version: DocumentVersion, *, by) -> None:
    document = Document.objects.select_for_update().get(pk=version.document_id)
    if document.current_version_id == version.pk:
        document.current_version = None
        document._history_user = by
        document.save(reason=f"Version {version.number} withdrawn")


# --- distribution and acknowledgement ----------------------------------------------------
def distribution_users(document: Document) -> list:
    """Active members named on the list, directly or through a role."""
    entries = list(document.distribution.all())
    roles = [e.role for e in entries if e.role]
    user_ids = {e.user_id for e in entries if e.user_id}
    members = Membership.objects.active().filter(user__is_active=True)
    q = Q(user_id__in=user_ids)
    if roles:
        q |= Q(roles__overlap=roles)
    ids = members.filter(q).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def request_acknowledgements(version: DocumentVersion) -> list[Acknowledgement]:
    users = distribution_users(version.document)
    existing = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
    created = [Acknowledgement.objects.create(version=version, user=u) for u in users if u.pk not in existing]
    parties = [e.party for e in version.document.distribution.select_related("party") if e.party_id]
    recipients = [u.email for u in users if u.email] + [p.email for p in parties if p.email]
    if recipients:
        tenant = context.require_tenant()
        subject = f"[{tenant.name}] {version.document.reference} {version.document.title}: version {version.number}"
        body = _issue_mail_body(version)
        # Through the outbox: queued with the issue, sent after commit, retried if mail is down.
        queue_mail(recipients, subject, body, record=version.document, topic="document_issue")
    return created


def _issue_mail_body(version: DocumentVersion) -> str:
    doc = version.document
    lines = [
        f"Version {version.number} of {doc.reference} \"{doc.title}\" has been issued and is now in force.",
        "",
        f"What changed: {version.change_summary or '-'}",
        f"Why: {version.reason or '-'}",
        "",
        "Members of the organisation: please read it and confirm in the application that you have done so.",
        "Earlier versions are superseded and must no longer be used.",
    ]
    return "\n".join(lines)


class NotAcknowledgeable(ValidationError):
    pass


@transaction.atomic
def acknowledge(version: DocumentVersion, *, user) -> Acknowledgement:
    """``user`` confirms having read the issued ``version``."""
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    if version.state != VersionState.ISSUED:
        raise NotAcknowledgeable(
            {"version": f"Version {version.number} is {version.get_state_display().lower()}, not in force; "
                        "only the issued version can be acknowledged."}
        )
    ack, _ = Acknowledgement.objects.get_or_create(version=version, user=user)
    if ack.acknowledged_at is None:
        ack.acknowledged_at = timezone.now()
        ack.save(update_fields=["acknowledged_at"])
    return ack


def add_distribution(document: Document, *, by, role: str = "", user=None, party=None) -> DistributionEntry:
    entry = DistributionEntry(document=document, role=role or "", user=user, party=party)
    entry._history_user = by
    entry.full_clean(exclude=["tenant", "document"], validate_unique=False, validate_constraints=False)
    entry.save(reason="Added to the distribution list")
    return entry
