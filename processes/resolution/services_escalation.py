"""Escalation of incidents (clause 8.1).

Each minute a Celery task evaluates the tenant's active rules: a rule acts on a running
incident once the rule's share of the response or resolution target has gone, counted
in service time of the incident's calendar (pauses on hold do not count). It acts at
most once per incident: the ``Escalation`` row is inserted under a unique constraint in
the same transaction as the action, so parallel or repeated runs cannot act twice.

Every escalation is recorded on the incident: the escalation row (shown in the
incident's timeline) and a history row with the reason.

When a target is breached the customer contact and the interested parties (the
customer, the record's watchers, the assignee) are told that it will not be met.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, DurationField, Exists, ExpressionWrapper, F, OuterRef, Value, When
from django.utils import timezone

from sms.core.models import JournalEntry, Visibility, Watcher
from sms.core.outbox import queue_mail
from sms.tenancy import context

from . import working_time as wt
from .choices import RUNNING_STATES
from .models import Escalation, EscalationRule, Incident, PriorityLevel
from .models.escalation import EscalationAction, EscalationTarget, NotifyWhom
from .notifications import caller_address, role_addresses

log = logging.getLogger(__name__)
TOPIC = "escalation"


# --- whom to tell -------------------------------------------------------------------------------
def group_addresses(group) -> list[str]:
    """The group's own address and its members' (support group members)."""
    if group is None:
        return []
    from .models import GroupMember

    members = GroupMember.objects.filter(group=group, user__is_active=True).select_related("user")
    return [a for a in [group.email, *(m.user.email for m in members)] if a]


def customer_addresses(incident: Incident) -> list[str]:
    """The caller; without a caller's address, the customer's primary contact."""
    address = caller_address(incident)
    if address:
        return [address]
    if incident.customer_id:
        primary = incident.customer.contacts.exclude(email="").order_by("-is_primary", "name").first()
        if primary is not None:
            return [primary.email]
    return []


def interested_addresses(incident: Incident) -> list[str]:
    """Who else has a stake: the customer party, the record's watchers, the assignee."""
    from django.contrib.contenttypes.models import ContentType

    addresses = []
    if incident.customer_id and incident.customer.email:
        addresses.append(incident.customer.email)
    watchers = Watcher.objects.filter(
        content_type=ContentType.objects.get_for_model(Incident), object_id=incident.pk, user__is_active=True
    ).select_related("user")
    addresses += [w.user.email for w in watchers if w.user.email]
    if incident.assignee_id and incident.assignee.email:
        addresses.append(incident.assignee.email)
    return addresses


def rule_recipients(rule: EscalationRule, incident: Incident) -> list[str]:
    if rule.notify == NotifyWhom.ASSIGNMENT_GROUP:
        addresses = group_addresses(incident.assignment_group)
        if incident.assignee_id and incident.assignee.email:
            addresses.append(incident.assignee.email)
        return addresses
    if rule.notify == NotifyWhom.ROLE:
        return role_addresses(rule.role)
    if rule.notify == NotifyWhom.CUSTOMER:
        return customer_addresses(incident)
    return []


# --- when a rule is due -----------------------------------------------------------------------
def target_reached(rule: EscalationRule, incident: Incident, cal: wt.WorkingCalendar, now: dt.datetime) -> bool:
    """Whether ``rule.percent`` of the incident's target has gone, in service time."""
    start = incident.created_at
    if rule.target == EscalationTarget.RESPONSE:
        if incident.responded_at is not None or incident.response_due_at is None:
            return False
        target = wt.working_minutes_between(cal, start, incident.response_due_at)
        paused = 0
    else:
        if incident.resolution_due_at is None:
            return False
        paused = incident.paused_minutes
        target = max(wt.working_minutes_between(cal, start, incident.resolution_due_at) - paused, 0)
    return wt.working_minutes_between(cal, start, now) >= paused + rule.percent * target / 100


def candidates(rule: EscalationRule, now: dt.datetime, limit: int):
    """Running incidents the rule has not acted on, whose wall-clock age already covers
    the rule's share of their priority's target (service time never runs faster than the
    clock, so this only removes incidents that cannot be due yet)."""
    levels = {row.level: row for row in PriorityLevel.objects.all()}
    minutes = {
        lvl: (row.response_minutes if rule.target == EscalationTarget.RESPONSE else row.resolution_minutes)
        for lvl, row in levels.items()
    }
    share = Case(
        *[When(priority=lvl, then=Value(dt.timedelta(minutes=m * rule.percent / 100))) for lvl, m in minutes.items()],
        default=Value(dt.timedelta()),
        output_field=DurationField(),
    )
    qs = (
        Incident.objects.filter(state__in=RUNNING_STATES)
        .annotate(due_from=ExpressionWrapper(F("created_at") + share, output_field=DateTimeField()))
        .filter(due_from__lte=now)
        .exclude(Exists(Escalation.objects.filter(incident=OuterRef("pk"), rule=rule)))
    )
    if rule.target == EscalationTarget.RESPONSE:
        qs = qs.filter(responded_at__isnull=True, response_due_at__isnull=False)
    else:
        qs = qs.filter(resolution_due_at__isnull=False)
    if rule.priorities:
        qs = qs.filter(priority__in=rule.priorities)
    return qs.order_by("created_at").values_list("pk", flat=True)[:limit]


def evaluate(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Run every active rule of the current tenant; returns the escalations taken."""
    from .services import calendar_for

    now = now or timezone.now()
    taken = 0
    calendars: dict[int | None, wt.WorkingCalendar] = {}
    for rule in EscalationRule.objects.filter(is_active=True).select_related("reassign_to"):
        for pk in list(candidates(rule, now, limit)):
            with transaction.atomic():
                incident = (
                    Incident.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("caller", "customer", "assignee", "assignment_group", "service")
                    .filter(pk=pk, state__in=RUNNING_STATES)
                    .first()
                )
                if incident is None:
                    continue
                if incident.service_id not in calendars:
                    calendars[incident.service_id] = calendar_for(incident)
                if not target_reached(rule, incident, calendars[incident.service_id], now):
                    continue
                if escalate(incident, rule) is not None:
                    taken += 1
    return taken


# --- acting -----------------------------------------------------------------------------------
def _record(
    incident: Incident,
    *,
    rule: EscalationRule | None,
    name: str,
    target: str,
    percent: int | None,
    action: str,
    detail: str,
) -> Escalation | None:
    """Insert the escalation row; None when this one was recorded already."""
    try:
        with transaction.atomic():
            return Escalation.objects.create(
                incident=incident,
                rule=rule,
                rule_name=name,
                target=target,
                percent=percent,
                action=action,
                detail=detail,
            )
    except IntegrityError:
        return None


def escalate(incident: Incident, rule: EscalationRule) -> Escalation | None:
    """Take ``rule``'s action on ``incident`` (locked by the caller), once."""
    from .services_major import auto_declare

    row = _record(
        incident, rule=rule, name=rule.name, target=rule.target, percent=rule.percent, action=rule.action, detail=""
    )
    if row is None:
        return None
    tenant = context.require_tenant().name
    when = f"{rule.percent}% of the {rule.get_target_display().lower()}"
    subject = f"[{tenant}] Escalation: {incident.reference} {incident.title}"
    facts = (
        f"Incident {incident.reference} \u201c{incident.title}\u201d (P{incident.priority}, "
        f"{incident.get_state_display().lower()}) has reached {when}.\n"
        f"Respond by: {_when(incident.response_due_at)}. Resolve by: {_when(incident.resolution_due_at)}."
    )
    changed: list[str] = []
    if rule.action == EscalationAction.NOTIFY:
        recipients = rule_recipients(rule, incident)
        if rule.notify == NotifyWhom.CUSTOMER:
            body = (
                f"We are still working on your incident {incident.reference} \u201c{incident.title}\u201d. "
                f"It is taking longer than we aim for; it has our attention and you will hear from us."
            )
        else:
            body = facts + f"\n\nEscalation rule: {rule.name}."
        sent = queue_mail(recipients, subject, body, record=incident, topic=TOPIC)
        row.detail = (
            f"Notified {rule.get_notify_display().lower()}: {', '.join(m.recipient for m in sent)}."
            if sent
            else f"Nobody to notify: {rule.get_notify_display().lower()} has no e-mail address."
        )
    elif rule.action == EscalationAction.REASSIGN:
        before = incident.assignment_group
        incident.assignment_group = rule.reassign_to
        incident.assignee = None
        changed = ["assignment_group", "assignee"]
        sent = queue_mail(
            group_addresses(rule.reassign_to),
            subject,
            facts + f"\n\nIt has been reassigned to {rule.reassign_to} by escalation rule {rule.name}.",
            record=incident,
            topic=TOPIC,
        )
        row.detail = f"Reassigned from {before or 'no group'} to {rule.reassign_to}" + (
            f"; told {', '.join(m.recipient for m in sent)}." if sent else "."
        )
    elif rule.action == EscalationAction.RAISE_PRIORITY:
        old = incident.priority
        new = max(1, old - rule.raise_by)
        if new == old:
            row.detail = f"The priority is P{old} already; nothing to raise."
        else:
            incident.priority = new
            incident.priority_overridden = True
            incident.priority_override_reason = f"Raised by escalation rule {rule.name} at {when}"[:500]
            changed = ["priority", "priority_overridden", "priority_override_reason"]
            row.detail = f"Priority raised from P{old} to P{new}."
    row.save(update_fields=["detail"])
    incident.save(update_fields=changed or None, reason=f"Escalated ({rule.name}): {row.detail}"[:100])
    if rule.action == EscalationAction.RAISE_PRIORITY:
        auto_declare(incident)
    return row


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    import zoneinfo

    try:
        zone = zoneinfo.ZoneInfo(context.require_tenant().time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return moment.astimezone(zone).strftime("%d %b %Y %H:%M %Z")


def note(incident: Incident, body: str) -> JournalEntry:
    """An internal journal entry by the acting user (or the system), without making a
    background job a watcher of the record."""
    from django.contrib.contenttypes.models import ContentType

    user = context.get_current_user()
    return JournalEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Incident),
        object_id=incident.pk,
        body=body,
        visibility=Visibility.INTERNAL,
        author=user if user is not None and user.pk else None,
    )


def inform_target_missed(incident: Incident, which: str) -> Escalation | None:
    """Tell the customer contact and the interested parties that the ``which`` target
    ("response" or "resolution") will not be met (clause 8.1); once per target."""
    names = {"response": EscalationTarget.RESPONSE, "resolution": EscalationTarget.RESOLUTION}
    target = names[which]
    row = _record(
        incident, rule=None, name="Target missed", target=target, percent=100, action="breach_notice", detail=""
    )
    if row is None:
        return None
    tenant = context.require_tenant().name
    what = "take your incident on" if target == EscalationTarget.RESPONSE else "resolve your incident"
    subject = f"[{tenant}] {incident.reference} {incident.title}: we will not meet the agreed time"
    customer_body = (
        f"We are sorry: we have not been able to {what} {incident.reference} \u201c{incident.title}\u201d within "
        f"the time agreed with you. It remains a priority for us and we will keep you informed of progress."
    )
    internal_body = (
        f"The {target} target of {incident.reference} \u201c{incident.title}\u201d (P{incident.priority}) has been "
        f"missed. The customer has been told."
    )
    to_customer = queue_mail(customer_addresses(incident), subject, customer_body, record=incident, topic=TOPIC)
    customer_set = {m.recipient for m in to_customer}
    others = [a for a in interested_addresses(incident) if a.strip().lower() not in customer_set]
    to_others = queue_mail(others, subject, internal_body, record=incident, topic=TOPIC)
    told = [m.recipient for m in [*to_customer, *to_others]]
    row.detail = f"The {target} target was missed; told {', '.join(told) if told else 'nobody (no address)'}."
    row.save(update_fields=["detail"])
    return row
