"""The transition service and the generic transitions API."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from governance.models import Improvement
from sms.core.workflow import TransitionForbidden, run_transition
from sms.tenancy import context
from tests.conftest import token_client
from tests.factories import ImprovementFactory


@pytest.fixture
def proposal(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        return ImprovementFactory(owner=personas["process_owner"], created_by=personas["agent"])


def _history_count(obj, tenant) -> int:
    with context.tenant_context(tenant):
        return obj.history.count()


def url(obj, tail=""):
    return f"/api/v1/improvements/{obj.pk}/transitions/{tail}"


def test_transitions_list_says_what_the_caller_may_do(api, proposal):
    rows = {t["name"]: t for t in api("process_owner").get(url(proposal)).json()}
    assert set(rows) == {"approve", "reject", "cancel"}
    assert rows["approve"]["allowed"] is True
    agent_rows = {t["name"]: t for t in api("agent").get(url(proposal)).json()}
    assert agent_rows["approve"]["allowed"] is False
    assert agent_rows["cancel"]["allowed"] is False  # agents raise improvements; owners manage them


def test_forbidden_transition_is_403_and_writes_no_history(api, proposal, tenant_a):
    before = _history_count(proposal, tenant_a)
    resp = api("agent").post(url(proposal, "approve/"), {"reason": "looks good"}, format="json")
    assert resp.status_code == 403
    assert "improvement.approve" in resp.json()["detail"]
    assert _history_count(proposal, tenant_a) == before
    with context.tenant_context(tenant_a):
        assert Improvement.objects.get(pk=proposal.pk).state == "proposed"


def test_auditor_cannot_transition(api, proposal):
    assert api("auditor").post(url(proposal, "cancel/"), {"reason": "x"}, format="json").status_code == 403


def test_creator_cannot_approve_own_improvement(personas, tenant_a):
    owner = personas["process_owner"]
    with context.tenant_context(tenant_a, owner):
        own = ImprovementFactory(owner=owner)
    client = token_client(owner, tenant_a)
    resp = client.post(url(own, "approve/"), {"reason": "mine"}, format="json")
    assert resp.status_code == 403
    assert "Segregation of duties" in resp.json()["detail"]


def test_unmet_condition_is_400_with_field_message_and_no_change(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        bare = ImprovementFactory(priority="", target="")
    resp = api("process_owner").post(url(bare, "approve/"), {"reason": "ok"}, format="json")
    assert resp.status_code == 400
    body = resp.json()
    assert "priority" in body and "target" in body
    with context.tenant_context(tenant_a):
        assert Improvement.objects.get(pk=bare.pk).state == "proposed"


def test_reason_required(api, proposal):
    resp = api("process_owner").post(url(proposal, "approve/"), {}, format="json")
    assert resp.status_code == 400
    assert resp.json()["reason"] == ["A reason is required."]


def test_transition_from_wrong_state_is_409(api, proposal):
    resp = api("process_owner").post(url(proposal, "close/"), {}, format="json")
    assert resp.status_code == 409


def test_unknown_transition_is_409_not_500(api, proposal):
    assert api("process_owner").post(url(proposal, "explode/"), {}, format="json").status_code == 409


def test_successful_transition_records_who_and_why(api, proposal, personas, tenant_a):
    resp = api("process_owner").post(url(proposal, "approve/"), {"reason": "Worth it"}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "approved"
    with context.tenant_context(tenant_a):
        latest = proposal.history.latest()
        assert latest.history_user == personas["process_owner"]
        assert latest.history_change_reason == "Approve: Worth it"
        assert latest.state == "approved"


def test_state_cannot_be_written_directly(api, proposal, tenant_a):
    resp = api("process_owner").patch(f"/api/v1/improvements/{proposal.pk}/", {"state": "closed"}, format="json")
    assert resp.status_code == 200
    with context.tenant_context(tenant_a):
        assert Improvement.objects.get(pk=proposal.pk).state == "proposed"
    with pytest.raises(AttributeError):
        proposal.state = "closed"


def test_service_refuses_without_membership(proposal, personas, tenant_a):
    with context.tenant_context(tenant_a), pytest.raises(TransitionForbidden):
        run_transition(proposal, "cancel", by=personas["outsider"], reason="not mine")


@pytest.mark.django_db(transaction=True)
def test_parallel_transitions_one_wins_the_other_gets_409(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        rec = ImprovementFactory(owner=personas["process_owner"], created_by=personas["agent"])
    approver = token_client(personas["process_owner"], tenant_a)
    top = token_client(personas["top_management"], tenant_a)
    barrier = threading.Barrier(2)
    results = {}

    def go(name, client, transition):
        try:
            barrier.wait(timeout=30)
            results[name] = client.post(url(rec, f"{transition}/"), {"reason": name}, format="json")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=go, args=("approve", approver, "approve")),
        threading.Thread(target=go, args=("reject", top, "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: (v.status_code, v.content) for k, v in results.items()}
    winner = next(k for k, v in results.items() if v.status_code == 200)
    with context.tenant_context(tenant_a):
        rec = Improvement.objects.get(pk=rec.pk)
        assert rec.state == ("approved" if winner == "approve" else "rejected")
        assert rec.decision_rationale == winner
        # One creation row plus exactly one transition row.
        assert rec.history.count() == 2
