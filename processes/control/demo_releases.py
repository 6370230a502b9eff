"""Demo data of release and deployment management: the tenant's release policies and
releases at every stage and of several outcomes, played through the real services and
transitions (so every deployed release has its baseline, approval and history).
Deployed releases are then dated back so the calendar has a past; nothing else is
written directly. Idempotent: a tenant that already has releases gets no more."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sms.core.workflow import run_transition
from sms.tenancy.roles import Role

from . import services_releases as rs
from .models import AcceptanceCriterion, Change, Release, ReleasePolicy

FREQUENCY = (
    "Minor releases every second Tuesday evening; major releases once a quarter, announced four weeks ahead; "
    "emergency releases only under the definition below."
)
EMERGENCY = (
    "A release is an emergency when it restores a live service that is down or closes a security hole being "
    "exploited, and cannot wait for the next minor release window. It goes with an emergency request for change "
    "and is reviewed within five working days."
)
PLANS = {
    "deliverables": "Application packages of the new version, database migration scripts, updated runbook.",
    "deployment_plan": "Deploy to the idle half of the cluster, run the smoke tests, switch traffic over, watch "
    "error rates for 30 minutes, then update the other half.",
    "test_environment": "UAT-1 (copy of production, anonymised data)",
    "rollback_plan": "Switch traffic back to the untouched half and restore the database from the pre-release "
    "snapshot.",
    "rollback_tested": True,
    "rollback_test_notes": "Rehearsed in UAT-1 before the last quarterly release: 6 minutes.",
}
CRITERIA = (
    ("Customers can log in, order and pay end to end.", "Customer representative"),
    ("Response time of the main pages stays under 2 seconds at peak load.", "Service owner"),
    ("Monitoring and backups cover the new components.", "Operations"),
)


def _policies(people, own_policy_service) -> None:
    owner = people[Role.PROCESS_OWNER]
    if not ReleasePolicy.objects.filter(service__isnull=True).exists():
        rs.save_policy(
            ReleasePolicy(
                frequency=FREQUENCY,
                emergency_definition=EMERGENCY,
                incident_window_days=14,
                agreed_with="Customers, in the service review of the first quarter",
            ),
            by=owner,
        )
    service = own_policy_service
    if service is not None and not ReleasePolicy.objects.filter(service=service).exists():
        rs.save_policy(
            ReleasePolicy(
                service=service,
                release_types=["minor", "emergency"],
                frequency="Minor releases on the first Monday of the month only; no major releases (the service is "
                "being retired).",
                emergency_definition=EMERGENCY,
                incident_window_days=7,
                agreed_with="The service's only customer",
            ),
            by=owner,
        )


def _release(people, title, *, services, cis, criteria=CRITERIA, **fields) -> Release:
    owner = people[Role.PROCESS_OWNER]
    relations = {k: fields.pop(k) for k in ("changes", "problems", "known_errors") if k in fields}
    release = Release(title=title, owner=owner, **{**PLANS, **fields})
    release = rs.save_release(release, by=owner, services=services, cis=cis, **relations)
    for i, (text, agreed) in enumerate(criteria, start=1):
        rs.save_criterion(AcceptanceCriterion(release=release, position=i, description=text, agreed_with=agreed),
                          by=owner)
    return release


def _to_test(release: Release, people) -> Release:
    owner = people[Role.PROCESS_OWNER]
    release = run_transition(release, "start_build", by=owner)
    return run_transition(release, "start_test", by=owner, reason="Build complete in UAT-1")


def _pass_all(release: Release, people) -> None:
    for criterion in release.criteria.all():
        rs.record_result(criterion, by=people[Role.PROCESS_OWNER], result="passed",
                         notes="Tested by the customer's key users; evidence in the test report.")


def _approve(release: Release, people) -> Release:
    release = run_transition(release, "request_approval", by=people[Role.PROCESS_OWNER])
    return run_transition(release, "approve", by=people[Role.CHANGE_APPROVER],
                          reason="All criteria passed; rollback rehearsed.")


def _backdate(release: Release, started: dt.datetime, hours: int = 2) -> Release:
    """Demo only: move a deployment that just happened to the date it is shown on."""
    ended = started + dt.timedelta(hours=hours)
    Release.objects.filter(pk=release.pk).update(
        planned_start=started,
        planned_end=ended,
        deployment_started_at=started,
        deployment_ended_at=ended,
        incident_period_end=ended + dt.timedelta(days=release.incident_window_days or 14),
    )
    release.refresh_from_db()
    return release


def _problem_for_release(people, incident):
    """A problem recorded as a known error, which the first demo release then fixes."""
    from processes.resolution.models import Problem
    from processes.resolution.services_problems import apply_problem_priority

    if incident is None:
        return None, None
    agent = people[Role.AGENT]
    problem = Problem(
        title="Payment page times out under load",
        description="Several incidents about failed payments at peak times.",
        root_cause="The payment provider's old client library opens a new connection for every request.",
        workaround="Ask the customer to retry after a minute; the queue drains quickly.",
        owner=people[Role.PROCESS_OWNER],
        assignee=agent,
    )
    apply_problem_priority(problem)
    problem._history_user = agent
    problem.save(reason="Raised from repeating incidents")
    problem.incidents.set([incident])
    problem = run_transition(problem, "investigate", by=agent)
    problem = run_transition(problem, "record_known_error", by=agent, reason="Cause found; workaround agreed")
    return problem, problem.known_errors.order_by("number").first()


@transaction.atomic
def seed_releases(tenant, people) -> None:
    from processes.resolution.models import Incident
    from sms.cmdb.models import ConfigurationItem, Service

    services = list(Service.objects.order_by("number")[:4])
    # The last of several services has its own policy (minor and emergency releases only).
    _policies(people, services[-1] if len(services) >= 3 else None)
    if Release.objects.exists():
        return
    cis = list(ConfigurationItem.objects.exclude(state="disposed").order_by("number")[:10])
    if not services or not cis:
        return
    owner = people[Role.PROCESS_OWNER]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    web = services[0]

    def ci(*i):
        return [cis[n % len(cis)] for n in i]

    # The CIs of recent incidents, so the deployed release has incidents counted after it.
    recent = Incident.objects.filter(affected_cis__isnull=False).order_by("-created_at").first()
    incident_cis = list(recent.affected_cis.all()[:2]) if recent else ci(0)

    # Closed, successful: fixed a known error and resolved the problem behind it (its own,
    # so the problem management demo keeps its stages).
    problem, known_error = _problem_for_release(people, recent)
    change = Change.objects.filter(state="closed").order_by("number").first()
    closed = _release(
        people,
        "Web shop 3.8: payment provider update",
        services=[web],
        cis=ci(0, 1),
        release_type="minor",
        changes=[change] if change else [],
        known_errors=[known_error] if known_error else [],
        problems=[problem] if problem else [],
        planned_start=now + dt.timedelta(hours=1),
    )
    closed = _to_test(closed, people)
    _pass_all(closed, people)
    closed = _approve(closed, people)
    closed = run_transition(closed, "start_deployment", by=owner)
    closed = run_transition(closed, "complete_deployment", by=owner, reason="Live; smoke tests green.")
    closed = _backdate(closed, now - dt.timedelta(days=40))
    closed = run_transition(closed, "start_review", by=owner)
    rs.save_review(closed, by=owner, notes="Successful: no incidents in the 14 days after; customers noticed "
                   "faster payments. Keep the blue-green switch for the next releases.")
    run_transition(closed, "close", by=owner)

    # Deployed last week, incidents being counted.
    deployed = _release(
        people,
        "Customer portal 2.1",
        services=services[1:2] or [web],
        cis=incident_cis,
        release_type="major",
        deployment_method="phased",
        planned_start=now + dt.timedelta(hours=1),
    )
    deployed = _to_test(deployed, people)
    _pass_all(deployed, people)
    deployed = _approve(deployed, people)
    deployed = run_transition(deployed, "start_deployment", by=owner)
    deployed = run_transition(deployed, "complete_deployment", by=owner, reason="All user groups moved over.")
    _backdate(deployed, now - dt.timedelta(days=6), hours=6)

    # Failed and rolled back, under review.
    failed = _release(
        people,
        "Reporting database upgrade",
        services=[services[-1]],
        cis=ci(2),
        release_type="minor",
        planned_start=now + dt.timedelta(hours=1),
    )
    failed = _to_test(failed, people)
    _pass_all(failed, people)
    failed = _approve(failed, people)
    failed = run_transition(failed, "start_deployment", by=owner)
    failed = run_transition(failed, "fail", by=owner, reason="Migration script timed out on the largest table.")
    failed = run_transition(failed, "roll_back", by=owner, reason="Snapshot restored; service back in 12 minutes.")
    failed = _backdate(failed, now - dt.timedelta(days=12), hours=1)
    failed = run_transition(failed, "start_review", by=owner)
    rs.save_review(failed, by=owner, notes="Failed: the migration needs a longer window or batching. Customers "
                   "of reporting saw 12 minutes of errors. Action: split the migration, retest in UAT-1.")

    # In test with one criterion failed.
    testing = _release(
        people, "Mobile app 5.0", services=[web], cis=ci(3), release_type="major",
        planned_start=now + dt.timedelta(days=12),
    )
    testing = _to_test(testing, people)
    first, second, _third = list(testing.criteria.all())
    rs.record_result(first, by=owner, result="passed", notes="Ordered and paid on three phone models.")
    rs.record_result(second, by=owner, result="failed", notes="Search takes 3.4 seconds at simulated peak load.")

    # Awaiting approval, and approved for next week.
    waiting = _release(
        people, "Web shop 3.9", services=[web], cis=ci(4), release_type="minor",
        planned_start=now + dt.timedelta(days=8),
    )
    waiting = _to_test(waiting, people)
    _pass_all(waiting, people)
    run_transition(waiting, "request_approval", by=owner)
    approved = _release(
        people, "Intranet search improvements", services=services[1:2] or [web], cis=ci(5),
        release_type="minor", planned_start=now + dt.timedelta(days=4),
    )
    approved = _to_test(approved, people)
    _pass_all(approved, people)
    _approve(approved, people)

    # Planned for next quarter, and one in build.
    _release(
        people, "Web shop 4.0 (new catalogue)", services=[web], cis=ci(6, 7), release_type="major",
        planned_start=now + dt.timedelta(days=75),
    )
    building = _release(
        people, "Mail gateway filter rules", services=[services[-1]], cis=ci(8), release_type="minor",
        planned_start=now + dt.timedelta(days=20),
    )
    run_transition(building, "start_build", by=owner)

    # An emergency release with the emergency change that closed an exploited hole.
    emergency_change = Change.objects.filter(change_type="emergency").order_by("number").first()
    if emergency_change is not None:
        emergency = _release(
            people, "Web server security fix", services=[web], cis=ci(1), release_type="emergency",
            changes=[emergency_change], criteria=CRITERIA[:1], planned_start=now + dt.timedelta(hours=1),
        )
        emergency = _to_test(emergency, people)
        _pass_all(emergency, people)
        emergency = _approve(emergency, people)
        emergency = run_transition(emergency, "start_deployment", by=owner)
        emergency = run_transition(emergency, "complete_deployment", by=owner, reason="Patched; exploit refused.")
        _backdate(emergency, now - dt.timedelta(days=2), hours=1)
