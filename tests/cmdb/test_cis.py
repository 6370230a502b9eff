"""Configuration items over the API: attributes against the type, master copies,
change control with history, lifecycle, update access per role."""

from __future__ import annotations

import pytest

from sms.cmdb.models import ConfigurationItem
from sms.core.workflow import TransitionBlocked, run_transition
from sms.tenancy import context
from tests.factories import CITypeFactory, ServiceFactory

URL = "/api/v1/cis/"
SHA = "a" * 64


def payload(ci_type, **extra):
    return {
        "title": "web-01",
        "ci_type": ci_type.pk,
        "attributes": {"ram_gb": 32, "os": "Linux"},
        "version": "2.1",
        "location": "DC1 rack 7",
        **extra,
    }


def test_create_and_read_a_ci(api, server_type, personas):
    resp = api("process_owner").post(URL, payload(server_type, owner=personas["agent"].pk), format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["reference"].startswith("CI-")
    assert body["state"] == "planned" and body["colour"] == "blue"
    assert body["ci_type_detail"]["code"] == "server"
    assert body["attributes"] == {"ram_gb": 32, "os": "Linux"}
    assert api("agent").get(f"{URL}{body['id']}/").json()["title"] == "web-01"


def test_existing_infrastructure_is_registered_as_live(api, server_type):
    resp = api("process_owner").post(URL, payload(server_type, state="live"), format="json")
    assert resp.status_code == 201 and resp.json()["state"] == "live"
    resp = api("process_owner").post(URL, payload(server_type, state="disposed"), format="json")
    assert resp.status_code == 400 and "state" in resp.json()


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({}, {"ram_gb": ["This attribute is required."]}),
        ({"ram_gb": "lots"}, {"ram_gb": ["Expected a whole number."]}),
        ({"ram_gb": 8, "os": "BeOS"}, {"os": ["Expected one of: Linux, Windows."]}),
        ({"ram_gb": 8, "colour": "red"}, {"colour": ["Not an attribute of the type Server."]}),
        ("ram", ["Attributes must be an object of name: value pairs."]),
    ],
)
def test_attributes_are_validated_against_the_type(api, server_type, attributes, expected):
    resp = api("process_owner").post(URL, payload(server_type, attributes=attributes), format="json")
    assert resp.status_code == 400, resp.content
    assert resp.json()["attributes"] == expected


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"title": " "}, "title"),
        ({"ci_type": 999999}, "ci_type"),
        ({"ci_type": "abc"}, "ci_type"),
        ({"purchase_cost": "-5", "currency": "EUR"}, "purchase_cost"),
        ({"purchase_cost": "12.50"}, "currency"),
        ({"purchase_cost": "12.50", "currency": "euro"}, "currency"),
        ({"purchase_date": "yesterday"}, "purchase_date"),
        ({"last_change_reference": "not a ref"}, "last_change_reference"),
        ({"owner": 999999}, "owner"),
        ({"supplier": 999999}, "supplier"),
        ({"attributes": None}, "attributes"),
    ],
)
def test_bad_input_is_400(api, server_type, bad, field):
    resp = api("process_owner").post(URL, {**payload(server_type), **bad}, format="json")
    assert resp.status_code == 400, (bad, resp.content)
    assert field in resp.json(), resp.json()


@pytest.mark.parametrize("data", [{}, {"title": "x"}, [], "text"])
def test_incomplete_or_malformed_body_is_400(api, data):
    assert api("process_owner").post(URL, data, format="json").status_code == 400


def test_supplier_must_be_a_supplier(api, server_type, as_admin):
    from tests.factories import PartyFactory

    with as_admin():
        customer = PartyFactory(party_type="customer")
        supplier = PartyFactory(party_type="supplier", name="Hardware Inc")
    client = api("process_owner")
    assert client.post(URL, payload(server_type, supplier=customer.pk), format="json").status_code == 400
    resp = client.post(URL, payload(server_type, supplier=supplier.pk), format="json")
    assert resp.status_code == 201 and resp.json()["supplier_name"] == "Hardware Inc"


def test_master_copy_rules_follow_the_type(api, as_admin):
    with as_admin():
        software = CITypeFactory(name="Application", code="app", master_copy="required", attribute_schema=[])
        plain = CITypeFactory(name="Rack", code="rack", master_copy="none", attribute_schema=[])
        optional = CITypeFactory(name="Switch", code="switch", master_copy="optional", attribute_schema=[])
    client = api("process_owner")

    resp = client.post(URL, {"title": "CRM", "ci_type": software.pk}, format="json")
    assert resp.status_code == 400
    assert {"master_copy_location", "master_copy_sha256"} <= set(resp.json())
    resp = client.post(
        URL,
        {"title": "CRM", "ci_type": software.pk, "master_copy_location": "dml://crm/4.2", "master_copy_sha256": "xyz"},
        format="json",
    )
    assert resp.status_code == 400 and "64 hexadecimal" in resp.json()["master_copy_sha256"][0]
    resp = client.post(
        URL,
        {
            "title": "CRM",
            "ci_type": software.pk,
            "master_copy_location": "dml://crm/4.2",
            "master_copy_sha256": SHA.upper(),
        },
        format="json",
    )
    assert resp.status_code == 201 and resp.json()["master_copy_sha256"] == SHA

    resp = client.post(URL, {"title": "R1", "ci_type": plain.pk, "master_copy_location": "x"}, format="json")
    assert resp.status_code == 400 and "do not keep a master copy" in resp.json()["master_copy_location"][0]

    assert client.post(URL, {"title": "S1", "ci_type": optional.pk}, format="json").status_code == 201
    resp = client.post(URL, {"title": "S2", "ci_type": optional.pk, "master_copy_location": "x"}, format="json")
    assert resp.status_code == 400 and "master_copy_sha256" in resp.json()


def test_patch_merges_attributes_and_null_removes_one(api, make_ci):
    ci = make_ci(attributes={"ram_gb": 8, "os": "Linux"})
    client = api("process_owner")
    resp = client.patch(f"{URL}{ci.pk}/", {"attributes": {"ram_gb": 16}}, format="json")
    assert resp.status_code == 200 and resp.json()["attributes"] == {"ram_gb": 16, "os": "Linux"}
    resp = client.patch(f"{URL}{ci.pk}/", {"attributes": {"os": None}}, format="json")
    assert resp.json()["attributes"] == {"ram_gb": 16}
    resp = client.patch(f"{URL}{ci.pk}/", {"attributes": {"ram_gb": None}}, format="json")
    assert resp.status_code == 400 and resp.json()["attributes"] == {"ram_gb": ["This attribute is required."]}


def test_type_and_status_are_not_edited_directly(api, make_ci, as_admin):
    ci = make_ci()
    with as_admin():
        other = CITypeFactory()
    client = api("process_owner")
    assert "ci_type" in client.patch(f"{URL}{ci.pk}/", {"ci_type": other.pk}, format="json").json()
    assert "state" in client.patch(f"{URL}{ci.pk}/", {"state": "planned"}, format="json").json()


def test_asset_tag_is_unique_per_tenant(api, make_ci, personas, tenant_b, server_type):
    make_ci(asset_tag="AT-1")
    resp = api("process_owner").post(URL, payload(server_type, asset_tag="AT-1"), format="json")
    assert resp.status_code in (400, 409)
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        from tests.factories import ConfigurationItemFactory

        assert ConfigurationItemFactory(asset_tag="AT-1").asset_tag == "AT-1"  # another tenant may reuse it


# --- change control and history -------------------------------------------------------------------
def test_controlled_ci_needs_reason_and_rfc_reference(api, make_ci, controlled_type, personas):
    from tests.factories_control import approved_change, make_change

    ci = make_ci(ci_type=controlled_type)
    with context.tenant_context(ci.tenant, personas["agent"]):
        rfc = approved_change(personas, cis=[ci])
        draft = make_change(personas, cis=[ci])
        elsewhere = approved_change(personas, cis=[make_ci(ci_type=controlled_type)])
    client = api("process_owner")
    resp = client.patch(f"{URL}{ci.pk}/", {"version": "7.4.2"}, format="json")
    assert resp.status_code == 400
    assert set(resp.json()) == {"change_reason", "last_change_reference"}
    resp = client.patch(f"{URL}{ci.pk}/", {"version": "7.4.2", "change_reason": "Firmware upgrade"}, format="json")
    assert resp.status_code == 400 and set(resp.json()) == {"last_change_reference"}
    with context.tenant_context(ci.tenant):
        assert ConfigurationItem.objects.get(pk=ci.pk).version == "1.0"  # refused: nothing written

    # Only under a request for change that is approved (or being implemented) and covers the CI.
    for reference, says in (
        ("CHG-42", "no request for change"),
        (draft.reference, "draft"),
        (elsewhere.reference, "not in the scope"),
    ):
        resp = client.patch(
            f"{URL}{ci.pk}/",
            {"version": "7.4.2", "change_reason": "Firmware upgrade", "last_change_reference": reference},
            format="json",
        )
        assert resp.status_code == 400 and says in resp.json()["last_change_reference"][0], resp.content
    resp = client.patch(
        f"{URL}{ci.pk}/",
        {"version": "7.4.2", "change_reason": "Firmware upgrade", "last_change_reference": rfc.reference},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["last_change_reference"] == rfc.reference
    history = client.get(f"{URL}{ci.pk}/history/").json()
    assert history[0]["history_change_reason"] == f"Firmware upgrade (under {rfc.reference})"
    assert history[0]["history_user"] == "acme-process_owner"
    assert {"field": "version", "old": "1.0", "new": "7.4.2"} in history[0]["changes"]


def test_uncontrolled_ci_updates_without_rfc_but_keeps_history(api, make_ci):
    ci = make_ci()
    client = api("process_owner")
    resp = client.patch(f"{URL}{ci.pk}/", {"location": "DC2", "change_reason": "Moved"}, format="json")
    assert resp.status_code == 200
    history = client.get(f"{URL}{ci.pk}/history/").json()
    assert history[0]["history_change_reason"] == "Moved"
    assert {"field": "location", "old": "DC1 rack 4", "new": "DC2"} in history[0]["changes"]


# --- update access (9.1) -------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["agent", "auditor", "change_approver", "top_management"])
def test_only_cmdb_roles_write(api, role, make_ci, server_type):
    ci = make_ci()
    client = api(role)
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{ci.pk}/impact/").status_code == 200
    assert client.post(URL, payload(server_type), format="json").status_code == 403
    assert client.patch(f"{URL}{ci.pk}/", {"version": "2"}, format="json").status_code == 403
    resp = client.post(f"{URL}{ci.pk}/transitions/start_maintenance/", {}, format="json")
    assert resp.status_code == 403


@pytest.mark.parametrize("role", ["process_owner", "admin"])
def test_cmdb_roles_write(api, role, make_ci, server_type):
    ci = make_ci()
    client = api(role)
    assert client.post(URL, payload(server_type), format="json").status_code == 201
    assert client.patch(f"{URL}{ci.pk}/", {"version": "2"}, format="json").status_code == 200


def test_agent_links_an_incident_record_to_a_ci(api, make_ci, as_admin):
    """Agents do not edit CIs but link them to their records (9.1 g, h)."""
    from tests.factories import ImprovementFactory

    ci = make_ci()
    with as_admin():
        imp = ImprovementFactory()
    resp = api("agent").post(
        f"{URL}{ci.pk}/links/",
        {"link_type": "relates_to", "target_kind": "improvement", "target_id": imp.pk},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    assert api("auditor").get(f"/api/v1/improvements/{imp.pk}/links/").json()["count"] == 1


# --- lifecycle ---------------------------------------------------------------------------------
def test_lifecycle_through_transitions(api, make_ci):
    ci = make_ci(state="planned")
    client = api("process_owner")
    names = [t["name"] for t in client.get(f"{URL}{ci.pk}/transitions/").json()]
    assert sorted(names) == ["go_live", "retire", "start_build"]
    for name in ("start_build", "go_live", "start_maintenance", "end_maintenance"):
        resp = client.post(f"{URL}{ci.pk}/transitions/{name}/", {}, format="json")
        assert resp.status_code == 200, (name, resp.content)
    assert client.post(f"{URL}{ci.pk}/transitions/retire/", {}, format="json").status_code == 400  # reason
    assert client.post(f"{URL}{ci.pk}/transitions/dispose/", {"reason": "x"}, format="json").status_code == 409
    resp = client.post(f"{URL}{ci.pk}/transitions/retire/", {"reason": "Replaced"}, format="json")
    assert resp.json()["state"] == "retired"
    resp = client.post(f"{URL}{ci.pk}/transitions/dispose/", {"reason": "Shredded, certificate 77"}, format="json")
    assert resp.json()["state"] == "disposed"
    history = client.get(f"{URL}{ci.pk}/history/").json()
    assert history[0]["history_change_reason"] == "Dispose of: Shredded, certificate 77"


def test_component_of_a_live_service_cannot_be_retired(make_ci, personas, tenant_a, as_admin):
    from sms.cmdb.services import set_service_links

    ci = make_ci()
    with as_admin():
        service = ServiceFactory(state="live")
        set_service_links(service, components=[ci])
    with context.tenant_context(tenant_a, personas["process_owner"]):
        with pytest.raises(TransitionBlocked):
            run_transition(ci, "retire", by=personas["process_owner"], reason="Old")
        ci.refresh_from_db()
        assert ci.state == "live"


# --- lists and filters -------------------------------------------------------------------------
def test_filters(api, make_ci, as_admin, personas):
    from sms.cmdb.services import set_service_links

    with as_admin():
        other_type = CITypeFactory(code="vm", name="VM")
    a = make_ci(location="DC1 rack 1", owner=personas["process_owner"], asset_tag="AT-77")
    b = make_ci(ci_type=other_type, location="DC2", state="planned")
    with as_admin():
        service = ServiceFactory()
        set_service_links(service, components=[a])
    client = api("auditor")

    def ids(**params):
        resp = client.get(URL, params)
        assert resp.status_code == 200, resp.content
        return {row["id"] for row in resp.json()["results"]}

    assert ids(ci_type=other_type.pk) == {b.pk}
    assert ids(type_code="vm") == {b.pk}
    assert ids(state="planned") == {b.pk}
    assert ids(location="dc1") == {a.pk}
    assert ids(owner=personas["process_owner"].pk) == {a.pk}
    assert ids(service=service.pk) == {a.pk}
    assert ids(q="at-77") == {a.pk}
    assert ids(q=b.reference) == {b.pk}
    assert client.get(URL, {"state": "nonsense"}).status_code == 400
    assert client.get(URL, {"service": 999999}).status_code == 400
