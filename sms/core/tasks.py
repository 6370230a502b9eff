"""Celery tasks of the kernel: the planned-activity dispatcher and its worker task.

Tasks that touch tenant data take ``tenant_id`` explicitly; ``TenantTask`` runs them in
that tenant's context with an acting user, so history rows written by background work
say who (or which system job) did it.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task, shared_task
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sms.core.models import PlannedActivity
from sms.core.models.planned import MAX_LEAD_DAYS
from sms.core.registry import activity_kinds
from sms.tenancy import context
from sms.tenancy.models import Tenant

log = logging.getLogger(__name__)

SYSTEM_USERNAME = "sms-system"


def system_user():
    """The account background work acts as when no person asked for it."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "SMS", "last_name": "system", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class TenantTask(Task):
    """Base task: ``tenant_id`` (required) and ``user_id`` (optional) keyword arguments
    set the tenant and acting user for the task's duration."""

    # The signature check would reject tenant_id/user_id, which __call__ consumes.
    typing = False

    def __call__(self, *args, tenant_id: int, user_id: int | None = None, **kwargs):
        tenant = Tenant.objects.get(pk=tenant_id)
        User = get_user_model()
        user = User.objects.filter(pk=user_id).first() if user_id else system_user()
        with context.tenant_context(tenant, user):
            return super().__call__(*args, **kwargs)


def claim_due_activities(tenant: Tenant, limit: int = 200) -> list[int]:
    """Claim the tenant's occurrences that have fallen due and were not yet dispatched.

    Rows are locked with SKIP LOCKED so that two dispatchers never claim the same one;
    the work is queued only once the claim has committed.
    """
    today = timezone.localdate()
    claimed: list[int] = []
    with context.tenant_context(tenant, system_user()), transaction.atomic():
        rows = list(
            PlannedActivity.objects.active()
            .filter(next_due__lte=today + dt.timedelta(days=MAX_LEAD_DAYS))
            .exclude(dispatched_for=F("next_due"))
            .select_for_update(skip_locked=True)
            .order_by("next_due")[: limit * 2]
        )
        for activity in rows:
            if activity.dispatch_date > today:
                continue
            activity.dispatched_for = activity.next_due
            activity.save(update_fields=["dispatched_for"], reason="Dispatched: occurrence due")
            claimed.append(activity.pk)
            if len(claimed) >= limit:
                break
        for pk in claimed:
            transaction.on_commit(
                lambda pk=pk: run_planned_activity.delay(pk, tenant_id=tenant.pk)
            )
    return claimed


@shared_task(name="sms.core.tasks.dispatch_planned_activities")
def dispatch_planned_activities() -> int:
    """Once a minute (beat): per active tenant, claim what is due and queue it."""
    total = 0
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        total += len(claim_due_activities(tenant))
    return total


@shared_task(base=TenantTask, name="sms.core.tasks.run_planned_activity")
def run_planned_activity(activity_id: int) -> str:
    """Run the kind's handler; without one, remind the owner that the occurrence is due."""
    activity = PlannedActivity.objects.select_related("owner").filter(pk=activity_id).first()
    if activity is None:
        return "missing"
    kind = activity_kinds.get(activity.kind)
    if kind is not None and kind.handler is not None:
        with transaction.atomic():
            if kind.handler(activity):
                activity.complete(reason=f"Completed automatically ({kind.label})")
                return "completed"
        return "handled"
    if activity.owner and activity.owner.email:
        from sms.core.outbox import queue_mail

        with transaction.atomic():
            queue_mail(
                [activity.owner.email],
                f"[{context.require_tenant().name}] Due {activity.next_due:%Y-%m-%d}: {activity.title}",
                f"{activity.title} ({kind.label if kind else activity.kind}) is due on "
                f"{activity.next_due:%Y-%m-%d}.\n\n{activity.description}",
                record=activity,
                topic="planned_activity",
            )
        return "reminded"
    return "no-owner"


# --- the notification outbox -----------------------------------------------------------------
@shared_task(base=TenantTask, name="sms.core.tasks.send_outbound_messages")
def send_outbound_messages(message_ids: list[int] | None = None) -> dict[str, int]:
    """Send the given queued messages of the tenant (all due ones when none are given)."""
    from sms.core.outbox import send_due

    return send_due(message_ids)


@shared_task(name="sms.core.tasks.sweep_outbox")
def sweep_outbox() -> int:
    """Each minute (beat): queue the sending of every tenant that has messages due, so a
    message whose send failed, or whose task was lost, goes out once mail is back."""
    from sms.core.outbox import due_message_ids

    queued = 0
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        with context.tenant_context(tenant, system_user()):
            if due_message_ids(limit=1):
                send_outbound_messages.delay(tenant_id=tenant.pk)
                queued += 1
    return queued


# --- idempotency keys ------------------------------------------------------------------------
PURGE_BATCH = 1000


def purge_idempotency_keys(*, ttl: dt.timedelta | None = None, batch_size: int = PURGE_BATCH, now=None) -> int:
    """Delete the idempotency keys (and the answers stored with them) older than the TTL
    (``SMS_IDEMPOTENCY_TTL_HOURS``), tenant by tenant: row-level security shows each
    tenant's context only its own keys. Each batch is its own short transaction, so the
    purge never holds many row locks and a retry racing it waits at most one batch."""
    from django.conf import settings

    from sms.core.models import IdempotencyKey

    ttl = ttl if ttl is not None else dt.timedelta(hours=settings.SMS_IDEMPOTENCY_TTL_HOURS)
    cutoff = (now or timezone.now()) - ttl
    deleted, actor = 0, system_user()
    for tenant in Tenant.objects.order_by("pk"):  # inactive tenants' keys expire too
        with context.tenant_context(tenant, actor):
            while True:
                with transaction.atomic():
                    ids = list(
                        IdempotencyKey.objects.filter(created_at__lt=cutoff)
                        .order_by("created_at")
                        .values_list("pk", flat=True)[:batch_size]
                    )
                    if ids:
                        IdempotencyKey.objects.filter(pk__in=ids).delete()
                deleted += len(ids)
                if len(ids) < batch_size:
                    break
    if deleted:
        log.info("Purged %d idempotency keys older than %s", deleted, cutoff.isoformat())
    return deleted


@shared_task(name="sms.core.tasks.purge_idempotency_keys")
def purge_expired_idempotency_keys() -> int:
    """Each hour (beat): forget the idempotency keys past their time to live."""
    return purge_idempotency_keys()
