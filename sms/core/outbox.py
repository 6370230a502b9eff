"""Queue and send e-mail through the outbox (see ``sms.core.models.outbox``).

``queue_mail`` is called inside the transaction that records the event; the send is
scheduled for after the commit, so a rolled-back event sends nothing and a committed
one is never lost: if the send fails the message stays queued with the error, and is
tried again later by the task or the sweep, up to ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from sms.tenancy import context

from .models.outbox import MAX_ATTEMPTS, MessageStatus, OutboundMessage

log = logging.getLogger(__name__)

# True while demo data is seeded: messages are written as held, not sent.
_holding: ContextVar[bool] = ContextVar("outbox_holding", default=False)


@contextmanager
def held() -> Iterator[None]:
    """Within this block, queued messages are written as held and never sent by
    themselves: demo data shows the notices the SMS would send without mailing the
    demo people at start-up."""
    token = _holding.set(True)
    try:
        yield
    finally:
        _holding.reset(token)


# Wait before attempt n+1 after n failures: 1, 5, 15, 60, 240 minutes.
BACKOFF_MINUTES = (1, 5, 15, 60, 240)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def queue_mail(
    recipients: Iterable[str], subject: str, body: str, *, record=None, topic: str = ""
) -> list[OutboundMessage]:
    """One queued message per distinct non-empty address, in the current transaction
    (held instead, and not sent, inside ``held()``)."""
    addresses = sorted({a.strip().lower() for a in recipients if a and a.strip()})
    if not addresses:
        return []
    holding = _holding.get()
    on_record = {}
    if record is not None:
        on_record = {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}
    messages = OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                tenant_id=context.require_tenant().pk,
                recipient=address,
                subject=subject[:250],
                body=body,
                topic=topic,
                status=MessageStatus.HELD if holding else MessageStatus.QUEUED,
                **on_record,
            )
            for address in addresses
        ]
    )
    if not holding:
        schedule_send([m.pk for m in messages])
    return messages


def schedule_send(message_ids: list[int]) -> None:
    """After commit, hand the messages to the sending task (never fatal)."""
    from .tasks import send_outbound_messages

    tenant_id = context.require_tenant().pk

    def enqueue() -> None:
        try:
            send_outbound_messages.delay(message_ids, tenant_id=tenant_id)
        except Exception:  # noqa: BLE001 - the broker being down must not undo the event; the sweep sends later
            log.exception("Could not queue the sending of outbound messages %s", message_ids)

    transaction.on_commit(enqueue)


def send_one(message_id: int, *, now: dt.datetime | None = None) -> str | None:
    """Send one queued message whose time has come; returns its new status, or None when
    it is not (or no longer) due. The row is locked (SKIP LOCKED) while it is sent, so
    two workers never send the same message."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        try:
            with get_connection(fail_silently=False) as connection:
                EmailMessage(
                    message.subject,
                    message.body,
                    settings.DEFAULT_FROM_EMAIL,
                    [message.recipient],
                    connection=connection,
                ).send()
        except Exception as exc:  # noqa: BLE001 - any transport error is recorded and retried
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            log.warning(
                "Outbound message %s to %s failed (attempt %s): %s",
                message.pk,
                message.recipient,
                message.attempts,
                message.last_error,
            )
        else:
            message.status = MessageStatus.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
        message.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at", "updated_at"])
        return message.status


def due_message_ids(limit: int = 200, *, now: dt.datetime | None = None) -> list[int]:
    return list(
        OutboundMessage.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now or timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def send_due(message_ids: Iterable[int] | None = None, *, limit: int = 200) -> dict[str, int]:
    """Send the given messages (or every due one of the current tenant); counts by outcome."""
    ids = list(message_ids) if message_ids is not None else due_message_ids(limit)
    counts = {"sent": 0, "queued": 0, "failed": 0, "skipped": 0}
    for pk in ids:
        counts[send_one(pk) or "skipped"] += 1
    return counts


@transaction.atomic
def retry(message: OutboundMessage) -> OutboundMessage:
    """Put a failed (or waiting) message back in the queue for an immediate attempt. The
    attempts keep counting: a retried failed message that fails again is failed again."""
    message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status == MessageStatus.SENT:
        return message
    message.status = MessageStatus.QUEUED
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "next_attempt_at", "updated_at"])
    schedule_send([message.pk])
    return message
