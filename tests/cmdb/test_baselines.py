"""Configuration baselines (9.1): immutable snapshots of CIs, and their comparison."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from sms.cmdb.models import Baseline, ImmutableError, Relationship
from sms.cmdb.services import diff_baseline, set_service_links, take_baseline, verify_baseline
from sms.core.workflow import run_transition
from sms.tenancy import context
from tests.factories import ServiceFactory

URL = "/api/v1/baselines/"


@pytest.fixture
def estate(make_ci, as_admin):
    app, vm, host, spare = make_ci(title="app"), make_ci(title="vm"), make_ci(title="host"), make_ci(title="spare")
    with as_admin():
        Relationship.objects.create(source=app, kind="runs_on", target=vm)
        Relationship.objects.create(source=vm, kind="hosted_on", target=host)
        shop = ServiceFactory(title="Shop")
        set_service_links(shop, components=[app])
    return {"app": app, "vm": vm, "host": host, "spare": spare, "shop": shop}


def test_take_a_baseline_over_the_api(api, estate):
    client = api("process_owner")
    resp = client.post(
        URL, {"name": "Before R1", "services": [estate["shop"].pk], "include_dependencies": True}, format="json"
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["item_count"] == 3  # app, and the vm and host it depends on; not the spare
    assert body["taken_by"]["username"] == "acme-process_owner"
    assert body["scope"] == {"services": [estate["shop"].pk], "include_dependencies": True}
    detail = client.get(f"{URL}{body['id']}/").json()
    assert detail["verified"] is True
    app = detail["items"][estate["app"].reference]
    assert app["relationships"] == [f"runs_on {estate['vm'].reference}"]
    assert app["services"] == [estate["shop"].reference]
    assert app["attributes"] == {"ram_gb": 16}
    listed = client.get(URL).json()["results"][0]
    assert "items" not in listed and listed["sha256"] == body["sha256"]


def test_scopes(estate, tenant_a, personas):
    with context.tenant_context(tenant_a, personas["admin"]):
        assert take_baseline("all").item_count == 4
        assert take_baseline("one", scope={"cis": [estate["app"].pk]}).item_count == 1
        deps = take_baseline("deps", scope={"cis": [estate["app"].pk], "include_dependencies": True})
        assert set(deps.items) == {estate[k].reference for k in ("app", "vm", "host")}
        assert take_baseline("svc", scope={"services": [estate["shop"].pk]}).item_count == 1
        assert take_baseline("type", scope={"ci_types": [estate["app"].ci_type_id]}).item_count == 4


@pytest.mark.parametrize(
    "payload",
    [{}, {"name": " "}, {"name": "x", "cis": [999999]}, {"name": "x", "services": "abc"}, {"name": ["x"]}],
)
def test_bad_input_is_400(api, payload):
    assert api("process_owner").post(URL, payload, format="json").status_code == 400


def test_baselines_are_immutable(api, estate, tenant_a, personas):
    client = api("admin")
    baseline_id = client.post(URL, {"name": "B1"}, format="json").json()["id"]
    for method in ("patch", "put", "delete"):
        assert getattr(client, method)(f"{URL}{baseline_id}/", {"name": "changed"}, format="json").status_code == 405
    with context.tenant_context(tenant_a, personas["admin"]):
        baseline = Baseline.objects.get(pk=baseline_id)
        baseline.name = "changed"
        with pytest.raises(ImmutableError):
            baseline.save()
        with pytest.raises(ImmutableError):
            baseline.delete()
        # Not even an UPDATE behind the model's back gets through: a trigger refuses it.
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE cmdb_baseline SET name = 'forged' WHERE id = %s", [baseline_id])
        baseline.refresh_from_db()
        assert baseline.name == "B1" and verify_baseline(baseline)
        baseline.items = {"forged": {}}
        assert not verify_baseline(baseline)


@pytest.mark.parametrize("role", ["agent", "auditor", "change_approver", "top_management"])
def test_who_takes_baselines(api, role, estate):
    client = api(role)
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"name": "B"}, format="json").status_code == 403


def test_diff_against_current_and_another_baseline(api, estate, make_ci, as_admin, personas):
    client = api("process_owner")
    first = client.post(URL, {"name": "B1"}, format="json").json()["id"]
    assert client.get(f"{URL}{first}/diff/").json() == {
        "from": client.get(f"{URL}{first}/diff/").json()["from"],
        "to": {"current": True, "item_count": 4},
        "added": [],
        "removed": [],
        "changed": [],
        "unchanged": 4,
    }

    app, vm, spare = estate["app"], estate["vm"], estate["spare"]
    assert (
        client.patch(
            f"/api/v1/cis/{app.pk}/", {"version": "2.0", "attributes": {"ram_gb": 32, "os": "Linux"}}, format="json"
        ).status_code
        == 200
    )
    new = make_ci(title="new")
    with as_admin():
        Relationship.objects.filter(source=app).delete()
        Relationship.objects.create(source=app, kind="runs_on", target=new)
    owner = personas["process_owner"]
    with context.tenant_context(spare.tenant, owner):
        run_transition(spare, "retire", by=owner, reason="Spare no more")
        run_transition(spare, "dispose", by=owner, reason="Sold")

    diff = client.get(f"{URL}{first}/diff/", {"against": "current"}).json()
    assert [a["reference"] for a in diff["added"]] == [new.reference]
    assert [r["reference"] for r in diff["removed"]] == [spare.reference]  # disposed: out of the live CMDB
    assert diff["unchanged"] == 2
    (changed,) = diff["changed"]
    assert changed["reference"] == app.reference
    assert changed["changes"] == [
        {"field": "version", "old": "1.0", "new": "2.0"},
        {"field": "attributes.os", "old": None, "new": "Linux"},
        {"field": "attributes.ram_gb", "old": 16, "new": 32},
        {"field": "relationships", "old": f"runs_on {vm.reference}", "new": None},
        {"field": "relationships", "old": None, "new": f"runs_on {new.reference}"},
    ]

    second = client.post(URL, {"name": "B2"}, format="json").json()["id"]
    between = client.get(f"{URL}{first}/diff/", {"against": second}).json()
    assert between["to"]["name"] == "B2"
    assert {k: between[k] for k in ("added", "removed", "changed", "unchanged")} == {
        k: diff[k] for k in ("added", "removed", "changed", "unchanged")
    }
    back = client.get(f"{URL}{second}/diff/", {"against": first}).json()
    assert [a["reference"] for a in back["added"]] == [spare.reference]


def test_diff_parameters_and_isolation(api, estate, personas, tenant_b):
    client = api("auditor")
    mine = api("process_owner").post(URL, {"name": "B1"}, format="json").json()["id"]
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        theirs = take_baseline("Globex").pk
    assert client.get(f"{URL}{mine}/diff/", {"against": "yesterday"}).status_code == 400
    resp = client.get(f"{URL}{mine}/diff/", {"against": theirs})
    assert resp.status_code == 400 and "against" in resp.json()
    outsider = api("outsider_admin")
    assert outsider.get(f"{URL}{mine}/diff/").status_code == 404
    assert outsider.get(f"{URL}{theirs}/diff/", {"against": mine}).status_code == 400


def test_diff_service_unit(estate, tenant_a):
    with context.tenant_context(tenant_a):
        baseline = take_baseline("B")
        result = diff_baseline(baseline, baseline)
    assert result["unchanged"] == 4 and not (result["added"] or result["removed"] or result["changed"])
