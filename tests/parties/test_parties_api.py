"""Customers, suppliers, internal groups, interested parties and their contacts."""

from __future__ import annotations

import pytest

from sms.parties.models import Party
from sms.tenancy import context
from tests.factories import ContactFactory, PartyFactory

URL = "/api/v1/parties/"
CONTACTS = "/api/v1/contacts/"


def test_create_a_customer_with_its_relationship_manager(api, personas):
    client = api("process_owner")
    resp = client.post(
        URL,
        {"name": "Harbour Retail", "party_type": "customer", "relationship_manager": personas["process_owner"].pk},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["party_type_label"] == "Customer" and body["colour"] == "blue"
    assert body["relationship_manager_detail"]["username"] == "acme-process_owner"
    contact = client.post(
        CONTACTS,
        {
            "party": body["id"],
            "name": "Mia Hartley",
            "job_title": "Head of IT",
            "email": "mia@harbour.example",
            "is_primary": True,
        },
        format="json",
    )
    assert contact.status_code == 201, contact.content
    detail = api("agent").get(f"{URL}{body['id']}/").json()
    assert [c["name"] for c in detail["contacts"]] == ["Mia Hartley"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "party_type": "customer"}, "name"),
        ({"name": "X", "party_type": "friend"}, "party_type"),
        ({"name": "X", "party_type": "customer", "email": "not-an-email"}, "email"),
        ({"name": "X", "party_type": "customer", "relationship_manager": 999999}, "relationship_manager"),
        ({"name": "X", "party_type": "internal_group", "relationship_manager": "SELF"}, "relationship_manager"),
    ],
)
def test_bad_input_is_400(api, personas, payload, field):
    if payload.get("relationship_manager") == "SELF":
        payload = {**payload, "relationship_manager": personas["admin"].pk}
    resp = api("process_owner").post(URL, payload, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()


def test_relationship_manager_must_be_a_member_of_this_tenant(api, personas):
    resp = api("process_owner").post(
        URL, {"name": "X", "party_type": "supplier", "relationship_manager": personas["outsider"].pk}, format="json"
    )
    assert resp.status_code == 400
    assert "not a member" in resp.json()["relationship_manager"][0]


def test_names_are_unique_per_type_ignoring_case(api, as_admin_parties):
    with as_admin_parties():
        PartyFactory(name="CloudHost Ltd", party_type="supplier")
    client = api("process_owner")
    assert client.post(URL, {"name": "cloudhost ltd", "party_type": "supplier"}, format="json").status_code == 400
    # The same organisation may also be a customer.
    assert client.post(URL, {"name": "CloudHost Ltd", "party_type": "customer"}, format="json").status_code == 201


def test_delete_deactivates(api, as_admin_parties):
    with as_admin_parties():
        party = PartyFactory()
    assert api("process_owner").delete(f"{URL}{party.pk}/").status_code == 403
    assert api("admin").delete(f"{URL}{party.pk}/").status_code == 204
    with context.tenant_context(party.tenant):
        assert Party.objects.get(pk=party.pk).is_active is False


@pytest.mark.parametrize("role", ["agent", "auditor", "change_approver", "top_management"])
def test_read_only_roles(api, role, as_admin_parties):
    with as_admin_parties():
        contact = ContactFactory()
    client = api(role)
    assert client.get(URL).status_code == 200
    assert client.get(CONTACTS).status_code == 200
    assert client.post(URL, {"name": "X", "party_type": "customer"}, format="json").status_code == 403
    assert client.patch(f"{CONTACTS}{contact.pk}/", {"name": "Y"}, format="json").status_code == 403
    assert client.delete(f"{CONTACTS}{contact.pk}/").status_code == 403


def test_process_owner_removes_a_contact(api, as_admin_parties):
    with as_admin_parties():
        contact = ContactFactory()
    assert api("process_owner").delete(f"{CONTACTS}{contact.pk}/").status_code == 204


def test_filters(api, as_admin_parties, personas):
    with as_admin_parties():
        customer = PartyFactory(name="Acme Retail", relationship_manager=personas["process_owner"])
        supplier = PartyFactory(name="NetLink", party_type="supplier", description="WAN carrier")
        ContactFactory(party=supplier, name="Paul Grant")
    client = api("auditor")
    assert [p["id"] for p in client.get(URL, {"party_type": "supplier"}).json()["results"]] == [supplier.pk]
    assert [p["id"] for p in client.get(URL, {"q": "retail"}).json()["results"]] == [customer.pk]
    ids = [p["id"] for p in client.get(URL, {"relationship_manager": personas["process_owner"].pk}).json()["results"]]
    assert ids == [customer.pk]
    assert [c["name"] for c in client.get(CONTACTS, {"party": supplier.pk}).json()["results"]] == ["Paul Grant"]
    assert client.get(CONTACTS, {"party_type": "customer"}).json()["count"] == 0
    assert client.get(URL, {"party_type": "nonsense"}).status_code == 400


def test_contacts_cannot_attach_to_another_tenants_party(api, as_admin_parties):
    with as_admin_parties():
        party = PartyFactory()
    resp = api("outsider_admin").post(CONTACTS, {"party": party.pk, "name": "Spy"}, format="json")
    assert resp.status_code == 400 and "party" in resp.json()


def test_history_keeps_who_and_why(api, as_admin_parties):
    with as_admin_parties():
        party = PartyFactory()
    api("process_owner").patch(
        f"{URL}{party.pk}/", {"phone": "+44 20 7946 0000", "change_reason": "New switchboard"}, format="json"
    )
    with context.tenant_context(party.tenant):
        latest = Party.objects.get(pk=party.pk).history.first()
    assert (latest.history_change_reason, latest.history_user.username) == ("New switchboard", "acme-process_owner")
