"""Demo data of service request fulfilment: a request catalogue on the demo services
(new laptop, shared mailbox access, password reset, software installation, file
restore) and three dozen requests over the last 90 days in every state, some late.

Each request is played through the real services at the moments it would have
happened (the application's clock is set back while it is seeded), so its history,
decisions, tasks and due times are consistent. Idempotent: the catalogue is ensured
by name; a tenant that already has requests gets no more."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.db import transaction
from django.utils import timezone

from sms.core.workflow import run_transition
from sms.tenancy.roles import Role

from . import services_requests as sr
from .choices import ApprovalMode, TaskState
from .models import CatalogueItem, FulfilmentTask, ServiceRequest

LAPTOPS = ["13-inch standard", "15-inch developer", "14-inch lightweight"]
CATALOGUE = (
    {
        "service": "Service desk",
        "name": "New laptop",
        "description": "A laptop with the standard image, for a new starter or to replace a broken one.",
        "approval": ApprovalMode.ROLE,
        "approver_role": Role.PROCESS_OWNER,
        "priority": 4,
        "fulfilment_minutes": 5 * 8 * 60,
        "fields": [
            {"label": "Model", "type": "choice", "required": True, "choices": LAPTOPS},
            {"label": "Keyboard layout", "type": "choice", "required": True, "choices": ["UK", "US", "German"]},
            {"label": "Needed by", "type": "date", "required": True},
            {"label": "Reason", "type": "textarea", "required": False},
        ],
        "tasks": [
            {"title": "Order the laptop", "description": "From the framework supplier; note the order number."},
            {"title": "Install the standard image", "description": "Enrol it in device management."},
            {"title": "Hand over and collect the old device"},
        ],
    },
    {
        "service": "E-mail",
        "name": "Access to a shared mailbox",
        "description": "Read or send-as access to a team mailbox; its owner's deputy approves.",
        "approval": ApprovalMode.NAMED,
        "approvers": (Role.TOP_MANAGEMENT, Role.PROCESS_OWNER),
        "priority": 4,
        "fulfilment_minutes": 8 * 60,
        "fields": [
            {"label": "Mailbox address", "type": "email", "required": True},
            {"label": "Access", "type": "choice", "required": True, "choices": ["Read", "Send as", "Full access"]},
            {"label": "Business reason", "type": "textarea", "required": True},
        ],
        "tasks": [{"title": "Grant the permission"}, {"title": "Confirm with the requester"}],
    },
    {
        "service": "Identity and access",
        "name": "Password reset",
        "description": "A new one-time password when you are locked out.",
        "approval": ApprovalMode.NONE,
        "priority": 3,
        "fulfilment_minutes": 60,
        "fields": [
            {"label": "Account name", "type": "text", "required": True},
            {"label": "Identity confirmed by call-back", "type": "boolean", "required": True},
        ],
        "tasks": [
            {"title": "Verify the caller's identity", "description": "Call back on the number in the directory."},
            {"title": "Reset and send a one-time password"},
        ],
    },
    {
        "service": "Service desk",
        "name": "Software installation",
        "description": "Software from the approved list installed on your computer.",
        "approval": ApprovalMode.ROLE,
        "approver_role": Role.PROCESS_OWNER,
        "priority": 4,
        "fulfilment_minutes": None,
        "fields": [
            {"label": "Software", "type": "text", "required": True},
            {"label": "Computer name", "type": "text", "required": True},
            {"label": "Licences needed", "type": "number", "required": False},
        ],
        "tasks": [{"title": "Check licence availability"}, {"title": "Install the software"}],
    },
    {
        "service": "Backup and restore",
        "name": "Restore a file",
        "description": "A file or folder brought back from last night's (or an older) backup.",
        "approval": ApprovalMode.NONE,
        "priority": 4,
        "fulfilment_minutes": 4 * 60,
        "fields": [
            {"label": "Path", "type": "text", "required": True},
            {"label": "Restore from", "type": "date", "required": True},
        ],
        "tasks": [{"title": "Restore from backup"}, {"title": "Tell the requester where to find it"}],
    },
)

# What happens to the n-th request: the end state by age.
OLD_ENDINGS = ("closed", "closed", "closed", "rejected", "closed", "cancelled", "closed", "fulfilled")
RECENT_ENDINGS = ("in_fulfilment", "awaiting_approval", "approved", "fulfilled", "submitted_late", "in_fulfilment")
REQUESTS_PER_TENANT = 36


@contextlib.contextmanager
def _clock_at(moment: dt.datetime):
    """Let the application believe it is ``moment`` (seeding the past only)."""
    real = timezone.now
    moment = min(moment, real() - dt.timedelta(minutes=1))  # never in the future
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


def ensure_catalogue(people) -> dict[str, CatalogueItem]:
    from sms.cmdb.models import Service

    services = {s.title: s for s in Service.objects.all()}
    items = {}
    for spec in CATALOGUE:
        service = services.get(spec["service"])
        if service is None:
            continue
        item = CatalogueItem.objects.filter(service=service, name=spec["name"]).first()
        if item is None:
            item = CatalogueItem(
                service=service,
                name=spec["name"],
                description=spec["description"],
                approval=spec["approval"],
                approver_role=spec.get("approver_role", ""),
                priority=spec["priority"],
                fulfilment_minutes=spec["fulfilment_minutes"],
                fields=spec["fields"],
                tasks=spec["tasks"],
            )
            item.full_clean(exclude=["tenant"])
            item.save(reason="Demo catalogue")
            if spec.get("approvers"):
                item.approvers.set([people[r] for r in spec["approvers"]])
        items[spec["name"]] = item
    return items


def _answers(item: CatalogueItem, n: int, today: dt.date) -> dict:
    sample = {
        "model": LAPTOPS[n % 3],
        "keyboard_layout": ["UK", "US", "German"][n % 3],
        "needed_by": (today + dt.timedelta(days=7 + n % 10)).isoformat(),
        "reason": "Replaces a laptop with a failing battery." if n % 2 else "",
        "mailbox_address": ["sales@example.com", "finance@example.com", "support@example.com"][n % 3],
        "access": ["Read", "Send as", "Full access"][n % 3],
        "business_reason": "Covers for a colleague on leave.",
        "account_name": f"user{n:03d}",
        "identity_confirmed_by_call_back": True,
        "software": ["Visio", "Power BI Desktop", "7-Zip", "Notepad++"][n % 4],
        "computer_name": f"LT-{1000 + n}",
        "licences_needed": 1 + n % 2,
        "path": f"/shares/finance/report-{n}.xlsx",
        "restore_from": (today - dt.timedelta(days=1 + n % 5)).isoformat(),
    }
    return {q["name"]: sample[q["name"]] for q in item.fields if sample.get(q["name"]) not in (None, "")}


def _approver(item: CatalogueItem, people, requester, submitter):
    if item.approval == ApprovalMode.ROLE:
        candidates = [people[item.approver_role]]
    else:
        candidates = list(item.approvers.order_by("pk"))
    return next((p for p in candidates if p not in (requester, submitter)), None)


def _play(item, n, when, ending, people, requesters):
    agent = people[Role.AGENT]
    requester = requesters[n % len(requesters)]
    submitter = agent if n % 3 else requester
    step = dt.timedelta(hours=1 + n % 4)
    late = ending == "submitted_late" or n % 7 == 0  # some wait far longer than their targets
    t = when
    with _clock_at(t):
        req = sr.submit(
            item,
            by=submitter,
            answers=_answers(item, n, t.date()),
            title=f"{item.name} for {requester.get_full_name() or requester.username}",
            requester=requester,
            description="Raised through the request catalogue.",
        )
    if ending in ("submitted_late", "awaiting_approval"):
        return req
    if req.state == "awaiting_approval":
        approver = _approver(item, people, requester, submitter)
        t += step * (6 if late else 1)
        with _clock_at(t):
            if ending == "rejected":
                return run_transition(
                    req, "reject", by=approver, reason="Not covered by the budget this quarter; ask again in July."
                )
            req = run_transition(req, "approve", by=approver, reason="Needed for the role; within budget.")
    elif ending == "rejected":
        ending = "cancelled"
    if ending == "cancelled":
        t += step
        with _clock_at(t):
            return run_transition(req, "cancel", by=agent, reason="The requester no longer needs it.")
    if ending == "approved":
        return req
    t += step * (12 if late else 1)
    with _clock_at(t):
        req = run_transition(req, "start", by=agent)
    tasks = list(FulfilmentTask.objects.filter(request=req).order_by("position"))
    for k, task in enumerate(tasks):
        if ending == "in_fulfilment" and k == len(tasks) - 1:
            break
        t += step
        with _clock_at(t):
            sr.complete_task(task, by=agent, notes="Done as described.", state=TaskState.DONE)
    if ending == "in_fulfilment":
        return req
    t += step
    with _clock_at(t):
        req = run_transition(req, "fulfil", by=agent)
    if ending == "closed":
        t += dt.timedelta(days=2)
        with _clock_at(t):
            req = run_transition(req, "close", by=people[Role.PROCESS_OWNER])
    return req


@transaction.atomic
def seed_requests(tenant, people) -> None:
    items = ensure_catalogue(people)
    if not items or ServiceRequest.objects.exists():
        return
    names = list(items)
    requesters = [people[r] for r in (Role.TOP_MANAGEMENT, Role.CHANGE_APPROVER, Role.ADMIN, Role.AGENT)]
    now = timezone.now()
    for n in range(REQUESTS_PER_TENANT):
        days_ago = 88 - n * 88 // REQUESTS_PER_TENANT
        when = (now - dt.timedelta(days=days_ago)).replace(hour=8 + n % 8, minute=(n * 7) % 60)
        when = min(when, now - dt.timedelta(hours=1 + n % 3))
        ending = OLD_ENDINGS[n % len(OLD_ENDINGS)] if days_ago > 20 else RECENT_ENDINGS[n % len(RECENT_ENDINGS)]
        _play(items[names[n % len(names)]], n, when, ending, people, requesters)
    # The clock moved on since: mark what is late now.
    sr.flag_breaches()
