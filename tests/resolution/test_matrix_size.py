"""A 3 x 3 or a 5 x 5 impact x urgency matrix per tenant: priorities on 5 levels, each
tenant's scale checked on incidents and problems, the admin-only switch (service, API,
set-up page) with its history, and forms that offer only the tenant's levels."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from processes.resolution import services, services_matrix
from processes.resolution.choices import DEFAULT_MATRIX, DEFAULT_MATRIX_5
from processes.resolution.models import Incident, PriorityMatrixCell, ResolutionSettings
from tests.conftest import membership_of

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"
PROBLEMS = "/api/v1/problems/"
SETTINGS = "/api/v1/resolution-settings/"
SETUP = "/t/acme/resolution/setup/"


@pytest.fixture
def five(personas, tenant_a, in_tenant):
    """Tenant A on a 5 x 5 matrix, switched by its administrator."""
    with in_tenant(tenant_a, personas["admin"]):
        return services_matrix.switch_matrix_size(
            5, membership=membership_of(personas["admin"], tenant_a), reason="Finer scale for the data centre"
        )


def switch_url(api_client) -> str:
    row = api_client.get(SETTINGS).json()["results"][0]
    return f"{SETTINGS}{row['id']}/switch-matrix/"


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="(\d+)"', select)


# --- priority on 5 x 5 --------------------------------------------------------------------------
def test_default_5x5_matrix_gives_the_priorities(five, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        assert PriorityMatrixCell.objects.count() == 25
        assert services.matrix() == DEFAULT_MATRIX_5 and services.scale_size() == 5
        got = {pair: services.computed_priority(*pair) for pair in [(1, 1), (1, 2), (2, 3), (3, 3), (4, 5), (5, 5)]}
    assert got == {(1, 1): 1, (1, 2): 1, (2, 3): 2, (3, 3): 3, (4, 5): 4, (5, 5): 5}
    # Symmetric, every level used, and a worse impact or urgency never lowers the priority.
    assert all(DEFAULT_MATRIX_5[(i, u)] == DEFAULT_MATRIX_5[(u, i)] for i in range(1, 6) for u in range(1, 6))
    assert set(DEFAULT_MATRIX_5.values()) == {1, 2, 3, 4, 5}
    assert all(DEFAULT_MATRIX_5[(i, u)] <= DEFAULT_MATRIX_5[(i + 1, u)] for i in range(1, 5) for u in range(1, 6))


def test_incidents_and_problems_on_5_levels(five, api):
    agent = api("agent")
    resp = agent.post(INCIDENTS, {"title": "Batch job late", "impact": 4, "urgency": 5}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["priority"] == 4 and resp.json()["resolution_due_at"]
    # Without impact and urgency a new record sits in the middle of the scale.
    body = agent.post(INCIDENTS, {"title": "Something odd"}, format="json").json()
    assert (body["impact"], body["urgency"], body["priority"]) == (3, 3, 3)
    prb = agent.post(PROBLEMS, {"title": "Late batches", "impact": 5, "urgency": 5}, format="json")
    assert prb.status_code == 201 and prb.json()["priority"] == 5
    cells = api("auditor").get("/api/v1/priority-matrix/", {"page_size": 50}).json()
    assert cells["count"] == 25
    cell = next(c for c in cells["results"] if (c["impact"], c["urgency"]) == (5, 4))
    assert cell["impact_label"].startswith("5 - Minimal") and cell["urgency_label"].startswith("4 - Low")


# --- validation on 3 x 3 ------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "title"), [(INCIDENTS, "Printer jam"), (PROBLEMS, "Jams")])
def test_levels_off_a_3x3_scale_are_400_with_the_field(api, tenant_a, in_tenant, url, title):
    agent = api("agent")
    resp = agent.post(url, {"title": title, "impact": 1, "urgency": 4}, format="json")
    assert resp.status_code == 400, resp.content
    assert resp.json() == {"urgency": ["Urgency 4 is not on this organisation's 3-level scale: choose 1 to 3."]}
    resp = agent.post(url, {"title": title, "impact": 5, "urgency": 5}, format="json")
    assert resp.status_code == 400 and set(resp.json()) == {"impact", "urgency"}
    assert agent.post(url, {"title": title, "impact": 6, "urgency": 1}, format="json").status_code == 400
    ok = agent.post(url, {"title": title, "impact": 3, "urgency": 3}, format="json")
    assert ok.status_code == 201 and ok.json()["priority"] == 5
    # A change to an existing record is checked the same way and leaves it unchanged.
    bad = agent.patch(f"{url}{ok.json()['id']}/", {"urgency": 4}, format="json")
    assert bad.status_code == 400 and "urgency" in bad.json()
    assert agent.get(f"{url}{ok.json()['id']}/").json()["urgency"] == 3


# --- switching ----------------------------------------------------------------------------------
def test_switch_is_for_administrators_and_recorded(personas, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a, personas["process_owner"]):
        with pytest.raises(PermissionDenied):
            services_matrix.switch_matrix_size(5, membership=membership_of(personas["process_owner"], tenant_a))
        assert services.scale_size() == 3
    admin = membership_of(personas["admin"], tenant_a)
    with in_tenant(tenant_a, personas["admin"]):
        for bad in (4, "x", None, 3):  # 3: it is 3 x 3 already
            with pytest.raises(ValidationError) as exc:
                services_matrix.switch_matrix_size(bad, membership=admin)
            assert "matrix_size" in exc.value.message_dict
        row = services_matrix.switch_matrix_size(5, membership=admin, reason="Finer scale")
        assert row.matrix_size == 5 and ResolutionSettings.objects.get().matrix_size == 5
        last = row.history.order_by("-history_date").first()
        assert last.matrix_size == 5 and last.history_user_id == personas["admin"].pk
        assert last.history_change_reason == "Priority matrix switched from 3 x 3 to 5 x 5: Finer scale"
        deleted = PriorityMatrixCell.history.filter(history_type="-")
        assert deleted.count() == 9 and {h.history_change_reason for h in deleted} == {last.history_change_reason}
        # Edits to cells are lost on a switch: the default of the size comes back.
        PriorityMatrixCell.objects.filter(impact=5, urgency=5).update(priority=1)
        services_matrix.switch_matrix_size(3, membership=admin)
        assert services.matrix() == DEFAULT_MATRIX and ResolutionSettings.objects.get().matrix_size == 3
        services_matrix.switch_matrix_size(5, membership=admin)
        assert services.matrix() == DEFAULT_MATRIX_5
    with in_tenant(tenant_b):  # another tenant's matrix is its own
        assert services.scale_size() == 3


def test_existing_incidents_keep_their_levels_after_a_switch(five, api, personas, tenant_a, in_tenant):
    agent = api("agent")
    inc = agent.post(INCIDENTS, {"title": "Slow reports", "impact": 5, "urgency": 4}, format="json").json()
    with in_tenant(tenant_a, personas["admin"]):
        services_matrix.switch_matrix_size(3, membership=membership_of(personas["admin"], tenant_a))
        kept = Incident.objects.get(pk=inc["id"])
        assert (kept.impact, kept.urgency, kept.priority) == (5, 4, 4)
        assert kept.get_impact_display() == "5 (not on the current 3-level scale)"
    # Other changes go through; a new impact asks for an urgency on the new scale.
    assert agent.patch(f"{INCIDENTS}{inc['id']}/", {"title": "Slow monthly reports"}, format="json").status_code == 200
    resp = agent.patch(f"{INCIDENTS}{inc['id']}/", {"impact": 2}, format="json")
    assert resp.status_code == 400 and list(resp.json()) == ["urgency"]
    resp = agent.patch(f"{INCIDENTS}{inc['id']}/", {"impact": 2, "urgency": 2}, format="json")
    assert resp.status_code == 200 and resp.json()["priority"] == 3


# --- API ----------------------------------------------------------------------------------------
def test_switch_through_the_api(api, tenant_a, in_tenant):
    admin = api("admin")
    url = switch_url(admin)
    for who in ("agent", "process_owner", "auditor"):
        assert api(who).post(url, {"matrix_size": 5}, format="json").status_code == 403
    assert api("outsider_admin").post(url, {"matrix_size": 5}, format="json").status_code in (403, 404)
    bad = admin.post(url, {"matrix_size": 4}, format="json")
    assert bad.status_code == 400 and "matrix_size" in bad.json()
    same = admin.post(url, {"matrix_size": 3}, format="json")
    assert same.status_code == 400 and same.json()["matrix_size"] == ["The matrix is already 3 x 3."]
    resp = admin.post(url, {"matrix_size": 5, "reason": "Data centre scale"}, format="json")
    assert resp.status_code == 200 and resp.json()["matrix_size"] == 5
    assert admin.get("/api/v1/priority-matrix/").json()["count"] == 25
    # The size is not a plain field: PATCH leaves it alone.
    row_url = url.replace("switch-matrix/", "")
    assert admin.patch(row_url, {"matrix_size": 3}, format="json").json()["matrix_size"] == 5
    assert api("outsider").get(SETTINGS).json()["results"][0]["matrix_size"] == 3


# --- browser pages ------------------------------------------------------------------------------
def test_setup_page_shows_the_grid_of_the_tenant_size(web, tenant_a, in_tenant):
    page = web("admin").get(SETUP).content.decode()
    assert 'name="cell-3-3"' in page and 'name="cell-4-1"' not in page and 'value="matrix_size"' in page
    # Without the confirmation nothing changes.
    resp = web("admin").post(SETUP, {"form": "matrix_size", "matrix_size": 5})
    assert resp.status_code == 200 and "This field is required" in resp.content.decode()
    with in_tenant(tenant_a):
        assert services.scale_size() == 3
    for who in ("agent", "auditor", "process_owner"):
        resp = web(who).post(SETUP, {"form": "matrix_size", "matrix_size": 5, "confirm": "on"})
        assert resp.status_code == 403
    resp = web("admin").post(SETUP, {"form": "matrix_size", "matrix_size": 5, "confirm": "on", "reason": "Finer"})
    assert resp.status_code == 302
    page = web("admin").get(SETUP).content.decode()
    assert 'name="cell-5-5"' in page and "Impact and urgency: 5 levels" in page and "5 Very low" in page
    # The edit form of the matrix works on all 25 cells.
    assert web("admin").post(SETUP, {"form": "matrix", "cell-5-4": "5"}).status_code == 302
    with in_tenant(tenant_a):
        assert services.computed_priority(5, 4) == 5
    read_only = web("auditor").get(SETUP).content.decode()
    assert "Switch matrix" not in read_only and 'name="cell-5-5"' not in read_only and "5 - Minimal" in read_only


def test_forms_offer_only_the_levels_of_the_scale(web, personas, tenant_a, in_tenant, make_incident):
    agent = web("agent")
    html = agent.get("/t/acme/incidents/new/").content.decode()
    assert options(html, "impact") == ["1", "2", "3"] and options(html, "urgency") == ["1", "2", "3"]
    assert options(agent.get("/t/acme/problems/new/").content.decode(), "urgency") == ["1", "2", "3"]
    assert options(agent.get("/t/acme/desk/").content.decode(), "impact") == ["1", "2", "3"]
    listing = agent.get("/t/acme/incidents/").content.decode()
    assert "3 - Low: one user" in listing and "4 (not on the current 3-level scale)" in listing
    resp = agent.post("/t/acme/incidents/new/", {"title": "x", "impact": 1, "urgency": 4, "channel": "phone"})
    assert resp.status_code == 200 and "Select a valid choice" in resp.content.decode()
    with in_tenant(tenant_a, personas["admin"]):
        services_matrix.switch_matrix_size(5, membership=membership_of(personas["admin"], tenant_a))
    html = agent.get("/t/acme/incidents/new/").content.decode()
    assert options(html, "impact") == ["1", "2", "3", "4", "5"] and "5 - Planned: can wait" in html
    assert "4 - Minor: a few users" in agent.get("/t/acme/incidents/").content.decode()
    assert options(agent.get("/t/acme/problems/new/").content.decode(), "impact") == ["1", "2", "3", "4", "5"]
    # An incident with a level of the former scale shows it, and asks for a current one.
    inc = make_incident(impact=5, urgency=5)
    with in_tenant(tenant_a, personas["admin"]):
        services_matrix.switch_matrix_size(3, membership=membership_of(personas["admin"], tenant_a))
    edit = f"/t/acme/incidents/{inc.pk}/edit/"
    html = agent.get(edit).content.decode()
    assert options(html, "impact") == ["1", "2", "3", "5"] and "not on the current 3-level scale" in html
    fields = {"title": inc.title, "channel": "phone", "owner": personas["agent"].pk}
    resp = agent.post(edit, {**fields, "impact": 5, "urgency": 5})
    assert resp.status_code == 200 and "is not on this organisation&#x27;s 3-level scale" in resp.content.decode()
    resp = agent.post(edit, {**fields, "impact": 2, "urgency": 2})
    assert resp.status_code == 302
    with in_tenant(tenant_a):
        assert Incident.objects.get(pk=inc.pk).priority == 3
