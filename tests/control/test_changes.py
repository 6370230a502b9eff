"""Change management (clause 9.2): policy, standard change templates, requests for change
through their workflow, approval rules and their guards."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from processes.control.models import ApprovalRule, Change, ChangeApproval
from sms.tenancy import context
from tests.conftest import token_client
from tests.factories import CITypeFactory, ConfigurationItemFactory, ServiceFactory
from tests.factories_control import StandardChangeTemplateFactory, approved_template, make_change


def url(change, tail: str = "") -> str:
    return f"/api/v1/changes/{change.pk}/{tail}"


def take(client, change, name, reason="ok"):
    return client.post(url(change, f"transitions/{name}/"), {"reason": reason}, format="json")


def reload(change, tenant):
    with context.tenant_context(tenant):
        return Change.objects.get(pk=change.pk)


@pytest.fixture
def rfc(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        return make_change(personas)


def to_assessment(api, change):
    assert take(api("agent"), change, "submit").status_code == 200
    assert take(api("change_approver"), change, "start_assessment").status_code == 200


def set_rule(tenant, people, *, rule="any", quorum=None, role="", approvers=(), change_type="normal", risk="medium"):
    with context.tenant_context(tenant, people["admin"]):
        obj = ApprovalRule.objects.create(
            change_type=change_type, risk_level=risk, rule=rule, quorum=quorum, approver_role=role
        )
        obj.approvers.set([people[a] for a in approvers])
        return obj


# --- policy ----------------------------------------------------------------------------------------
def test_policy_is_created_on_first_read_and_shows_controlled_ci_types(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        controlled = CITypeFactory(under_change_control=True)
        free = CITypeFactory(under_change_control=False)
    rows = api("auditor").get("/api/v1/change-policy/").json()["results"]
    assert len(rows) == 1
    assert controlled.pk in rows[0]["controlled_ci_types"] and free.pk not in rows[0]["controlled_ci_types"]
    assert "Removing a service" in rows[0]["always_major"]


def test_policy_sets_the_cmdb_flag_with_history_and_auditors_cannot(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        a = CITypeFactory(under_change_control=True)
        b = CITypeFactory(under_change_control=False)
    pk = api("auditor").get("/api/v1/change-policy/").json()["results"][0]["id"]
    body = {"controlled_ci_types": [b.pk], "emergency_definition": "A service is down for customers."}
    assert api("auditor").patch(f"/api/v1/change-policy/{pk}/", body, format="json").status_code == 403
    resp = api("process_owner").patch(f"/api/v1/change-policy/{pk}/", body, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["controlled_ci_types"] == [b.pk]
    with context.tenant_context(tenant_a):
        a.refresh_from_db()
        b.refresh_from_db()
        assert not a.under_change_control and b.under_change_control
        assert "change management policy" in b.history.first().history_change_reason
    bad = api("process_owner").patch(f"/api/v1/change-policy/{pk}/", {"major_min_services": 0}, format="json")
    assert bad.status_code == 400 and "major_min_services" in bad.json()


@pytest.mark.parametrize(("action", "major"), [("remove", True), ("transfer", True), ("modify", False), ("new", False)])
def test_removing_or_transferring_a_service_is_always_major(personas, tenant_a, action, major):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, service_action=action)
        assert change.is_major is major


def test_policy_criteria_make_a_change_major(personas, tenant_a):
    from processes.control.services import major_impact_reasons, policy

    with context.tenant_context(tenant_a, personas["admin"]):
        pol = policy()
        pol.major_service_criticality = "2"
        pol.major_min_services = 3
        pol.save()
        critical = make_change(personas, services=[ServiceFactory(criticality="1")])
        assert critical.is_major and "criticality" in major_impact_reasons(critical)[0]
        wide = make_change(personas, services=[ServiceFactory(criticality="4") for _ in range(3)])
        assert wide.is_major and "3 services" in major_impact_reasons(wide)[0]
        small = make_change(personas, services=[ServiceFactory(criticality="4")])
        assert not small.is_major


# --- standard changes ------------------------------------------------------------------------------
def test_template_is_preapproved_by_someone_other_than_its_author(api, personas, tenant_a):
    resp = api("process_owner").post(
        "/api/v1/change-templates/",
        {
            "name": "Rotate a TLS certificate",
            "description": "Before expiry.",
            "implementation_plan": "Swap it.",
            "remediation_plan": "Put the old one back.",
            "remediation_tested": True,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    own = api("process_owner").post(f"/api/v1/change-templates/{pk}/approve/", {"rationale": "fine"}, format="json")
    assert own.status_code == 403
    assert (
        api("agent").post(f"/api/v1/change-templates/{pk}/approve/", {"rationale": "x"}, format="json").status_code
        == 403
    )
    assert (
        api("change_approver")
        .post(f"/api/v1/change-templates/{pk}/approve/", {"rationale": ""}, format="json")
        .status_code
        == 400
    )
    ok = api("change_approver").post(f"/api/v1/change-templates/{pk}/approve/", {"rationale": "Routine"}, format="json")
    assert ok.status_code == 200 and ok.json()["is_approved"] is True
    assert ok.json()["approved_by"]["username"] == "acme-change_approver"


def test_standard_change_needs_an_approved_template_and_skips_approval(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        draft_template = StandardChangeTemplateFactory()
        template = approved_template(personas)
        service = ServiceFactory()
    client = api("agent")
    body = {"title": "Patch web-01", "change_type": "standard", "services": [service.pk]}
    refused = client.post("/api/v1/changes/", {**body, "template": draft_template.pk}, format="json")
    assert refused.status_code == 400 and "template" in refused.json()
    assert client.post("/api/v1/changes/", body, format="json").status_code == 400
    resp = client.post("/api/v1/changes/", {**body, "template": template.pk}, format="json")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["reference"].startswith("CHG-")
    assert data["implementation_plan"] == template.implementation_plan and data["risk_level"] == "low"
    change = Change(pk=data["id"])
    assert take(client, change, "submit").status_code == 200
    assert take(api("change_approver"), change, "start_assessment").status_code == 400  # standard: no assessment
    resp = take(client, change, "accept_standard")
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "approved" and resp.json()["approvals"] == []


# --- workflow guards -------------------------------------------------------------------------------
def test_submit_needs_a_scope(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, services=[])
    resp = take(api("agent"), change, "submit")
    assert resp.status_code == 400 and "services" in resp.json()
    assert reload(change, tenant_a).state == "draft"


@pytest.mark.parametrize("change_type", ["normal", "emergency"])
def test_missing_remediation_plan_blocks_approval_and_changes_nothing(api, personas, tenant_a, change_type):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, change_type=change_type, remediation_plan="")
    assert take(api("agent"), change, "submit").status_code == 200
    if change_type == "normal":
        assert take(api("change_approver"), change, "start_assessment").status_code == 200
        resp = take(api("change_approver"), change, "request_approval")
    else:
        resp = take(api("agent"), change, "request_emergency_approval")
    assert resp.status_code == 400
    assert "remediation (back-out) plan" in resp.json()["remediation_plan"][0]
    after = reload(change, tenant_a)
    assert after.state == ("assessment" if change_type == "normal" else "submitted")
    with context.tenant_context(tenant_a):
        assert not ChangeApproval.objects.filter(change=change).exists()


def test_editing_is_refused_once_with_approvers(api, rfc):
    to_assessment(api, rfc)
    assert take(api("change_approver"), rfc, "request_approval").status_code == 200
    resp = api("process_owner").patch(url(rfc), {"title": "Something else"}, format="json")
    assert resp.status_code == 400


def test_planned_end_after_start(api, rfc):
    start = timezone.now()
    resp = api("process_owner").patch(
        url(rfc),
        {"planned_start": start.isoformat(), "planned_end": (start - dt.timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert resp.status_code == 400 and "planned_end" in resp.json()


def test_full_lifecycle_with_the_default_rule(api, rfc, tenant_a):
    to_assessment(api, rfc)
    resp = take(api("change_approver"), rfc, "request_approval")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["state"] == "awaiting_approval" and body["approval_rule"] == "any"
    assert [a["approver"]["username"] for a in body["approvals"]] == ["acme-change_approver"]
    # Approve cannot be taken as a bare transition: the rule decides.
    assert take(api("change_approver"), rfc, "approve").status_code == 400
    resp = api("change_approver").post(
        url(rfc, "decisions/"), {"decision": "approved", "rationale": "Low risk"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "approved"
    po = api("process_owner")
    assert take(po, rfc, "schedule").status_code == 400  # no window yet
    start = timezone.now() + dt.timedelta(days=1)
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(planned_start=start, planned_end=start + dt.timedelta(hours=2))
    for name in ("schedule", "start_implementation", "complete", "start_review"):
        assert take(po, rfc, name, reason="done").status_code == 200, name
    assert take(po, rfc, "close").status_code == 400  # no review yet
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(review_notes="Effective: latency halved.")
    assert take(po, rfc, "close").json()["state"] == "closed"


def test_failed_change_is_backed_out_and_reviewed(api, rfc, tenant_a):
    to_assessment(api, rfc)
    take(api("change_approver"), rfc, "request_approval")
    api("change_approver").post(url(rfc, "decisions/"), {"decision": "approved", "rationale": "ok"}, format="json")
    with context.tenant_context(tenant_a):
        now = timezone.now()
        Change.objects.filter(pk=rfc.pk).update(planned_start=now, planned_end=now + dt.timedelta(hours=1))
    po = api("process_owner")
    for name in ("schedule", "start_implementation"):
        assert take(po, rfc, name).status_code == 200
    assert take(po, rfc, "fail", reason="").status_code == 400  # a reason is required
    assert take(po, rfc, "fail", reason="Database migration timed out").json()["state"] == "failed"
    assert take(po, rfc, "back_out", reason="Snapshot restored").json()["state"] == "backed_out"
    assert take(po, rfc, "start_review").json()["state"] == "under_review"


def test_emergency_change_goes_straight_to_its_approvers_and_is_implemented_at_once(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, change_type="emergency", risk_level="high")
    set_rule(tenant_a, personas, change_type="emergency", risk="high", approvers=("top_management",))
    assert take(api("agent"), change, "submit").status_code == 200
    resp = take(api("agent"), change, "request_emergency_approval")
    assert resp.status_code == 200, resp.content
    assert [a["approver"]["username"] for a in resp.json()["approvals"]] == ["acme-top_management"]
    # Top management holds no change.approve: the rule names them, but the role decides what they may do.
    denied = api("top_management").post(
        url(change, "decisions/"), {"decision": "approved", "rationale": "go"}, format="json"
    )
    assert denied.status_code == 403


def test_emergency_change_implemented_on_its_approval(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, change_type="emergency", risk_level="high")
    assert take(api("agent"), change, "submit").status_code == 200
    assert take(api("agent"), change, "request_emergency_approval").status_code == 200
    api("change_approver").post(
        url(change, "decisions/"), {"decision": "approved", "rationale": "Outage"}, format="json"
    )
    resp = take(api("process_owner"), change, "implement_emergency")
    assert resp.status_code == 200 and resp.json()["state"] == "implementing"
    assert resp.json()["planned_start"] is not None


def test_nobody_to_ask_blocks_the_request(api, personas, tenant_a, rfc):
    set_rule(tenant_a, personas, approvers=("agent",))  # only the requester: not asked
    to_assessment(api, rfc)
    resp = take(api("change_approver"), rfc, "request_approval")
    assert resp.status_code == 400 and "Nobody can approve" in resp.json()["detail"]
    assert reload(rfc, tenant_a).state == "assessment"


# --- approval --------------------------------------------------------------------------------------
def send_for_approval(api, change):
    to_assessment(api, change)
    resp = take(api("change_approver"), change, "request_approval")
    assert resp.status_code == 200, resp.content
    return resp.json()


def decide(client, change, decision="approved", rationale="Looks right"):
    return client.post(url(change, "decisions/"), {"decision": decision, "rationale": rationale}, format="json")


def test_requester_never_approves_their_own_change(api, personas, tenant_a):
    # The change approver records a change; the rule names them too: they are not asked, and refused.
    set_rule(tenant_a, personas, role="change_approver", approvers=("process_owner",))
    with context.tenant_context(tenant_a, personas["change_approver"]):
        change = make_change(personas, by=personas["change_approver"])
    body = send_for_approval(api, change)
    assert [a["approver"]["username"] for a in body["approvals"]] == ["acme-process_owner"]
    before = reload(change, tenant_a)
    resp = decide(api("change_approver"), change)
    assert resp.status_code == 403 and "someone else" in resp.json()["detail"]
    after = reload(change, tenant_a)
    assert after.state == "awaiting_approval" and after.history.count() == before.history.count()
    with context.tenant_context(tenant_a):
        assert set(ChangeApproval.objects.filter(change=change).values_list("decision", flat=True)) == {"pending"}


def test_all_rule_needs_every_approver(api, personas, tenant_a, rfc):
    set_rule(tenant_a, personas, rule="all", approvers=("process_owner", "change_approver"))
    send_for_approval(api, rfc)
    first = decide(api("process_owner"), rfc)
    assert first.status_code == 200 and first.json()["state"] == "awaiting_approval"
    assert first.json()["approval"]["approved"] == 1 and first.json()["approval"]["needed"] == 2
    assert decide(api("process_owner"), rfc).status_code == 409  # decided already
    second = decide(api("change_approver"), rfc)
    assert second.json()["state"] == "approved"


def test_quorum_rule(api, personas, tenant_a, rfc):
    with context.tenant_context(tenant_a, personas["admin"]):
        from sms.tenancy.services import add_member
        from tests.conftest import make_user

        third = make_user("acme-cab-2")
        add_member(tenant_a, third, ["change_approver"])
    set_rule(tenant_a, personas, rule="quorum", quorum=2, role="change_approver", approvers=("process_owner",))
    body = send_for_approval(api, rfc)
    assert body["approval"]["asked"] == 3 and body["approval"]["needed"] == 2
    assert decide(api("change_approver"), rfc).json()["state"] == "awaiting_approval"
    assert decide(api("process_owner"), rfc).json()["state"] == "approved"
    # Too late for the third: the change no longer awaits approval.
    assert decide(token_client(third, tenant_a), rfc).status_code == 409


def test_one_rejection_rejects(api, personas, tenant_a, rfc):
    set_rule(tenant_a, personas, rule="all", approvers=("process_owner", "change_approver"))
    send_for_approval(api, rfc)
    decide(api("process_owner"), rfc)
    resp = decide(api("change_approver"), rfc, "rejected", "The back-out is untested")
    assert resp.json()["state"] == "rejected"
    rows = {a["approver"]["username"]: (a["decision"], a["rationale"]) for a in resp.json()["approvals"]}
    assert rows["acme-change_approver"] == ("rejected", "The back-out is untested")


def test_decision_needs_rationale_and_an_asked_approver(api, personas, tenant_a, rfc):
    send_for_approval(api, rfc)  # default rule: holders of the change approver role
    assert decide(api("change_approver"), rfc, rationale="").status_code == 400
    assert decide(api("change_approver"), rfc, decision="maybe").status_code == 400
    assert decide(api("process_owner"), rfc).status_code == 403  # not asked
    assert decide(api("auditor"), rfc).status_code == 403
    # Another tenant's agent holds no change.approve there, and cannot see this change anyway.
    assert (
        api("outsider")
        .post(url(rfc, "decisions/"), {"decision": "approved", "rationale": "x"}, format="json")
        .status_code
        == 403
    )
    assert api("outsider").get(url(rfc, "decisions/")).status_code == 404
    assert reload(rfc, tenant_a).state == "awaiting_approval"


def test_approvals_inbox(api, personas, tenant_a, rfc):
    send_for_approval(api, rfc)
    rows = api("change_approver").get("/api/v1/change-approvals/", {"mine": "true", "decision": "pending"}).json()
    assert [r["change_reference"] for r in rows["results"]] == [rfc.reference]
    assert api("process_owner").get("/api/v1/change-approvals/", {"mine": "true"}).json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_approvers_deciding_in_parallel_are_each_counted_once(personas, tenant_a):
    set_rule(tenant_a, personas, rule="all", approvers=("process_owner", "change_approver"))
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas)
    assessor = token_client(personas["change_approver"], tenant_a)
    agent = token_client(personas["agent"], tenant_a)
    assert take(agent, change, "submit").status_code == 200
    assert take(assessor, change, "start_assessment").status_code == 200
    assert take(assessor, change, "request_approval").status_code == 200
    clients = {"process_owner": token_client(personas["process_owner"], tenant_a), "change_approver": assessor}
    barrier = threading.Barrier(2)
    results = {}

    def go(name):
        try:
            barrier.wait(timeout=30)
            results[name] = decide(clients[name], change, rationale=f"ok from {name}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(name,)) for name in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status_code for r in results.values()) == [200, 200], {k: v.content for k, v in results.items()}
    with context.tenant_context(tenant_a):
        change = Change.objects.get(pk=change.pk)
        assert change.state == "approved"
        rows = list(ChangeApproval.objects.filter(change=change).order_by("approver__username"))
        assert [(r.approver.username, r.decision) for r in rows] == [
            ("acme-change_approver", "approved"),
            ("acme-process_owner", "approved"),
        ]
        # Exactly one approval transition in the history.
        assert change.history.filter(state="approved").count() == 1


# --- tenant isolation and permissions --------------------------------------------------------------
def test_other_tenant_and_auditors(api, rfc):
    assert api("outsider").get(url(rfc)).status_code == 404
    assert api("outsider").get("/api/v1/changes/").json()["count"] == 0
    assert api("auditor").get(url(rfc)).status_code == 200
    assert api("auditor").post("/api/v1/changes/", {"title": "x"}, format="json").status_code == 403
    assert take(api("auditor"), rfc, "submit").status_code == 403


def test_scope_from_another_tenant_is_refused(api, personas, tenant_b):
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        foreign = ServiceFactory()
        foreign_ci = ConfigurationItemFactory()
    resp = api("agent").post("/api/v1/changes/", {"title": "x", "services": [foreign.pk]}, format="json")
    assert resp.status_code == 400 and "services" in resp.json()
    resp = api("agent").post("/api/v1/changes/", {"title": "x", "cis": [foreign_ci.pk]}, format="json")
    assert resp.status_code == 400 and "cis" in resp.json()


# --- deployment gate -------------------------------------------------------------------------------
def test_deployment_gate(api, personas, tenant_a, rfc):
    client = api("agent")  # an integration token with read access is enough
    closed = client.get(f"/api/v1/changes/{rfc.reference}/gate/").json()
    assert closed["allowed"] is False and "draft" in closed["reasons"][0]
    send_for_approval(api, rfc)
    decide(api("change_approver"), rfc)
    assert any("no planned window" in r for r in client.get(f"/api/v1/changes/{rfc.pk}/gate/").json()["reasons"])
    now = timezone.now()
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(
            planned_start=now + dt.timedelta(hours=1), planned_end=now + dt.timedelta(hours=3)
        )
    early = client.get(f"/api/v1/changes/{rfc.reference.lower()}/gate/").json()
    assert early["allowed"] is False and "opens at" in early["reasons"][0]
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(planned_start=now - dt.timedelta(minutes=5))
    inside = client.get(f"/api/v1/changes/{rfc.reference}/gate/").json()
    assert inside == {**inside, "allowed": True, "reasons": [], "state": "approved"}
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(planned_end=now - dt.timedelta(minutes=1))
    assert "closed at" in client.get(f"/api/v1/changes/{rfc.reference}/gate/").json()["reasons"][0]
    assert client.get("/api/v1/changes/CHG-99999/gate/").status_code == 404
    assert api("outsider").get(f"/api/v1/changes/{rfc.reference}/gate/").status_code == 404


# --- the CMDB's change-control hook ------------------------------------------------------------------
def test_controlled_ci_is_edited_only_under_an_approved_or_implementing_change(api, personas, tenant_a):
    from sms.cmdb.services import set_service_links
    from tests.factories_control import approved_change

    with context.tenant_context(tenant_a, personas["admin"]):
        controlled = ConfigurationItemFactory(ci_type=CITypeFactory(under_change_control=True))
        free = ConfigurationItemFactory(ci_type=CITypeFactory(under_change_control=False))
        service = ServiceFactory()
        set_service_links(service, components=[controlled])
        # In scope through its service; approved.
        rfc = approved_change(personas, services=[service])
    client = api("process_owner")

    def edit(ci, reference, version):
        body = {"version": version, "change_reason": "Upgrade", "last_change_reference": reference}
        return client.patch(f"/api/v1/cis/{ci.pk}/", body, format="json")

    assert edit(controlled, rfc.reference, "2.0").status_code == 200
    po = api("process_owner")
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(planned_start=timezone.now(), planned_end=timezone.now())
    take(po, rfc, "schedule")
    resp = edit(controlled, rfc.reference, "2.1")  # scheduled: wait for implementation to start
    assert resp.status_code == 400 and "scheduled" in resp.json()["last_change_reference"][0]
    take(po, rfc, "start_implementation")
    assert edit(controlled, rfc.reference, "2.1").status_code == 200
    take(po, rfc, "complete", reason="Done")
    assert edit(controlled, rfc.reference, "2.2").status_code == 400  # implemented: the change is over
    # CIs of types outside change control are not held up by the hook.
    assert edit(free, "anything-1", "9").status_code == 200
    with context.tenant_context(tenant_a):
        controlled.refresh_from_db()
        assert controlled.version == "2.1" and controlled.last_change_reference == rfc.reference


def test_gate_holds_deployments_in_a_blackout(api, personas, tenant_a, rfc):
    send_for_approval(api, rfc)
    decide(api("change_approver"), rfc)
    now = timezone.now()
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(
            planned_start=now - dt.timedelta(hours=1), planned_end=now + dt.timedelta(hours=1)
        )
        other_service = ServiceFactory()
        rfc_service = Change.objects.get(pk=rfc.pk).services.get()
    gate_url = f"/api/v1/changes/{rfc.reference}/gate/"
    client = api("agent")
    assert client.get(gate_url).json()["allowed"] is True
    window = {
        "name": "Peak",
        "starts_at": (now - dt.timedelta(minutes=30)).isoformat(),
        "ends_at": (now + dt.timedelta(minutes=30)).isoformat(),
    }
    assert api("agent").post("/api/v1/change-blackouts/", window, format="json").status_code == 403
    bad = api("process_owner").post(
        "/api/v1/change-blackouts/", {**window, "ends_at": window["starts_at"]}, format="json"
    )
    assert bad.status_code == 400 and "ends_at" in bad.json()
    # A blackout of another service does not hold this change; one of its own service does.
    other = api("process_owner").post(
        "/api/v1/change-blackouts/", {**window, "services": [other_service.pk]}, format="json"
    )
    assert other.status_code == 201, other.content
    assert client.get(gate_url).json()["allowed"] is True
    api("process_owner").patch(
        f"/api/v1/change-blackouts/{other.json()['id']}/", {"services": [rfc_service.pk]}, format="json"
    )
    held = client.get(gate_url).json()
    assert held["allowed"] is False and held["reasons"][0].startswith("Blackout Peak runs until")
    # For every service when it names none.
    api("process_owner").patch(f"/api/v1/change-blackouts/{other.json()['id']}/", {"services": []}, format="json")
    assert client.get(gate_url).json()["allowed"] is False


def test_successful_change_closes_only_once_its_cis_are_updated_in_the_cmdb(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        ci = ConfigurationItemFactory(ci_type=CITypeFactory(under_change_control=True))
    with context.tenant_context(tenant_a, personas["agent"]):
        rfc = make_change(personas, cis=[ci], services=[])
    send_for_approval(api, rfc)
    decide(api("change_approver"), rfc)
    now = timezone.now()
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(
            planned_start=now, planned_end=now + dt.timedelta(hours=1), review_notes="Effective."
        )
    po = api("process_owner")
    for name in ("schedule", "start_implementation", "complete", "start_review"):
        assert take(po, rfc, name, reason="done").status_code == 200, name
    refused = take(po, rfc, "close")
    assert refused.status_code == 400 and "cis" in refused.json()
    assert reload(rfc, tenant_a).state == "under_review"
    page = api("auditor").get(url(rfc)).json()
    assert page["outcome"] == "successful"
    body = {"version": "9.9", "change_reason": "Upgraded", "last_change_reference": rfc.reference}
    assert po.patch(f"/api/v1/cis/{ci.pk}/", body, format="json").status_code == 400  # under review: too late
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ci.refresh_from_db()
        ci.last_change_reference = rfc.reference
        ci.save(reason="Recorded after the change")
    assert take(po, rfc, "close").json()["state"] == "closed"


def test_backed_out_change_closes_without_cmdb_update(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        ci = ConfigurationItemFactory(ci_type=CITypeFactory(under_change_control=True))
    with context.tenant_context(tenant_a, personas["agent"]):
        rfc = make_change(personas, cis=[ci], services=[])
    send_for_approval(api, rfc)
    decide(api("change_approver"), rfc)
    now = timezone.now()
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=rfc.pk).update(
            planned_start=now,
            planned_end=now + dt.timedelta(hours=1),
            review_notes="Back-out worked; retry next month.",
        )
    po = api("process_owner")
    for name in ("schedule", "start_implementation", "fail", "back_out", "start_review"):
        assert take(po, rfc, name, reason="as planned").status_code == 200, name
    # A failed change is investigated before it closes (tests/control/test_review.py).
    body = {"findings": "The vendor patch was incomplete.", "actions": [{"title": "Ask the vendor for a fix"}]}
    assert po.post(url(rfc, "investigation/"), body, format="json").status_code == 200
    assert take(po, rfc, "close").status_code == 200
    assert reload(rfc, tenant_a).outcome == "backed_out"


# --- assessment and impact ---------------------------------------------------------------------------
def test_assessments_are_required_before_approval(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, security_impact="", business_benefit="  ")
    to_assessment(api, change)
    resp = take(api("change_approver"), change, "request_approval")
    assert resp.status_code == 400 and "information security" in resp.json()["detail"]
    assert reload(change, tenant_a).state == "assessment"
    cab_edit = api("change_approver").patch(url(change), {"security_impact": "None"}, format="json")
    assert cab_edit.status_code == 403  # the CAB assesses through its transitions; the owner edits
    api("process_owner").patch(
        url(change), {"security_impact": "None", "business_benefit": "Faster pages"}, format="json"
    )
    assert take(api("change_approver"), change, "request_approval").json()["state"] == "awaiting_approval"


def test_impact_from_the_cmdb(api, personas, tenant_a):
    from sms.cmdb.services import set_service_links
    from tests.factories import PartyFactory, RelationshipFactory

    with context.tenant_context(tenant_a, personas["admin"]):
        db = ConfigurationItemFactory(title="db-01")
        app = ConfigurationItemFactory(title="app-01")
        RelationshipFactory(source=app, kind="depends_on", target=db)
        shop = ServiceFactory(title="Shop")
        customer = PartyFactory(name="Harbour Retail", party_type="customer")
        set_service_links(shop, customers=[customer], components=[app])
        change = make_change(personas, cis=[db], services=[])
    body = api("auditor").get(url(change, "impact/")).json()
    assert [s["title"] for s in body["services"]] == ["Shop"]
    assert [c["name"] for c in body["customers"]] == ["Harbour Retail"]
    assert [c["title"] for c in body["cis"]] == ["app-01"]
    assert api("outsider").get(url(change, "impact/")).status_code == 404


def test_risk_questionnaire_gives_the_risk_level(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        service = ServiceFactory()
    client = api("process_owner")
    questions = client.get("/api/v1/change-policy/").json()["results"][0]["risk_questions"]
    keys = [q["key"] for q in questions]
    base = {"title": "Swap the load balancer", "services": [service.pk], "risk_level": "low"}
    all_no = {k: False for k in keys}
    resp = client.post("/api/v1/changes/", {**base, "risk_answers": all_no}, format="json")
    assert resp.status_code == 201 and resp.json()["risk_level"] == "low"
    risky = {**all_no, "untested": True, "slow_back_out": True}
    resp = client.patch(url(Change(pk=resp.json()["id"])), {"risk_answers": risky}, format="json")
    assert resp.json()["risk_level"] == "high"
    # Not every question answered: the level given stays.
    partial = client.post("/api/v1/changes/", {**base, "risk_answers": {"untested": True}}, format="json")
    assert partial.json()["risk_level"] == "low"
    for bad in ({"nonsense": True}, {"untested": "yes"}, ["untested"]):
        resp = client.post("/api/v1/changes/", {**base, "risk_answers": bad}, format="json")
        assert resp.status_code == 400 and "risk_answers" in resp.json(), bad


def test_conflicts_on_the_same_service_ci_or_related_ci(api, personas, tenant_a):
    from sms.core.workflow import run_transition
    from tests.factories import RelationshipFactory

    now = timezone.now()
    window = {"planned_start": now + dt.timedelta(days=1), "planned_end": now + dt.timedelta(days=1, hours=2)}
    later = {"planned_start": now + dt.timedelta(days=3), "planned_end": now + dt.timedelta(days=3, hours=2)}
    with context.tenant_context(tenant_a, personas["admin"]):
        db, app, lonely = ConfigurationItemFactory(), ConfigurationItemFactory(), ConfigurationItemFactory()
        RelationshipFactory(source=app, kind="depends_on", target=db)
        shop, mail = ServiceFactory(title="Shop"), ServiceFactory(title="Mail")
        mine = make_change(personas, cis=[db], services=[shop], **window)
        same_ci = make_change(personas, cis=[db], services=[], **window)
        related = make_change(personas, cis=[app], services=[], **window)
        same_service = make_change(personas, services=[shop], **window)
        elsewhere = make_change(personas, cis=[lonely], services=[mail], **window)
        not_overlapping = make_change(personas, cis=[db], services=[], **later)
        for c in (same_ci, related, same_service, elsewhere, not_overlapping):
            run_transition(c, "submit", by=personas["agent"])
        draft = make_change(personas, cis=[db], services=[], **window)  # a draft holds no place
    body = api("auditor").get(url(mine, "conflicts/")).json()
    found = {c["reference"]: c["shares"] for c in body["changes"]}
    assert set(found) == {same_ci.reference, related.reference, same_service.reference}
    assert found[same_ci.reference] == [f"the same CI {db.reference}"]
    assert found[related.reference] == [f"{app.reference}, related to a CI of this change"]
    assert found[same_service.reference] == ["the service Shop"]
    assert draft.reference not in found and elsewhere.reference not in found
    assert not_overlapping.reference not in found
