"""Priority from the impact x urgency matrix, targets per priority, override with reason."""

import pytest

from processes.resolution import services
from processes.resolution.choices import DEFAULT_MATRIX
from processes.resolution.models import PriorityLevel, PriorityMatrixCell

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"


def test_default_matrix_is_seeded_once_per_tenant(personas, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        services.ensure_defaults()
        services.ensure_defaults()
        assert PriorityMatrixCell.objects.count() == 9
        assert PriorityLevel.objects.count() == 5
        assert services.matrix() == DEFAULT_MATRIX
    with in_tenant(tenant_b):
        assert PriorityMatrixCell.objects.count() == 0  # another tenant's are its own


@pytest.mark.parametrize(("impact", "urgency", "priority"), [(1, 1, 1), (1, 3, 3), (2, 2, 3), (3, 1, 3), (3, 3, 5)])
def test_priority_is_computed_on_create(api, impact, urgency, priority):
    resp = api("agent").post(INCIDENTS, {"title": "Printer down", "impact": impact, "urgency": urgency}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["priority"] == priority and body["priority_overridden"] is False


def test_changing_impact_recomputes_the_priority(api):
    client = api("agent")
    inc = client.post(INCIDENTS, {"title": "Slow VPN", "impact": 3, "urgency": 3}, format="json").json()
    assert inc["priority"] == 5
    resp = client.patch(f"{INCIDENTS}{inc['id']}/", {"impact": 1, "urgency": 1}, format="json")
    assert resp.json()["priority"] == 1
    assert resp.json()["response_due_at"] < inc["response_due_at"]


def test_override_needs_a_reason_and_stays_in_history(api):
    client = api("agent")
    resp = client.post(INCIDENTS, {"title": "CEO laptop", "impact": 3, "urgency": 3, "priority": 2}, format="json")
    assert resp.status_code == 400
    assert "priority_override_reason" in resp.json()
    resp = client.post(
        INCIDENTS,
        {"title": "CEO laptop", "impact": 3, "urgency": 3, "priority": 2, "priority_override_reason": "Board meeting"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    inc = resp.json()
    assert inc["priority"] == 2 and inc["priority_overridden"] and inc["priority_override_reason"] == "Board meeting"
    history = client.get(f"{INCIDENTS}{inc['id']}/history/").json()
    assert history[-1]["history_change_reason"] == "Priority overridden to P2: Board meeting"
    # An unrelated change keeps the override; a change of impact hands it back to the matrix.
    assert client.patch(f"{INCIDENTS}{inc['id']}/", {"title": "CEO's laptop"}, format="json").json()["priority"] == 2
    back = client.patch(f"{INCIDENTS}{inc['id']}/", {"impact": 1}, format="json").json()
    assert back["priority"] == 3 and back["priority_overridden"] is False
    # Naming the computed priority is no override and needs no reason.
    same = client.patch(f"{INCIDENTS}{inc['id']}/", {"priority": 3}, format="json")
    assert same.status_code == 200 and same.json()["priority_overridden"] is False
    assert client.patch(f"{INCIDENTS}{inc['id']}/", {"priority": 9}, format="json").status_code == 400


def test_admin_edits_the_matrix_and_targets(api, personas, tenant_a, in_tenant):
    admin, agent = api("admin"), api("agent")
    cells = admin.get("/api/v1/priority-matrix/").json()["results"]
    assert len(cells) == 9
    low_low = next(c for c in cells if c["impact"] == 3 and c["urgency"] == 3)
    assert agent.patch(f"/api/v1/priority-matrix/{low_low['id']}/", {"priority": 4}, format="json").status_code == 403
    assert admin.patch(f"/api/v1/priority-matrix/{low_low['id']}/", {"priority": 9}, format="json").status_code == 400
    resp = admin.patch(f"/api/v1/priority-matrix/{low_low['id']}/", {"priority": 4, "impact": 1}, format="json")
    assert resp.status_code == 200 and resp.json()["priority"] == 4 and resp.json()["impact"] == 3
    assert agent.post(INCIDENTS, {"title": "x", "impact": 3, "urgency": 3}, format="json").json()["priority"] == 4

    inc = agent.post(INCIDENTS, {"title": "Open P3", "impact": 2, "urgency": 2}, format="json").json()
    levels = admin.get("/api/v1/priority-levels/").json()["results"]
    p3 = next(lv for lv in levels if lv["level"] == 3)
    bad = admin.patch(f"/api/v1/priority-levels/{p3['id']}/", {"response_minutes": 99999}, format="json")
    assert bad.status_code == 400 and "response_minutes" in bad.json()
    assert (
        admin.patch(f"/api/v1/priority-levels/{p3['id']}/", {"response_minutes": 0}, format="json").status_code == 400
    )
    ok = admin.patch(f"/api/v1/priority-levels/{p3['id']}/", {"resolution_minutes": 600}, format="json")
    assert ok.status_code == 200
    # Open incidents of that priority are rescheduled, with the reason in their history.
    after = agent.get(f"{INCIDENTS}{inc['id']}/").json()
    assert after["resolution_due_at"] < inc["resolution_due_at"]
    assert agent.get(f"{INCIDENTS}{inc['id']}/history/").json()[0]["history_change_reason"] == "Targets of P3 changed"
    assert admin.post("/api/v1/priority-levels/", {"level": 6}, format="json").status_code == 405
    assert admin.delete(f"/api/v1/priority-levels/{p3['id']}/").status_code == 405


def test_settings_are_one_row_edited_by_admins(api):
    admin = api("admin")
    rows = admin.get("/api/v1/resolution-settings/").json()["results"]
    assert len(rows) == 1 and rows[0]["reopen_days"] == 10
    url = f"/api/v1/resolution-settings/{rows[0]['id']}/"
    assert api("process_owner").patch(url, {"reopen_days": 3}, format="json").status_code == 403
    assert admin.patch(url, {"reopen_days": 999}, format="json").status_code == 400
    assert admin.patch(url, {"default_calendar": 999999}, format="json").status_code == 400
    assert admin.patch(url, {"reopen_days": 3}, format="json").json()["reopen_days"] == 3
