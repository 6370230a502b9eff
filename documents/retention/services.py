"""Retention and disposal operations (clause 4.3.3).

Disposal is three steps, each by a person (or the scheduler for the first): list what
is eligible as a run, approve the run (not its proposer), execute it. Execution checks
every record again, so a record reopened, changed or put on hold after the run was
proposed is skipped, not destroyed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from sms.core.models import Attachment, JournalEntry, RecordLink, Watcher
from sms.core.models.planned import IntervalUnit, add_interval
from sms.core.registry import kinds
from sms.tenancy import context

from .choices import DisposalState, ItemOutcome, RetentionAction
from .models import DisposalItem, DisposalRun, LegalHold, RetentionRule, Tombstone

OPEN_RUN_STATES = (DisposalState.PROPOSED, DisposalState.APPROVED)
MAX_ITEMS_PER_RUN = 500


class NothingToDispose(Exception):
    pass


def cutoff(rule: RetentionRule, now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    return now - (now.date() - add_interval(now.date(), -rule.retain_months, IntervalUnit.MONTHS))


def eligible(rule: RetentionRule, now: dt.datetime | None = None):
    """Records of the rule's kind closed before the cut-off, not on hold and not in an
    open run. Closure is the record's last change while in a closed state."""
    kind = rule.kind
    held = LegalHold.objects.filter(record_kind=kind.code, released_at__isnull=True).values("object_id")
    in_run = DisposalItem.objects.filter(
        record_kind=kind.code, run__state__in=OPEN_RUN_STATES, outcome=ItemOutcome.PENDING
    ).values("object_id")
    return (
        kind.model.objects.filter(state__in=kind.closed_states, updated_at__lt=cutoff(rule, now))
        .exclude(pk__in=held)
        .exclude(pk__in=in_run)
        .order_by("updated_at")
    )


@transaction.atomic
def propose_run(*, by, title: str = "") -> DisposalRun:
    """List every eligible record as a new run; raises NothingToDispose if none."""
    rules = [r for r in RetentionRule.objects.filter(is_active=True) if r.kind and r.kind.closed_states]
    candidates = []
    for rule in rules:
        for record in eligible(rule)[: MAX_ITEMS_PER_RUN - len(candidates)]:
            candidates.append((rule, record))
    if not candidates:
        raise NothingToDispose("No closed record has reached the end of its retention period.")
    today = timezone.localdate()
    run = DisposalRun(
        title=title or f"Records due for disposal on {today:%d %b %Y}",
        description=f"{len(candidates)} record(s) whose retention period has ended.",
        owner=by if by is not None and by.is_active else None,
    )
    run._history_user = by
    run.save(reason="Proposed")
    DisposalItem.objects.bulk_create(
        [
            DisposalItem(
                tenant_id=run.tenant_id,
                run=run,
                record_kind=rule.record_kind,
                object_id=record.pk,
                reference=record.reference,
                title=record.title[:250],
                closed_at=record.updated_at,
                rule=rule,
            )
            for rule, record in candidates
        ]
    )
    return run


def scheduled_proposal(activity) -> bool:
    """Planned-activity handler: propose a run if anything is due. Done either way."""
    try:
        propose_run(by=context.get_current_user(), title=f"{activity.title}: {timezone.localdate():%d %b %Y}")
    except NothingToDispose:
        pass
    return True


def _on_record(record) -> dict:
    return {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}


def _archive(record, kind) -> tuple[str, str]:
    """Export the record with its history, journal and links as JSON; return path, digest."""
    on = _on_record(record)
    payload = {
        "kind": kind.code,
        "reference": record.reference,
        "record": json.loads(serializers.serialize("json", [record])),
        "history": json.loads(serializers.serialize("json", record.history.all())),
        "journal": json.loads(serializers.serialize("json", JournalEntry.objects.filter(**on))),
        "attachments": [
            {"filename": a.filename, "sha256": a.sha256, "size": a.size} for a in Attachment.objects.filter(**on)
        ],
        "archived_at": timezone.now().isoformat(),
    }
    data = json.dumps(payload, indent=1, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(data).hexdigest()
    path = default_storage.save(
        f"archive/{record.tenant_id}/{kind.code}/{record.reference}-{digest[:12]}.json", ContentFile(data)
    )
    return path, digest


def _destroy(record) -> None:
    on = _on_record(record)
    ct, pk = on["content_type"], on["object_id"]
    for attachment in Attachment.objects.filter(**on):
        attachment.file.delete(save=False)
    Attachment.objects.filter(**on).delete()
    JournalEntry.objects.filter(**on).delete()
    Watcher.objects.filter(**on).delete()
    RecordLink.objects.filter(Q(source_type=ct, source_id=pk) | Q(target_type=ct, target_id=pk)).delete()
    history = record.history.all()
    record.delete()
    history.delete()


def _skip(item: DisposalItem, why: str) -> None:
    item.outcome, item.note = ItemOutcome.SKIPPED, why[:250]
    item.save(update_fields=["outcome", "note"])


def execute_run(run: DisposalRun, *, by) -> None:
    """Dispose of or archive every pending item of an approved run (called by its
    ``execute`` transition, inside the transition's transaction)."""
    now = timezone.now()
    holds = set(LegalHold.objects.filter(released_at__isnull=True).values_list("record_kind", "object_id"))
    for item in run.items.select_related("rule").filter(outcome=ItemOutcome.PENDING):
        kind, rule = kinds.find(item.record_kind), item.rule
        if kind is None:
            _skip(item, "This kind of record no longer exists.")
            continue
        record = kind.model.objects.select_for_update().filter(pk=item.object_id).first()
        if record is None:
            _skip(item, "The record no longer exists.")
        elif (item.record_kind, item.object_id) in holds:
            _skip(item, "The record is on legal hold.")
        elif record.state not in kind.closed_states or record.updated_at >= cutoff(rule, now):
            _skip(item, "The record was reopened or changed after the run was proposed.")
        else:
            path, digest = _archive(record, kind) if rule.action == RetentionAction.ARCHIVE else ("", "")
            created_at = record.created_at
            try:
                with transaction.atomic():
                    _destroy(record)
            except ProtectedError:
                if path:
                    default_storage.delete(path)
                _skip(item, "Other records still refer to it.")
                continue
            Tombstone.objects.create(
                tenant_id=run.tenant_id,
                record_kind=item.record_kind,
                reference=item.reference,
                record_created_at=created_at,
                closed_at=item.closed_at,
                action=rule.action,
                rule_summary=str(rule)[:250],
                run=run,
                executed_by=by,
                executed_at=now,
                archive_file=path,
                archive_sha256=digest,
            )
            item.outcome = ItemOutcome.ARCHIVED if path else ItemOutcome.DISPOSED
            item.title = ""
            item.save(update_fields=["outcome", "title"])
    run.executed_by = by
    run.executed_at = now


@transaction.atomic
def place_hold(*, record_kind: str, object_id: int, reason: str, by) -> LegalHold:
    kind = kinds.find(record_kind)
    record = kind.model.objects.get(pk=object_id)
    hold = LegalHold(record_kind=record_kind, object_id=object_id, reference=record.reference, reason=reason)
    hold._history_user = by
    hold.save(reason="Legal hold placed")
    return hold


@transaction.atomic
def release_hold(hold: LegalHold, *, by, reason: str) -> LegalHold:
    hold.released_at = timezone.now()
    hold.released_by = by
    hold.release_reason = reason
    hold._history_user = by
    hold.save(reason="Legal hold released")
    return hold


def seed_demo(tenant, people) -> None:
    """A retention rule for improvements and the monthly review of records due for disposal."""
    from sms.core.models import PlannedActivity

    RetentionRule.objects.get_or_create(
        record_kind="improvement",
        defaults={
            "retain_months": 36,
            "action": RetentionAction.ARCHIVE,
            "rationale": "Kept three years after closure as evidence for certification audits.",
        },
    )
    PlannedActivity.objects.get_or_create(
        kind="records_disposal_review",
        defaults={
            "title": "Monthly review of records due for disposal",
            "interval_count": 1,
            "interval_unit": "months",
            "next_due": timezone.localdate() + dt.timedelta(days=7),
            "owner": people.get("admin"),
        },
    )
