"""CI types: the documented definition of each type (9.1), managed by tenant admins only."""

from __future__ import annotations

import pytest

from sms.cmdb.defaults import DEFAULT_CI_TYPES
from sms.cmdb.models import CIType
from sms.cmdb.schema import attribute_errors, schema_errors
from sms.cmdb.services import ensure_default_ci_types
from sms.tenancy import context

URL = "/api/v1/ci-types/"

GOOD = {
    "name": "Router",
    "code": "router",
    "description": "A layer-3 network device.",
    "attribute_schema": [
        {"name": "ports", "label": "Ports", "type": "integer", "required": True},
        {"name": "vendor", "type": "choice", "choices": ["Cisco", "Juniper"]},
    ],
    "allowed_relationships": ["connected_to", "part_of", "connected_to"],
    "under_change_control": True,
    "master_copy": "optional",
}


def test_admin_creates_a_type_and_the_schema_is_normalised(api):
    resp = api("admin").post(URL, GOOD, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["allowed_relationships"] == ["connected_to", "part_of"]
    assert body["attribute_schema"][1] == {
        "name": "vendor",
        "label": "Vendor",
        "type": "choice",
        "required": False,
        "choices": ["Cisco", "Juniper"],
    }
    assert body["ci_count"] == 0


@pytest.mark.parametrize("role", ["process_owner", "agent", "auditor", "change_approver", "top_management"])
def test_only_admins_manage_types(api, role, server_type):
    client = api(role)
    assert client.get(URL).status_code == 200
    assert client.post(URL, GOOD, format="json").status_code == 403
    assert client.patch(f"{URL}{server_type.pk}/", {"description": "x"}, format="json").status_code == 403
    assert client.delete(f"{URL}{server_type.pk}/").status_code == 403


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ("not a list", "must be a list"),
        ([{"name": "Bad Name", "type": "text"}], "name must start"),
        ([{"name": "a", "type": "colour"}], "type must be one of"),
        ([{"name": "a", "type": "text"}, {"name": "a", "type": "text"}], "used twice"),
        ([{"name": "a", "type": "choice"}], "non-empty list of text choices"),
        ([{"name": "a", "type": "choice", "choices": ["x", "x"]}], "must not repeat"),
        ([{"name": "a", "type": "text", "choices": ["x"]}], "only attributes of type choice"),
        ([{"name": "a", "type": "text", "required": "yes"}], "required must be true or false"),
        ([{"name": "a", "type": "text", "colour": "red"}], "unknown keys colour"),
        (["ram"], "must be an object"),
    ],
)
def test_invalid_schema_is_a_400_with_a_clear_message(api, schema, fragment):
    resp = api("admin").post(URL, {**GOOD, "attribute_schema": schema}, format="json")
    assert resp.status_code == 400, resp.content
    messages = resp.json()["attribute_schema"]
    assert any(fragment in m for m in messages), messages


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**GOOD, "description": "  "}, "description"),
        ({**GOOD, "allowed_relationships": ["teleports_to"]}, "allowed_relationships"),
        ({**GOOD, "master_copy": "always"}, "master_copy"),
        ({**GOOD, "code": "Not A Slug"}, "code"),
    ],
)
def test_other_bad_input_is_400(api, payload, field):
    resp = api("admin").post(URL, payload, format="json")
    assert resp.status_code == 400
    assert field in resp.json()


def test_duplicate_code_or_name_is_400(api, server_type):
    resp = api("admin").post(URL, {**GOOD, "code": "server", "name": "SERVER"}, format="json")
    assert resp.status_code == 400
    assert set(resp.json()) == {"code", "name"}


def test_type_in_use_cannot_be_deleted_but_can_be_deactivated(api, make_ci, server_type):
    make_ci()
    client = api("admin")
    assert client.delete(f"{URL}{server_type.pk}/").status_code == 409
    resp = client.patch(f"{URL}{server_type.pk}/", {"is_active": False}, format="json")
    assert resp.status_code == 200
    assert resp.json()["ci_count"] == 1
    # An inactive type is not offered for new CIs.
    resp = client.post(
        "/api/v1/cis/", {"title": "new", "ci_type": server_type.pk, "attributes": {"ram_gb": 1}}, format="json"
    )
    assert resp.status_code == 400 and "ci_type" in resp.json()


def test_unused_type_can_be_deleted(api, server_type):
    assert api("admin").delete(f"{URL}{server_type.pk}/").status_code == 204


def test_type_history_records_the_change(api, server_type):
    api("admin").patch(
        f"{URL}{server_type.pk}/", {"under_change_control": True, "change_reason": "CAB decision"}, format="json"
    )
    with context.tenant_context(server_type.tenant):
        latest = CIType.objects.get(pk=server_type.pk).history.first()
    assert latest.history_change_reason == "CAB decision"
    assert latest.history_user.username == "acme-admin"


def test_default_types_are_valid_and_seeding_is_idempotent(tenant_a, tenant_b):
    for spec in DEFAULT_CI_TYPES:
        assert schema_errors(spec["attribute_schema"]) == [], spec["code"]
    first = ensure_default_ci_types(tenant_a)
    assert {t.code for t in first} >= {
        "service",
        "application",
        "server",
        "virtual_machine",
        "database",
        "network_device",
        "licence",
        "document",
        "supplier_contract",
    }
    with context.tenant_context(tenant_a):
        tailored = CIType.objects.get(code="server")
        tailored.description = "Our own definition."
        tailored.save()
    again = ensure_default_ci_types(tenant_a)
    assert [t.pk for t in again] == [t.pk for t in first]
    with context.tenant_context(tenant_a):
        assert CIType.objects.count() == len(DEFAULT_CI_TYPES)
        assert CIType.objects.get(code="server").description == "Our own definition."
    ensure_default_ci_types(tenant_b)
    with context.tenant_context(tenant_b):
        assert CIType.objects.count() == len(DEFAULT_CI_TYPES)


def test_attribute_check_unit():
    schema = [
        {"name": "n", "type": "number", "required": False},
        {"name": "i", "type": "integer", "required": True},
        {"name": "b", "type": "boolean"},
        {"name": "d", "type": "date"},
        {"name": "c", "type": "choice", "choices": ["x", "y"]},
        {"name": "t", "type": "text"},
    ]
    cleaned, errors = attribute_errors(
        schema, {"n": 1.5, "i": 4.0, "b": False, "d": "2025-02-28", "c": "y", "t": "  hi "}
    )
    assert errors == {}
    assert cleaned == {"n": 1.5, "i": 4, "b": False, "d": "2025-02-28", "c": "y", "t": "hi"}
    _, errors = attribute_errors(
        schema, {"n": True, "i": 4.5, "b": "yes", "d": "2025-02-30", "c": "z", "t": 3, "extra": 1}
    )
    assert set(errors) == {"n", "i", "b", "d", "c", "t", "extra"}
    _, errors = attribute_errors(schema, {"i": None})
    assert errors == {"i": ["This attribute is required."]}
    assert attribute_errors(schema, ["i"])[1] == {"attributes": ["Attributes must be an object of name: value pairs."]}
