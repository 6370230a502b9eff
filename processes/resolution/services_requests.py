"""Operations of service request fulfilment (clause 8.1): submission against the
catalogue item's questions, routing to approval, decisions, fulfilment tasks, and the
response and fulfilment clocks.

The clocks reuse incident management's machinery (``services.calendar_for``, the
priority targets and the shared ``clocks.Clock`` on the working-time maths): a request
runs in its service's calendar exactly as an incident does, and waiting for approval
pauses it as "on hold" does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sms.core.workflow import run_transition

from . import catalogue_schema as cs
from . import services
from . import working_time as wt
from .choices import (
    REQUEST_OPEN_STATES,
    REQUEST_RUNNING_STATES,
    ApprovalMode,
    Decision,
    RequestState,
    TaskState,
)
from .clocks import Clock
from .models import CatalogueItem, FulfilmentTask, RequestDecision, ServiceRequest

S = RequestState


# --- submission -----------------------------------------------------------------------------
def clean_answers(item: CatalogueItem, answers: Any) -> dict:
    """The answers checked against the item's questions; ``ValidationError({name: [..]})``."""
    return cs.validate_answers(cs.normalise_schema(item.fields), answers)


@transaction.atomic
def submit(
    item: CatalogueItem,
    *,
    by,
    answers: Any,
    title: str = "",
    description: str = "",
    requester=None,
    customer=None,
    assignment_group=None,
    assignee=None,
    owner=None,
) -> ServiceRequest:
    """Log a request for ``item`` and route it: to its approvers when the item needs
    approval, otherwise straight to approved with its fulfilment tasks created."""
    if not item.is_active:
        raise ValidationError({"catalogue_item": ["This item is no longer offered."]})
    cleaned = clean_answers(item, answers)
    req = ServiceRequest(
        title=(title or "").strip() or item.name,
        description=description or "",
        catalogue_item=item,
        service_id=item.service_id,
        requester=requester or by,
        customer=customer,
        questions=cs.normalise_schema(item.fields),
        answers=cleaned,
        needs_approval=item.needs_approval,
        priority=item.priority,
        assignment_group=assignment_group,
        assignee=assignee,
        owner=owner or by,
    )
    schedule(req)
    req._history_user = by
    req.save(reason="Submitted")
    return run_transition(req, "send_for_approval" if req.needs_approval else "accept", by=by)


def record_decision(req: ServiceRequest, decision: str, *, by, rationale: str) -> RequestDecision:
    req.decided_at = timezone.now()
    row = RequestDecision(request=req, decision=decision, rationale=rationale, decided_by=by, decided_at=req.decided_at)
    row._history_user = by
    row.save(reason=f"{Decision(decision).label}: {rationale}")
    return row


# --- tasks ----------------------------------------------------------------------------------
def create_tasks(req: ServiceRequest) -> list[FulfilmentTask]:
    """The item's task templates as the request's tasks, in order (once)."""
    if req.tasks.exists():
        return []
    made = []
    for n, template in enumerate(cs.normalise_tasks(req.catalogue_item.tasks), start=1):
        task = FulfilmentTask(
            request=req, position=n, title=template["title"], description=template["description"], assignee=None
        )
        task.save(reason="Created from the catalogue item")
        made.append(task)
    return made


def complete_task(task: FulfilmentTask, *, by, notes: str = "", state: str = TaskState.DONE) -> FulfilmentTask:
    """Mark a task done (or not needed, with a note why). Only while the request is in
    fulfilment; a finished task stays finished."""
    if state not in (TaskState.DONE, TaskState.NOT_NEEDED):
        raise ValidationError({"state": [f"Choose {TaskState.DONE} or {TaskState.NOT_NEEDED}."]})
    notes = (notes or "").strip()
    if state == TaskState.NOT_NEEDED and not notes:
        raise ValidationError({"notes": ["Say why the task is not needed."]})
    with transaction.atomic():
        locked = FulfilmentTask.objects.select_for_update().select_related("request").get(pk=task.pk)
        if locked.state != TaskState.OPEN:
            raise ValidationError({"state": [f"This task is already {locked.get_state_display().lower()}."]})
        if locked.request.state != S.IN_FULFILMENT:
            raise ValidationError(
                {"state": [f"Start fulfilment of {locked.request.reference} before completing its tasks."]}
            )
        locked.state = state
        locked.done_at = timezone.now()
        locked.done_by = by
        if notes:
            locked.notes = notes
        if locked.assignee_id is None:
            locked.assignee = by
        locked._history_user = by
        locked.save(reason=f"{TaskState(state).label}: {notes}" if notes else TaskState(state).label)
    return locked


def cancel_open_tasks(req: ServiceRequest, *, by, reason: str) -> int:
    n = 0
    for task in req.tasks.filter(state=TaskState.OPEN):
        task.state, task.done_at, task.done_by = TaskState.NOT_NEEDED, timezone.now(), by
        task._history_user = by
        task.save(reason=f"Request cancelled: {reason}")
        n += 1
    return n


# --- keeping people informed (8.1) -------------------------------------------------------------
TOPIC = "service_request"
_NEWS = {
    S.AWAITING_APPROVAL: "awaits your approval",
    S.APPROVED: "was approved",
    S.REJECTED: "was rejected",
    S.FULFILLED: "was fulfilled",
    S.CANCELLED: "was cancelled",
}


def approver_addresses(req: ServiceRequest) -> list[str]:
    """Who may decide on ``req``, as e-mail addresses (never its requester or submitter)."""
    from sms.tenancy.models import Membership

    item = req.catalogue_item
    if item.approval == ApprovalMode.NAMED:
        people = list(item.approvers.filter(is_active=True))
    elif item.approval == ApprovalMode.ROLE:
        people = [
            m.user
            for m in Membership.objects.active()
            .filter(roles__contains=[item.approver_role], user__is_active=True)
            .select_related("user")
        ]
    else:
        people = []
    return [p.email for p in people if p.email and p.pk not in (req.requester_id, req.created_by_id)]


def notify(req: ServiceRequest, state: str, *, by=None, reason: str = "") -> list:
    """Queue the news of the request's new state in the outbox: approvers hear that it
    waits for them; the person it is for and its submitter hear of the decision, the
    fulfilment and a cancellation (not of what they did themselves). Called by the
    transitions, before the record has its new ``state``."""
    from sms.core.outbox import queue_mail
    from sms.tenancy import context

    news = _NEWS.get(state)
    if news is None:
        return []
    if state == S.AWAITING_APPROVAL:
        recipients = approver_addresses(req)
    else:
        people = {u.pk: u for u in (req.requester, req.created_by) if u is not None and u != by}
        recipients = [u.email for u in people.values() if u.email]
    tenant = context.require_tenant()
    lines = [f"Service request {req.reference} \u201c{req.title}\u201d ({req.catalogue_item.name}) {news}."]
    if reason:
        lines.append(f"Reason: {reason}")
    if state == S.AWAITING_APPROVAL:
        lines.append("Open it in the service management system to approve or reject it.")
    body = "\n\n".join(lines) + f"\n\n-- \n{tenant.name} service desk. Please quote the reference when you reply."
    return queue_mail(recipients, f"[{tenant.name}] {req.reference} {news}", body, record=req, topic=TOPIC)


# --- approvals ------------------------------------------------------------------------------
def awaiting_decision_by(qs: QuerySet, user, membership) -> QuerySet:
    """Requests in ``qs`` waiting for approval that ``user`` may decide: items approved by
    one of their roles or naming them, never their own requests."""
    roles = list(getattr(membership, "roles", None) or [])
    return (
        qs.filter(state=S.AWAITING_APPROVAL)
        .filter(
            Q(catalogue_item__approval=ApprovalMode.ROLE, catalogue_item__approver_role__in=roles)
            | Q(catalogue_item__approval=ApprovalMode.NAMED, catalogue_item__approvers=user)
        )
        .exclude(requester=user)
        .exclude(created_by=user)
    )


# --- clocks ---------------------------------------------------------------------------------
def targets_for(req: ServiceRequest) -> tuple[int, int]:
    """(response, fulfilment) target minutes: the priority's, the item's fulfilment time
    when it sets one."""
    response, resolution = services.targets(req.priority)
    item_minutes = req.catalogue_item.fulfilment_minutes if req.catalogue_item_id else None
    return response, item_minutes or resolution


# The response and fulfilment clocks, on the arithmetic shared with incidents; waiting
# for approval pauses both targets.
REQUEST_CLOCK = Clock(
    running_states=REQUEST_RUNNING_STATES,
    open_states=REQUEST_OPEN_STATES,
    done_due="fulfilment_due_at",
    done_at="fulfilled_at",
    done_breached="fulfilment_breached",
    pause_moves_response=True,
)


def schedule(req: ServiceRequest, *, calendar: wt.WorkingCalendar | None = None) -> None:
    """(Re)compute both due times in the service's calendar (incident management's
    ``calendar_for``); minutes spent waiting for approval push both out."""
    cal = calendar or services.calendar_for(req)
    response, fulfilment = targets_for(req)
    REQUEST_CLOCK.schedule(req, cal, req.created_at or timezone.now(), response, fulfilment)
    refresh_breaches(req)


def end_pause(req: ServiceRequest, *, now: dt.datetime | None = None) -> None:
    if req.paused_since is not None:
        cal = services.calendar_for(req)
        REQUEST_CLOCK.close_pause(req, cal, now or timezone.now())
        schedule(req, calendar=cal)


def refresh_breaches(req: ServiceRequest, *, now: dt.datetime | None = None) -> bool:
    """Set the breach flags from the due times (never unset); True when one changed."""
    return REQUEST_CLOCK.refresh_breaches(req, now or timezone.now())


def remaining_minutes(req: ServiceRequest, *, now: dt.datetime | None = None) -> int | None:
    """Working minutes left to the fulfilment target (negative when late); frozen while
    the request waits for approval."""
    return REQUEST_CLOCK.remaining_minutes(req, lambda: services.calendar_for(req), now or timezone.now())


def reschedule(requests, reason: str) -> int:
    n = 0
    for req in requests:
        schedule(req)
        req.save(reason=reason)
        n += 1
    return n


def flag_breaches(limit: int = 500) -> int:
    """The planned check (each minute, with the incidents'): mark running requests of the
    current tenant whose due times have passed; SKIP LOCKED so parallel workers never
    write the same request twice."""
    now = timezone.now()
    flagged = 0
    with transaction.atomic():
        due = (
            ServiceRequest.objects.filter(state__in=REQUEST_RUNNING_STATES)
            .filter(
                Q(response_breached=False, responded_at__isnull=True, response_due_at__lt=now)
                | Q(fulfilment_breached=False, fulfilment_due_at__lt=now)
            )
            .select_for_update(skip_locked=True)
            .order_by("fulfilment_due_at")[:limit]
        )
        for req in due:
            if refresh_breaches(req, now=now):
                which = [
                    n for n, f in (("response", req.response_breached), ("fulfilment", req.fulfilment_breached)) if f
                ]
                req.save(
                    update_fields=["response_breached", "fulfilment_breached"],
                    reason=f"Target breached: {' and '.join(which)}",
                )
                flagged += 1
    return flagged
