"""Browser pages of the parties."""

from __future__ import annotations

import pytest

from sms.parties.models import Contact, Party
from sms.tenancy import context
from sms.tenancy.roles import Role
from tests.factories import ContactFactory, PartyFactory

LIST = "/t/acme/parties/"


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads_the_parties(web, role, as_admin_parties):
    with as_admin_parties():
        party = PartyFactory(name="Harbour Retail")
        ContactFactory(party=party, name="Mia Hartley")
    page = web(role).get(LIST).content.decode()
    assert "Harbour Retail" in page and "Customers and suppliers" in page
    detail = web(role).get(f"{LIST}{party.pk}/").content.decode()
    assert "Mia Hartley" in detail
    assert ("Add contact" in detail) == (role in ("process_owner", "admin"))


def test_create_edit_and_contacts(web, personas, tenant_a):
    client = web("process_owner")
    response = client.post(
        f"{LIST}new/",
        {
            "name": "NetLink Carrier",
            "party_type": "supplier",
            "relationship_manager": personas["process_owner"].pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    with context.tenant_context(tenant_a):
        party = Party.objects.get(name="NetLink Carrier")
    assert party.relationship_manager == personas["process_owner"]
    duplicate = client.post(f"{LIST}new/", {"name": "netlink carrier", "party_type": "supplier"})
    assert "already exists" in duplicate.content.decode()
    internal = client.post(
        f"{LIST}new/",
        {"name": "Network team", "party_type": "internal_group", "relationship_manager": personas["agent"].pk},
    )
    assert "Only customers and suppliers" in internal.content.decode()
    outsider = client.post(
        f"{LIST}new/", {"name": "X", "party_type": "customer", "relationship_manager": personas["outsider"].pk}
    )
    assert "Select a valid choice" in outsider.content.decode()

    page = client.post(
        f"{LIST}{party.pk}/contacts/", {"name": "Paul Grant", "email": "paul@netlink.example"}, follow=True
    ).content.decode()
    assert "Paul Grant added" in page
    with context.tenant_context(tenant_a):
        contact = Contact.objects.get()
    assert web("agent").post(f"{LIST}{party.pk}/contacts/{contact.pk}/delete/").status_code == 403
    assert client.post(f"{LIST}{party.pk}/contacts/{contact.pk}/delete/").status_code == 302
    response = client.post(
        f"{LIST}{party.pk}/edit/",
        {
            "name": "NetLink Carrier",
            "party_type": "supplier",
            "phone": "+44 20 7946 0001",
            "change_reason": "New number",
        },
    )
    assert response.status_code == 302
    with context.tenant_context(tenant_a):
        assert Party.objects.get(pk=party.pk).history.first().history_change_reason == "New number"
    assert web("agent").get(f"{LIST}new/").status_code == 403


def test_parties_of_another_tenant_are_404(web, as_admin_parties):
    with as_admin_parties():
        party = PartyFactory()
    outsider = web("outsider_admin")
    assert outsider.get(f"/t/globex/parties/{party.pk}/").status_code == 404
    assert outsider.get(f"/t/globex/parties/{party.pk}/edit/").status_code == 404
    assert outsider.post(f"/t/globex/parties/{party.pk}/contacts/", {"name": "Spy"}).status_code == 404
    assert party.name not in outsider.get("/t/globex/parties/").content.decode()
