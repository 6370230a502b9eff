"""Demo data of change management: the tenant's policy, approval rules, standard change
templates, and requests for change of every type in every stage, played through the
real services and transitions (so their history and approvals are consistent).
Idempotent: a tenant that already has requests for change gets no more."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sms.core.workflow import run_transition
from sms.tenancy.roles import Role

from . import services as cs
from .models import ApprovalRule, BlackoutWindow, Change, StandardChangeTemplate
from .services_review import record_investigation

EMERGENCY = (
    "A change is an emergency when a live service is down or seriously degraded for customers, or a security "
    "vulnerability is being exploited, and waiting for the next change advisory board would make the damage worse. "
    "Emergency changes still need a back-out plan and one approver, and are reviewed afterwards."
)
MAJOR = (
    "Potential major impact: a critical service is touched, three or more services are touched, a service is "
    "removed or handed over to another party, or the change cannot be backed out within the service window."
)
TEMPLATES = (
    {
        "name": "Monthly operating system patches on a web server",
        "description": "Vendor patches on one web server behind the load balancer, outside business hours.",
        "implementation_plan": "1. Take the server out of the pool. 2. Patch and reboot. 3. Put it back.",
        "test_plan": "Health check green and the login page answers within 2 seconds.",
        "remediation_plan": "Roll back to the snapshot taken before the patch.",
        "remediation_tested": True,
        "approve": True,
    },
    {
        "name": "Renew a TLS certificate",
        "description": "Replace a certificate that expires within 30 days with one from the same authority.",
        "implementation_plan": "Install the new certificate and reload the web server.",
        "test_plan": "Check the chain and expiry date from outside.",
        "remediation_plan": "Reinstall the previous certificate (still valid) and reload.",
        "remediation_tested": True,
        "approve": True,
    },
    {
        "name": "Add a user to a shared drive",
        "description": "Grant a named person access to a team drive at its owner's request.",
        "implementation_plan": "Add the user to the drive's access group.",
        "test_plan": "The user confirms access.",
        "remediation_plan": "Remove the user from the group.",
        "remediation_tested": False,
        "approve": False,
    },
)
PLANS = {
    "implementation_plan": "1. Announce the window. 2. Apply the change on the standby. 3. Switch over. "
    "4. Apply on the former primary.",
    "test_plan": "Run the smoke tests and watch error rates for 30 minutes after the switch-over.",
    "remediation_plan": "Switch back to the untouched node and restore its configuration from the backup.",
    "remediation_tested": True,
    "remediation_test_notes": "Switch-back rehearsed in the test environment last month: 4 minutes.",
    "security_impact": "No change to access rights or data flows; the firewall rules stay as they are.",
    "continuity_impact": "The standby site keeps running; the continuity plan needs no change.",
    "capacity_impact": "Half capacity during the switch-over; fits outside business hours.",
    "cost_impact": "Staff time only, within the operations budget.",
    "release_impact": "None: no release is planned for these services in the window.",
    "technical_feasibility": "Same procedure as the last upgrade; the vendor supports it.",
    "business_benefit": "Keeps the service supported and secure.",
}


def _policy_and_rules(people) -> None:
    owner, cab = people[Role.PROCESS_OWNER], people[Role.CHANGE_APPROVER]
    pol = cs.policy()
    pol.emergency_definition = EMERGENCY
    pol.major_impact_criteria = MAJOR
    pol.major_service_criticality = "1"
    pol.major_min_services = 3
    pol._history_user = owner
    pol.save(reason="Policy agreed by the change advisory board")
    rules = (
        ("normal", "low", "any", None, Role.CHANGE_APPROVER, ()),
        ("normal", "medium", "any", None, Role.CHANGE_APPROVER, ()),
        ("normal", "high", "all", None, Role.CHANGE_APPROVER, (owner,)),
        ("emergency", "medium", "any", None, "", (owner, cab)),
        ("emergency", "high", "any", None, "", (owner, cab)),
    )
    for change_type, risk, rule, quorum, role, named in rules:
        obj, created = ApprovalRule.objects.get_or_create(
            change_type=change_type,
            risk_level=risk,
            defaults={"rule": rule, "quorum": quorum, "approver_role": role},
        )
        if created and named:
            obj.approvers.set(named)
    for data in TEMPLATES:
        data = dict(data)
        approve = data.pop("approve")
        template = StandardChangeTemplate.objects.filter(name=data["name"]).first()
        if template is None:
            template = StandardChangeTemplate(**data)
            template._history_user = owner
            template.created_by = owner
            template.save(reason="Written by the change manager")
        if approve and not template.is_approved:
            cs.approve_template(template, by=cab, rationale="Done many times without a failure; back-out rehearsed.")


def _change(people, title, description, *, services, cis=(), by=None, **fields) -> Change:
    change = Change(title=title, description=description, owner=people[Role.PROCESS_OWNER], **fields)
    return cs.save_change(change, by=by or people[Role.AGENT], services=services, cis=list(cis))


def _window(start: dt.datetime, hours: int = 2) -> dict:
    return {"planned_start": start, "planned_end": start + dt.timedelta(hours=hours)}


def _update_cis(change: Change, by) -> None:
    """What the implementer does in the CMDB: record the new version of each CI, under the change."""
    for ci in change.cis.all():
        ci.version = f"{ci.version or '1'}.1"
        ci.last_change_reference = change.reference
        ci._history_user = by
        ci.save(reason=f"{change.title} (under {change.reference})")


def _review(change: Change, by, notes: str) -> Change:
    change.review_notes = notes
    change._history_user = by
    change.save(reason="Post-implementation review recorded")
    return change


def _plan_major(change: Change, people) -> None:
    """A change with potential major impact goes to its approvers with the record of the
    new or changed service that plans it; until the design and transition records exist,
    a controlled plan document stands in."""
    from django.contrib.contenttypes.models import ContentType

    from documents.models import Document
    from documents.services import create_version
    from sms.core.models import LinkType, RecordLink

    owner = people[Role.PROCESS_OWNER]
    plan = Document.objects.create(
        title=f"Service transition plan: {change.title}",
        description="Customers affected, communication, data hand-over and the date service ends.",
        document_type="plan",
        owner=owner,
    )
    create_version(
        plan,
        by=owner,
        change_summary="First draft",
        content=f"# Transition plan\n\nChange: {change.reference} {change.title}\n\n"
        "1. Customers affected and how they are told.\n2. Data handed over or archived.\n"
        "3. The date the service ends or moves, agreed in the service review.\n",
    )
    RecordLink.objects.create(
        source_type=ContentType.objects.get_for_model(Change),
        source_id=change.pk,
        link_type=LinkType.PLANNED_IN,
        target_type=ContentType.objects.get_for_model(Document),
        target_id=plan.pk,
        note="The new or changed service record of this change",
    )


def _to_approval(change: Change, people) -> Change:
    agent, cab = people[Role.AGENT], people[Role.CHANGE_APPROVER]
    if change.is_major:
        _plan_major(change, people)
    change = run_transition(change, "submit", by=agent)
    if change.change_type == "emergency":
        return run_transition(change, "request_emergency_approval", by=agent, reason="Service down")
    change = run_transition(change, "start_assessment", by=cab)
    return run_transition(change, "request_approval", by=cab, reason="Assessed: risk as recorded")


def _approve(
    change: Change,
    people,
    rationale="Plans complete, risk acceptable.",
    roles=(Role.CHANGE_APPROVER, Role.PROCESS_OWNER),
) -> Change:
    for role in roles:
        change.refresh_from_db()
        if change.state != "awaiting_approval":
            break
        if change.approvals.filter(approver=people[role], decision="pending").exists():
            change = cs.decide(change, by=people[role], decision="approved", rationale=rationale)
    return change


@transaction.atomic
def seed_demo(tenant, people) -> None:
    from sms.cmdb.models import ConfigurationItem, Service

    _policy_and_rules(people)
    if Change.objects.exists():
        return
    services = list(Service.objects.order_by("number")[:6])
    if not services:
        return
    cis = list(ConfigurationItem.objects.filter(ci_type__under_change_control=True).order_by("number")[:8])
    owner, agent = people[Role.PROCESS_OWNER], people[Role.AGENT]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    web, other = services[0], services[1 % len(services)]

    # Blackouts: a freeze of every service, and one on the first service overlapping a planned change.
    freeze = BlackoutWindow(
        name="Year-end freeze",
        reason="Finance closes the books; agreed with the customers in the service reviews.",
        starts_at=now + dt.timedelta(days=25),
        ends_at=now + dt.timedelta(days=32),
    )
    freeze._history_user = owner
    freeze.save(reason="Agreed by the change advisory board")
    peak = BlackoutWindow(
        name=f"{web.title} peak sales weekend",
        reason="Highest order volume of the quarter.",
        starts_at=now + dt.timedelta(days=9, hours=-2),
        ends_at=now + dt.timedelta(days=10),
    )
    peak._history_user = owner
    peak.save(reason="Requested by the service owner")
    peak.services.set([web])

    def ci(i):
        return [cis[i % len(cis)]] if cis else []

    # Closed standard change from a template.
    template = StandardChangeTemplate.objects.filter(approved_at__isnull=False).order_by("name").first()
    std = _change(
        people,
        "Patch web server (monthly)",
        "Monthly patches.",
        services=[web],
        cis=ci(0),
        change_type="standard",
        template=template,
        **_window(now - dt.timedelta(days=20)),
    )
    std = run_transition(std, "submit", by=agent)
    std = run_transition(std, "accept_standard", by=agent)
    std = run_transition(run_transition(std, "schedule", by=owner), "start_implementation", by=owner)
    _update_cis(std, owner)
    std = run_transition(std, "complete", by=owner, reason="Patched, health checks green")
    std = run_transition(std, "start_review", by=owner)
    run_transition(_review(std, owner, "Effective; no incidents followed."), "close", by=owner)

    # Normal changes at every stage.
    _change(
        people,
        "Move file shares to the new storage array",
        "Old array is out of support.",
        services=[other],
        cis=ci(1),
        **PLANS,
    )  # draft
    sub = _change(
        people,
        "Enable single sign-on for the intranet",
        "Fewer passwords for staff.",
        services=[other],
        cis=ci(2),
        **PLANS,
    )
    run_transition(sub, "submit", by=agent)
    assess = _change(
        people,
        "Upgrade the database cluster to the next major version",
        "Current version ends support.",
        services=[web],
        cis=ci(3),
        risk_level="high",
        **PLANS,
    )
    run_transition(run_transition(assess, "submit", by=agent), "start_assessment", by=people[Role.CHANGE_APPROVER])
    waiting = _change(
        people,
        "Replace the core switch in the data centre",
        "Hardware at end of life.",
        services=services[:3],
        cis=ci(4),
        risk_level="high",
        **PLANS,
        **_window(now + dt.timedelta(days=9)),
    )
    # All must approve: the CAB member has; the process owner still has to.
    _approve(_to_approval(waiting, people), people, roles=(Role.CHANGE_APPROVER,))
    approved = _change(people, "Add a second mail gateway", "Resilience.", services=[other], cis=ci(5), **PLANS)
    _approve(_to_approval(approved, people), people)
    sched = _change(
        people,
        "Increase web server memory",
        "Peaks reach the limit.",
        services=[web],
        cis=ci(6),
        risk_level="low",
        **PLANS,
        **_window(now + dt.timedelta(days=3)),
    )
    sched = _approve(_to_approval(sched, people), people)
    run_transition(sched, "schedule", by=owner)
    impl = _change(
        people,
        "Rotate the backup encryption keys",
        "Yearly rotation.",
        services=[other],
        cis=ci(7),
        risk_level="low",
        **PLANS,
        **_window(now - dt.timedelta(hours=1)),
    )
    impl = _approve(_to_approval(impl, people), people)
    run_transition(run_transition(impl, "schedule", by=owner), "start_implementation", by=owner)
    failed = _change(
        people,
        "Migrate the intranet to the new framework",
        "The old framework is unmaintained.",
        services=[other],
        cis=ci(0),
        **PLANS,
        **_window(now - dt.timedelta(days=6)),
    )
    failed = _approve(_to_approval(failed, people), people)
    for name, reason in (
        ("schedule", ""),
        ("start_implementation", ""),
        ("fail", "Login broke for users with old browsers"),
        ("back_out", "Previous version restored within 20 minutes"),
        ("start_review", ""),
    ):
        failed = run_transition(failed, name, by=owner, reason=reason)
    record_investigation(
        failed,
        by=owner,
        findings="The new framework dropped support for browsers older than two years; the test plan covered "
        "current browsers only, and a third of the intranet's users still run an old managed browser.",
        actions=[
            {
                "title": "Add the managed browser versions to the intranet test plan",
                "owner": agent,
                "due_date": timezone.localdate() + dt.timedelta(days=21),
            },
            {"title": "Agree the browser upgrade with the workplace team", "due_date": None},
        ],
    )
    rejected = _change(
        people,
        "Retire the legacy reporting service",
        "Few users left.",
        services=[services[-1]],
        service_action="remove",
        **PLANS,
    )
    rejected = _to_approval(rejected, people)
    cs.decide(
        rejected,
        by=people[Role.CHANGE_APPROVER],
        decision="rejected",
        rationale="Customers still depend on it; agree the removal with them first.",
    )
    cancelled = _change(people, "Change the VPN provider", "Cheaper offer.", services=[other], **PLANS)
    run_transition(run_transition(cancelled, "submit", by=agent), "cancel", by=owner, reason="Offer withdrawn")
    # An emergency change, implemented at once and under review.
    emergency = _change(
        people,
        "Close an exploited hole in the web server",
        "Active exploitation seen.",
        services=[web],
        cis=ci(1),
        change_type="emergency",
        risk_level="high",
        **PLANS,
    )
    emergency = _approve(_to_approval(emergency, people), people, rationale="Exploitation in progress: go now.")
    for name, reason in (
        ("implement_emergency", ""),
        ("complete", "Patched; attack traffic now refused"),
        ("start_review", ""),
    ):
        emergency = run_transition(emergency, name, by=owner, reason=reason)
    _trends(people)


def _trends(people) -> None:
    """Quarterly change trend analysis as a planned activity, and the last quarter's report."""
    from sms.core.models import PlannedActivity

    from .services_review import ACTIVITY_KIND, conclude_trend_report, create_trend_report

    owner = people[Role.PROCESS_OWNER]
    today = timezone.localdate()
    activity = PlannedActivity.objects.create(
        kind=ACTIVITY_KIND,
        title="Quarterly change trend analysis",
        description="Volumes, success rate, emergency share and changes followed by incidents, for the CAB.",
        owner=owner,
        interval_count=3,
        interval_unit="months",
        next_due=today + dt.timedelta(days=30),
    )
    report = create_trend_report(today - dt.timedelta(days=90), today, by=owner, activity=activity)
    conclude_trend_report(
        report,
        by=owner,
        conclusions="One failed change in the quarter, caused by a gap in the test plan; the corrective actions "
        "are raised. Emergency share is high for a quarter: review the patching cadence at the next CAB.",
    )
