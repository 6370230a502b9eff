"""The catalogue of services (6.1): customers, components, dependencies; readable by all."""

from __future__ import annotations

import pytest

from sms.cmdb.models import ServiceComponent
from sms.tenancy import context
from sms.tenancy.roles import Role
from tests.factories import PartyFactory, ServiceFactory

URL = "/api/v1/services/"


@pytest.fixture
def customer(as_admin):
    with as_admin():
        return PartyFactory(name="Harbour Retail", party_type="customer")


def test_add_a_service_to_the_catalogue(api, make_ci, customer, as_admin, personas):
    db, web = make_ci(title="db"), make_ci(title="web")
    with as_admin():
        identity = ServiceFactory(title="Identity")
    resp = api("process_owner").post(
        URL,
        {
            "title": "Web shop",
            "description": "Online shop",
            "criticality": "1",
            "hours_of_service": "24x7",
            "customers": [customer.pk],
            "components": [db.pk, web.pk, web.pk],
            "depends_on": [identity.pk],
            "owner": personas["process_owner"].pk,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["reference"].startswith("SVC-")
    assert body["state"] == "pipeline"
    assert body["customers_detail"] == [{"id": customer.pk, "name": "Harbour Retail"}]
    assert [c["title"] for c in body["components_detail"]] == ["db", "web"]
    assert body["depends_on_detail"][0]["title"] == "Identity"
    assert api("auditor").get(f"{URL}{identity.pk}/").json()["needed_by_detail"][0]["title"] == "Web shop"
    # The CI knows the services it is a component of (9.1 c).
    assert api("agent").get(f"/api/v1/cis/{db.pk}/").json()["services"][0]["reference"] == body["reference"]


def test_changing_components_is_in_the_history(api, make_ci, as_admin):
    a, b = make_ci(), make_ci()
    with as_admin():
        service = ServiceFactory()
    client = api("process_owner")
    client.patch(f"{URL}{service.pk}/", {"components": [a.pk]}, format="json")
    resp = client.patch(f"{URL}{service.pk}/", {"components": [b.pk], "change_reason": "Migrated to b"}, format="json")
    assert resp.status_code == 200
    assert [c["id"] for c in resp.json()["components_detail"]] == [b.pk]
    with context.tenant_context(service.tenant):
        rows = ServiceComponent.history.filter(service_id=service.pk).order_by("history_date", "history_id")
        trail = [(r.history_type, r.ci_id, r.history_change_reason, r.history_user.username) for r in rows]
    assert trail == [
        ("+", a.pk, f"Added to {service.reference}", "acme-process_owner"),
        ("+", b.pk, "Migrated to b", "acme-process_owner"),
        ("-", a.pk, "Migrated to b", "acme-process_owner"),
    ]


def test_bad_links_are_400(api, as_admin, make_ci):
    with as_admin():
        supplier = PartyFactory(party_type="supplier")
        service = ServiceFactory()
    gone = make_ci(state="disposed")
    client = api("process_owner")
    assert "customers" in client.post(URL, {"title": "x", "customers": [supplier.pk]}, format="json").json()
    assert "components" in client.post(URL, {"title": "x", "components": [gone.pk]}, format="json").json()
    assert "depends_on" in client.post(URL, {"title": "x", "depends_on": [999999]}, format="json").json()
    assert "components" in client.post(URL, {"title": "x", "components": "abc"}, format="json").json()
    resp = client.patch(f"{URL}{service.pk}/", {"depends_on": [service.pk]}, format="json")
    assert resp.status_code == 400 and "itself" in resp.json()["depends_on"][0]
    assert client.post(URL, {"title": "x", "criticality": "9"}, format="json").status_code == 400
    assert client.post(URL, {"title": "x", "state": "retired"}, format="json").status_code == 400


def test_cannot_use_another_tenants_parties_or_cis(api, personas, tenant_b, customer, make_ci):
    ci = make_ci()
    outsider = api("outsider_admin")
    resp = outsider.post(URL, {"title": "x", "customers": [customer.pk], "components": [ci.pk]}, format="json")
    assert resp.status_code == 400
    assert set(resp.json()) == {"customers", "components"}


@pytest.mark.parametrize("role", Role.values)
def test_catalogue_is_readable_by_every_role(api, role, as_admin, customer):
    with as_admin():
        ServiceFactory(title="E-mail")
    resp = api(role).get(URL)
    assert resp.status_code == 200
    assert [s["title"] for s in resp.json()["results"]] == ["E-mail"]


@pytest.mark.parametrize("role", ["agent", "auditor", "change_approver", "top_management"])
def test_only_cmdb_roles_change_the_catalogue(api, role, as_admin):
    with as_admin():
        service = ServiceFactory()
    client = api(role)
    assert client.post(URL, {"title": "x"}, format="json").status_code == 403
    assert client.patch(f"{URL}{service.pk}/", {"title": "y"}, format="json").status_code == 403


def test_service_lifecycle(api, as_admin):
    with as_admin():
        service = ServiceFactory(state="pipeline")
    client = api("process_owner")
    assert client.post(f"{URL}{service.pk}/transitions/go_live/", {}, format="json").json()["state"] == "live"
    assert client.post(f"{URL}{service.pk}/transitions/retire/", {}, format="json").status_code == 400
    resp = client.post(f"{URL}{service.pk}/transitions/retire/", {"reason": "Replaced"}, format="json")
    assert resp.json()["state"] == "retired"


def test_filters(api, as_admin, customer, make_ci):
    ci = make_ci()
    from sms.cmdb.services import set_service_links

    with as_admin():
        a = ServiceFactory(title="A", criticality="1")
        b = ServiceFactory(title="B", state="pipeline", is_customer_facing=False)
        set_service_links(a, customers=[customer], components=[ci])
    client = api("auditor")

    def titles(**params):
        resp = client.get(URL, params)
        assert resp.status_code == 200, resp.content
        return {row["title"] for row in resp.json()["results"]}

    assert titles(customer=customer.pk) == {"A"}
    assert titles(component=ci.pk) == {"A"}
    assert titles(state="pipeline") == {"B"}
    assert titles(criticality="1") == {"A"}
    assert titles(is_customer_facing="false") == {"B"}
    assert titles(q=b.reference) == {"B"}
