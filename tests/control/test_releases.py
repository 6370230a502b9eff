"""Release and deployment management (clause 9.3): release policy, releases through their
workflow with acceptance criteria, approval, baseline and rollback, and their guards."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from processes.control.models import AcceptanceCriterion, Release, ReleasePolicy
from processes.control.services_releases import record_result, save_criterion
from sms.cmdb.models import Baseline
from sms.core.workflow import run_transition
from sms.tenancy import context
from tests.factories import (
    ConfigurationItemFactory,
    KnownErrorFactory,
    ProblemFactory,
    ServiceFactory,
)
from tests.factories_control import approved_change, approved_release, make_change, make_release, release_in_test


def url(release, tail: str = "") -> str:
    return f"/api/v1/releases/{release.pk}/{tail}"


def take(client, release, name, reason="ok"):
    return client.post(url(release, f"transitions/{name}/"), {"reason": reason}, format="json")


def reload(release, tenant):
    with context.tenant_context(tenant):
        return Release.objects.get(pk=release.pk)


def snapshot(release, tenant) -> tuple:
    """What a refused transition must leave exactly as it was."""
    with context.tenant_context(tenant):
        r = Release.objects.get(pk=release.pk)
        return (r.state, r.updated_at, r.baseline_id, r.approved_by_id, r.outcome, r.history.count(),
                Baseline.objects.count())


def pass_all(release, people, tenant):
    with context.tenant_context(tenant, people["agent"]):
        for c in release.criteria.all():
            record_result(c, by=people["agent"], result="passed", notes="Seen working.")


# --- policy --------------------------------------------------------------------------------------
def test_policy_api_validates_and_is_agreed_by_process_owners_only(api, personas, tenant_a):
    body = {
        "release_types": ["minor", "emergency"],
        "frequency": "Minor releases every second Tuesday.",
        "emergency_definition": "A fix for a live outage that cannot wait for the next window.",
        "incident_window_days": 10,
    }
    assert api("auditor").post("/api/v1/release-policies/", body, format="json").status_code == 403
    assert api("agent").post("/api/v1/release-policies/", body, format="json").status_code == 403
    resp = api("process_owner").post("/api/v1/release-policies/", body, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["release_types"] == ["minor", "emergency"] and resp.json()["service"] is None
    again = api("process_owner").post("/api/v1/release-policies/", body, format="json")
    assert again.status_code == 400 and "service" in again.json()
    with context.tenant_context(tenant_a, personas["admin"]):
        service = ServiceFactory()
    bad = api("process_owner").post(
        "/api/v1/release-policies/",
        {"service": service.pk, "release_types": ["emergency"], "frequency": " ", "incident_window_days": 1},
        format="json",
    )
    assert bad.status_code == 400 and "frequency" in bad.json()
    bad = api("process_owner").post(
        "/api/v1/release-policies/",
        {"service": service.pk, "release_types": ["emergency"], "frequency": "x", "incident_window_days": 0},
        format="json",
    )
    assert bad.status_code == 400
    assert {"emergency_definition", "incident_window_days"} <= set(bad.json()), bad.json()
    bad_type = api("process_owner").post(
        "/api/v1/release-policies/", {"service": service.pk, "release_types": ["huge"], "frequency": "x"},
        format="json",
    )
    assert bad_type.status_code == 400 and "release_types" in bad_type.json()
    assert api("auditor").get("/api/v1/release-policies/").status_code == 200


def test_release_type_must_be_agreed_by_the_services_policy(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        service, other = ServiceFactory(), ServiceFactory()
        ReleasePolicy.objects.create(service=service, release_types=["minor"], frequency="Monthly.")
        ci = ConfigurationItemFactory()
    body = {"title": "Big bang", "release_type": "major", "services": [service.pk], "cis": [ci.pk]}
    resp = api("process_owner").post("/api/v1/releases/", body, format="json")
    assert resp.status_code == 400 and "release_type" in resp.json(), resp.content
    with context.tenant_context(tenant_a):
        assert not Release.objects.exists()
    # The other service has no policy of its own and there is no tenant-wide one: any type.
    ok = api("process_owner").post("/api/v1/releases/", {**body, "services": [other.pk]}, format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["reference"].startswith("REL-")
    assert ok.json()["release_manager"] == personas["process_owner"].pk


def test_bad_input_gives_field_messages(api, personas, tenant_a):
    client = api("process_owner")
    resp = client.post(
        "/api/v1/releases/",
        {"title": " ", "release_type": "huge", "planned_start": "2026-05-02T10:00:00Z",
         "planned_end": "2026-05-01T10:00:00Z", "cis": [999999], "deployment_method": "carrier pigeon"},
        format="json",
    )
    assert resp.status_code == 400
    assert {"title", "release_type", "cis", "deployment_method"} <= set(resp.json()), resp.json()
    resp = client.post(
        "/api/v1/releases/",
        {"title": "Dates", "planned_start": "2026-05-02T10:00:00Z", "planned_end": "2026-05-01T10:00:00Z"},
        format="json",
    )
    assert resp.status_code == 400 and "planned_end" in resp.json()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = make_release(personas)
    crit = client.post("/api/v1/release-criteria/", {"release": release.pk, "description": "  "}, format="json")
    assert crit.status_code == 400 and "description" in crit.json()
    crit = client.post("/api/v1/release-criteria/", {"release": release.pk, "description": "Answers."}, format="json")
    assert crit.status_code == 201
    res = client.post(f"/api/v1/release-criteria/{crit.json()['id']}/result/", {"result": "maybe"}, format="json")
    assert res.status_code == 400 and {"result", "notes"} <= set(res.json())
    # A result before the release is in test is refused, with the reason on the field.
    res = client.post(
        f"/api/v1/release-criteria/{crit.json()['id']}/result/", {"result": "passed", "notes": "ok"}, format="json"
    )
    assert res.status_code == 400 and "result" in res.json()


# --- the workflow ---------------------------------------------------------------------------------
def test_full_release_through_the_api_moves_on_known_errors_and_problems(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        service = ServiceFactory()
        ci = ConfigurationItemFactory()
        ke = KnownErrorFactory()
        problem = ProblemFactory(
            assignee=personas["agent"], root_cause="A leak in the session cache.", needs_change=True
        )
        problem = run_transition(problem, "investigate", by=personas["agent"])
        blocked_problem = ProblemFactory(assignee=personas["agent"])  # no root cause: cannot be resolved
        blocked_problem = run_transition(blocked_problem, "investigate", by=personas["agent"])
        change = approved_change(personas, cis=[ci])
    owner, cab = api("process_owner"), api("change_approver")
    resp = owner.post(
        "/api/v1/releases/",
        {
            "title": "Shop 4.2",
            "release_type": "minor",
            "services": [service.pk],
            "cis": [ci.pk],
            "changes": [change.pk],
            "problems": [problem.pk, blocked_problem.pk],
            "known_errors": [ke.pk],
            "planned_start": "2030-01-05T20:00:00Z",
            "planned_end": "2030-01-05T22:00:00Z",
            "deliverables": "Images 4.2",
            "deployment_method": "phased",
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    with context.tenant_context(tenant_a):
        release = Release.objects.get(pk=resp.json()["id"])
    assert take(owner, release, "start_build").status_code == 200
    blocked = take(owner, release, "start_test")
    assert blocked.status_code == 400 and {"test_environment", "criteria"} <= set(blocked.json())
    assert owner.patch(url(release), {"test_environment": "UAT-2"}, format="json").status_code == 200
    crit = owner.post("/api/v1/release-criteria/", {"release": release.pk, "description": "Pays."}, format="json")
    assert crit.status_code == 201
    assert take(owner, release, "start_test").status_code == 200
    no_plan = take(owner, release, "request_approval")
    assert no_plan.status_code == 400 and {"criteria", "rollback_plan"} <= set(no_plan.json())
    assert owner.patch(url(release), {"rollback_plan": "Switch back."}, format="json").status_code == 200
    res = api("agent").post(
        f"/api/v1/release-criteria/{crit.json()['id']}/result/", {"result": "passed", "notes": "Paid."},
        format="json",
    )
    assert res.status_code == 403  # agents read releases only
    res = owner.post(
        f"/api/v1/release-criteria/{crit.json()['id']}/result/", {"result": "passed", "notes": "Paid."},
        format="json",
    )
    assert res.status_code == 200 and res.json()["environment"] == "UAT-2", res.content
    assert take(owner, release, "request_approval").status_code == 200
    assert take(cab, release, "approve", "All criteria met").status_code == 200
    started = take(owner, release, "start_deployment")
    assert started.status_code == 200, started.content
    body = started.json()
    assert body["state"] == "deploying" and body["baseline_detail"]["item_count"] >= 1
    with context.tenant_context(tenant_a):
        baseline = Baseline.objects.get(pk=body["baseline"])
        assert ci.reference in baseline.items and baseline.scope["cis"] == [ci.pk]
    assert take(owner, release, "complete_deployment", "").status_code == 400  # a reason is required
    done = take(owner, release, "complete_deployment", "Live, health checks green")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["outcome"] == "successful" and body["incident_window_days"] == 14
    with context.tenant_context(tenant_a):
        ke.refresh_from_db()
        problem.refresh_from_db()
        blocked_problem.refresh_from_db()
        assert ke.state == "retired" and release.reference in ke.history.first().history_change_reason
        assert problem.state == "resolved" and problem.rfc_reference == change.reference
        assert release.reference in problem.resolution_notes
        assert blocked_problem.state == "under_investigation" and not blocked_problem.resolution_notes
    assert f"{blocked_problem.reference} not resolved" in body["follow_up"]
    assert take(owner, release, "start_review").status_code == 200
    closing = take(owner, release, "close")
    assert closing.status_code == 400 and "review_notes" in closing.json()
    assert owner.patch(url(release), {"title": "Renamed"}, format="json").status_code == 400
    notes = {"review_notes": "Successful: no incidents, customers saw faster checkout."}
    assert owner.patch(url(release), notes, format="json").status_code == 200
    assert take(owner, release, "close").status_code == 200
    assert reload(release, tenant_a).state == "closed"


def test_release_without_baseline_is_refused(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        empty_service = ServiceFactory()  # no components: nothing to take a baseline of
        release = approved_release(personas, services=[empty_service], cis=[])
    before = snapshot(release, tenant_a)
    resp = take(api("process_owner"), release, "start_deployment")
    assert resp.status_code == 400 and "cis" in resp.json(), resp.content
    assert snapshot(release, tenant_a) == before
    # Nor can anything put a release into deployment without a baseline behind the service's back.
    with context.tenant_context(tenant_a), pytest.raises(IntegrityError), transaction.atomic():
        Release.objects.filter(pk=release.pk).update(state="deploying")


def test_untested_or_failing_criteria_block_approval_and_deployment(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas)
        first, second = list(release.criteria.all())
        record_result(first, by=personas["agent"], result="passed", notes="ok")
    owner, cab = api("process_owner"), api("change_approver")
    resp = take(owner, release, "request_approval")
    assert resp.status_code == 400 and "criteria" in resp.json()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        record_result(second, by=personas["agent"], result="failed", notes="Payment log shows timeouts.")
    assert take(owner, release, "request_approval").status_code == 400
    with context.tenant_context(tenant_a, personas["process_owner"]):
        record_result(second, by=personas["agent"], result="passed", notes="Fixed and retested.")
    assert take(owner, release, "request_approval").status_code == 200
    # A criterion that stops passing after the request (a late retest) holds approval and deployment.
    with context.tenant_context(tenant_a):
        AcceptanceCriterion.objects.filter(pk=second.pk).update(result="failed")
    before = snapshot(release, tenant_a)
    resp = take(cab, release, "approve")
    assert resp.status_code == 400 and "criteria" in resp.json()
    assert snapshot(release, tenant_a) == before
    with context.tenant_context(tenant_a):
        AcceptanceCriterion.objects.filter(pk=second.pk).update(result="passed")
    assert take(cab, release, "approve").status_code == 200
    with context.tenant_context(tenant_a):
        AcceptanceCriterion.objects.filter(pk=second.pk).update(result="untested")
    before = snapshot(release, tenant_a)
    resp = take(owner, release, "start_deployment")
    assert resp.status_code == 400 and "criteria" in resp.json()
    assert snapshot(release, tenant_a) == before


def test_approval_comes_before_deployment(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas)
    pass_all(release, personas, tenant_a)
    owner = api("process_owner")
    for state_name in ("in_test", "awaiting_approval"):
        before = snapshot(release, tenant_a)
        resp = take(owner, release, "start_deployment")
        assert resp.status_code == 409, (state_name, resp.content)
        assert snapshot(release, tenant_a) == before
        if state_name == "in_test":
            assert take(owner, release, "request_approval").status_code == 200
    assert take(api("change_approver"), release, "approve").status_code == 200
    assert take(owner, release, "start_deployment").status_code == 200


def test_release_manager_and_recorder_cannot_approve_their_own_release(api, personas, tenant_a):
    # Recorded by the process owner, managed by the change approver: neither may approve.
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas, release_manager=personas["change_approver"])
    pass_all(release, personas, tenant_a)
    assert take(api("process_owner"), release, "request_approval").status_code == 200
    for who in ("change_approver", "process_owner"):
        before = snapshot(release, tenant_a)
        resp = take(api(who), release, "approve")
        assert resp.status_code == 403, (who, resp.content)
        assert "someone else" in resp.json()["detail"]
        assert snapshot(release, tenant_a) == before
    # The agent has no approval right at all; the administrator is not a release approver either.
    assert take(api("agent"), release, "approve").status_code == 403
    assert take(api("admin"), release, "approve").status_code == 403
    with context.tenant_context(tenant_a):
        assert reload(release, tenant_a).approved_by_id is None


def test_someone_else_approves_and_is_recorded(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = approved_release(personas)
    assert release.approved_by_id == personas["change_approver"].pk and release.approved_at is not None


def test_auditor_is_read_only(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas)
        criterion = release.criteria.first()
    auditor = api("auditor")
    assert auditor.get("/api/v1/releases/").status_code == 200
    assert auditor.get(url(release)).status_code == 200
    assert auditor.get(url(release, "incidents/")).status_code == 200
    assert auditor.get("/api/v1/release-criteria/").status_code == 200
    assert auditor.post("/api/v1/releases/", {"title": "x"}, format="json").status_code == 403
    assert auditor.patch(url(release), {"title": "x"}, format="json").status_code == 403
    before = snapshot(release, tenant_a)
    assert take(auditor, release, "back_to_build").status_code == 403
    assert take(auditor, release, "cancel").status_code == 403
    assert snapshot(release, tenant_a) == before
    crit_url = f"/api/v1/release-criteria/{criterion.pk}/"
    assert auditor.post(f"{crit_url}result/", {"result": "passed", "notes": "x"}, format="json").status_code == 403
    assert auditor.patch(crit_url, {"description": "x"}, format="json").status_code == 403
    assert auditor.delete(crit_url).status_code == 403
    assert auditor.post("/api/v1/release-policies/", {"frequency": "x"}, format="json").status_code == 403


def test_failed_deployment_rolls_back_and_is_analysed(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ke = KnownErrorFactory()
        release = approved_release(personas, known_errors=[ke])
        release = run_transition(release, "start_deployment", by=personas["process_owner"])
    owner = api("process_owner")
    assert take(owner, release, "fail", "Database migration timed out").status_code == 200
    assert take(owner, release, "roll_back", "Previous colour back in 3 minutes").status_code == 200
    release = reload(release, tenant_a)
    assert release.outcome == "rolled_back" and "Rolled back" in release.deployment_result
    with context.tenant_context(tenant_a):
        ke.refresh_from_db()
        assert ke.state == "open"  # a failed release fixes nothing
    assert take(owner, release, "start_review").status_code == 200
    notes = {"review_notes": "Failed: the migration needs a longer window; customers saw 10 minutes of errors."}
    assert owner.patch(url(release), notes, format="json").status_code == 200
    assert take(owner, release, "close").status_code == 200


def test_criteria_are_frozen_once_the_release_goes_to_its_approvers(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas)
        first = release.criteria.first()
        record_result(first, by=personas["agent"], result="passed", notes="ok")
        # Rewording a tested criterion sets it back to untested.
        first.description = "Checkout completes in under 2 seconds."
        first = save_criterion(first, by=personas["process_owner"])
        assert first.result == "untested" and first.tested_at is None
    pass_all(release, personas, tenant_a)
    owner = api("process_owner")
    assert take(owner, release, "request_approval").status_code == 200
    resp = owner.post("/api/v1/release-criteria/", {"release": release.pk, "description": "More"}, format="json")
    assert resp.status_code == 400 and "release" in resp.json()
    resp = owner.patch(f"/api/v1/release-criteria/{first.pk}/", {"description": "Less"}, format="json")
    assert resp.status_code == 400
    assert owner.delete(f"/api/v1/release-criteria/{first.pk}/").status_code == 400
    # Sent back to test by an approver: the criteria may change again.
    assert take(api("change_approver"), release, "send_back", "Add a load test").status_code == 200
    resp = owner.post("/api/v1/release-criteria/", {"release": release.pk, "description": "Load"}, format="json")
    assert resp.status_code == 201


def test_emergency_release_goes_with_an_emergency_change(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas, release_type="emergency")
    pass_all(release, personas, tenant_a)
    owner = api("process_owner")
    resp = take(owner, release, "request_approval")
    assert resp.status_code == 400 and "changes" in resp.json()
    with context.tenant_context(tenant_a, personas["agent"]):
        emergency = make_change(personas, change_type="emergency")
        normal = make_change(personas)
    assert owner.patch(url(release), {"changes": [normal.pk]}, format="json").status_code == 200
    assert take(owner, release, "request_approval").status_code == 400
    assert owner.patch(url(release), {"changes": [emergency.pk]}, format="json").status_code == 200
    assert take(owner, release, "request_approval").status_code == 200


def test_cancel_needs_a_reason_and_only_before_deployment(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = make_release(personas)
    owner = api("process_owner")
    assert take(owner, release, "cancel", "").status_code == 400
    assert take(owner, release, "cancel", "Merged into the next release").status_code == 200
    assert reload(release, tenant_a).state == "cancelled"


def test_other_tenants_cannot_reach_release_actions_or_filter_on_its_records(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        change = make_change(personas)
        release = release_in_test(personas, changes=[change])
        criterion = release.criteria.first()
    outsider = api("outsider_admin")
    assert outsider.get(url(release, "incidents/")).status_code == 404
    assert take(outsider, release, "request_approval").status_code == 404
    resp = outsider.post(f"/api/v1/release-criteria/{criterion.pk}/result/", {"result": "passed", "notes": "x"},
                         format="json")
    assert resp.status_code == 404
    resp = outsider.get("/api/v1/releases/", {"change": change.pk})
    assert resp.status_code == 400 or release.pk not in {r["id"] for r in resp.json()["results"]}
    # Linking another tenant's records to one's own release is refused as unknown ids.
    resp = outsider.post("/api/v1/releases/", {"title": "Steal", "changes": [change.pk]}, format="json")
    assert resp.status_code == 400 and "changes" in resp.json()
    with context.tenant_context(tenant_a):
        criterion.refresh_from_db()
        assert criterion.result == "untested"


def test_deployment_waits_for_the_release_s_requests_for_change(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        draft = make_change(personas)
        release = approved_release(personas, changes=[draft])
    before = snapshot(release, tenant_a)
    resp = take(api("process_owner"), release, "start_deployment")
    assert resp.status_code == 400 and "changes" in resp.json()
    assert snapshot(release, tenant_a) == before
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ok = approved_change(personas)
        Release.changes.through.objects.filter(release_id=release.pk).delete()
        release.changes.add(ok)
    assert take(api("process_owner"), release, "start_deployment").status_code == 200


def test_a_release_does_not_newly_link_finished_problems_or_known_errors(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ke = KnownErrorFactory()
        ke = run_transition(ke, "retire", by=personas["process_owner"], reason="Gone")
        problem = ProblemFactory()
        problem = run_transition(problem, "cancel", by=personas["process_owner"], reason="Duplicate")
        ci = ConfigurationItemFactory()
    resp = api("process_owner").post(
        "/api/v1/releases/",
        {"title": "Closes old things", "cis": [ci.pk], "known_errors": [ke.pk], "problems": [problem.pk]},
        format="json",
    )
    assert resp.status_code == 400 and {"known_errors", "problems"} <= set(resp.json()), resp.content
    assert ke.reference in resp.json()["known_errors"][0]
