"""Validation of the resolution API: 400s with field messages, never a 500; another
tenant's objects are "does not exist"; permissions per role."""

import pytest

from sms.tenancy import context
from tests.factories import (
    CategoryFactory,
    ConfigurationItemFactory,
    ContactFactory,
    PartyFactory,
    ServiceCalendarFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"


@pytest.fixture
def theirs(personas, tenant_b):
    """Objects of the other tenant (globex)."""
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        return {
            "ci": ConfigurationItemFactory(),
            "service": ServiceFactory(),
            "contact": ContactFactory(),
            "category": CategoryFactory(),
            "calendar": ServiceCalendarFactory(),
        }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("affected_cis", lambda t: [t["ci"].pk]),
        ("service", lambda t: t["service"].pk),
        ("caller", lambda t: t["contact"].pk),
        ("category", lambda t: t["category"].pk),
    ],
)
def test_other_tenants_objects_do_not_exist(api, theirs, field, value):
    resp = api("agent").post(INCIDENTS, {"title": "x", field: value(theirs)}, format="json")
    assert resp.status_code == 400
    assert "does not exist" in str(resp.json()[field])


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": "  "},
        {"title": "x", "impact": 7},
        {"title": "x", "urgency": "high"},
        {"title": "x", "channel": "pigeon"},
        {"title": "x", "priority": 0},
        {"title": "x", "assignee": 999999},
        {"title": "x", "affected_cis": "not-a-list"},
        {"title": "x", "resolution_code": "magic"},
        {"title": ["x"]},
    ],
)
def test_bad_input_is_400(api, payload):
    resp = api("agent").post(INCIDENTS, payload, format="json")
    assert resp.status_code == 400, resp.content
    assert isinstance(resp.json(), dict) and resp.json()


def test_party_roles_are_checked(api, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        supplier = PartyFactory(party_type="supplier")
        customer = PartyFactory()
        other_customer = PartyFactory()
        caller = ContactFactory(party=customer)
    client = api("agent")
    resp = client.post(INCIDENTS, {"title": "x", "customer": supplier.pk}, format="json")
    assert resp.status_code == 400 and "customer" in resp.json()
    resp = client.post(INCIDENTS, {"title": "x", "assignment_group": customer.pk}, format="json")
    assert resp.status_code == 400 and "assignment_group" in resp.json()
    resp = client.post(INCIDENTS, {"title": "x", "caller": caller.pk, "customer": other_customer.pk}, format="json")
    assert resp.status_code == 400 and "caller" in resp.json()
    # The caller's organisation becomes the customer when none is given.
    resp = client.post(INCIDENTS, {"title": "x", "caller": caller.pk}, format="json")
    assert resp.status_code == 201 and resp.json()["customer"] == customer.pk


def test_incident_with_relations(api, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        group = PartyFactory(party_type="internal_group", name="Service desk")
        ci = ConfigurationItemFactory()
        parent = CategoryFactory(name="Software")
        category = CategoryFactory(name="E-mail", parent=parent)
        service = ServiceFactory()
    resp = api("agent").post(
        INCIDENTS,
        {
            "title": "Mailbox full",
            "assignment_group": group.pk,
            "affected_cis": [ci.pk],
            "category": category.pk,
            "service": service.pk,
            "channel": "email",
            "is_security": True,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["affected_cis"] == [ci.pk] and body["category_path"] == "Software / E-mail"
    assert body["service_reference"] == service.reference and body["is_security"] is True
    listed = api("auditor").get(INCIDENTS, {"service": service.pk, "is_security": "true"}).json()
    assert listed["count"] == 1
    assert api("agent").get(INCIDENTS, {"service": 999999}).status_code == 400


def test_permissions_per_role(api, personas):
    assert api("auditor").post(INCIDENTS, {"title": "x"}, format="json").status_code == 403
    assert api("auditor").get(INCIDENTS).status_code == 200
    inc = api("agent").post(INCIDENTS, {"title": "x"}, format="json").json()
    assert api("auditor").patch(f"{INCIDENTS}{inc['id']}/", {"title": "y"}, format="json").status_code == 403
    assert api("top_management").patch(f"{INCIDENTS}{inc['id']}/", {"title": "y"}, format="json").status_code == 403
    assert api("agent").patch(f"{INCIDENTS}{inc['id']}/", {"title": "y"}, format="json").status_code == 200
    # Categories: process owners and admins keep the tree; agents read it.
    assert api("agent").post("/api/v1/incident-categories/", {"name": "Hardware"}, format="json").status_code == 403
    assert (
        api("process_owner").post("/api/v1/incident-categories/", {"name": "Hardware"}, format="json").status_code
        == 201
    )
    # Calendars: administrators only.
    cal = {"name": "Office", "time_zone": "UTC", "working_hours": [{"day": 0, "start": "09:00", "end": "17:00"}]}
    assert api("process_owner").post("/api/v1/service-calendars/", cal, format="json").status_code == 403
    assert api("admin").post("/api/v1/service-calendars/", cal, format="json").status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A", "time_zone": "Mars/Olympus", "is_24x7": True}, "time_zone"),
        ({"name": "A", "time_zone": "UTC"}, "working_hours"),
        (
            {"name": "A", "time_zone": "UTC", "working_hours": [{"day": 9, "start": "09:00", "end": "17:00"}]},
            "working_hours",
        ),
        (
            {"name": "A", "time_zone": "UTC", "working_hours": [{"day": 1, "start": "9am", "end": "17:00"}]},
            "working_hours",
        ),
        ({"name": "A", "time_zone": "UTC", "working_hours": [{"day": 1}]}, "working_hours"),
        ({"name": "A", "time_zone": "UTC", "working_hours": "Mon-Fri"}, "working_hours"),
        ({"name": "A", "time_zone": "UTC", "is_24x7": True, "holidays": [{"date": "25/12"}]}, "holidays"),
        ({"name": "", "time_zone": "UTC", "is_24x7": True}, "name"),
    ],
)
def test_calendar_validation(api, payload, field):
    resp = api("admin").post("/api/v1/service-calendars/", payload, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()


def test_calendar_names_and_service_hours_are_unique(api, personas, tenant_a, in_tenant, theirs):
    admin = api("admin")
    cal = admin.post("/api/v1/service-calendars/", {"name": "Support", "is_24x7": True}, format="json").json()
    assert (
        admin.post("/api/v1/service-calendars/", {"name": "support", "is_24x7": True}, format="json").status_code == 400
    )
    with in_tenant(tenant_a, personas["admin"]):
        service = ServiceFactory()
    assert (
        admin.post("/api/v1/service-hours/", {"service": service.pk, "calendar": cal["id"]}, format="json").status_code
        == 201
    )
    resp = admin.post("/api/v1/service-hours/", {"service": service.pk, "calendar": cal["id"]}, format="json")
    assert resp.status_code == 400 and "service" in resp.json()
    resp = admin.post("/api/v1/service-hours/", {"service": theirs["service"].pk, "calendar": cal["id"]}, format="json")
    assert resp.status_code == 400 and "does not exist" in str(resp.json()["service"])
    # A calendar in use is not deleted.
    resp = admin.delete(f"/api/v1/service-calendars/{cal['id']}/")
    assert resp.status_code == 400


def test_category_tree_rules(api):
    po = api("process_owner")
    top = po.post("/api/v1/incident-categories/", {"name": "Hardware"}, format="json").json()
    mid = po.post("/api/v1/incident-categories/", {"name": "Laptop", "parent": top["id"]}, format="json").json()
    leaf = po.post("/api/v1/incident-categories/", {"name": "Battery", "parent": mid["id"]}, format="json").json()
    assert leaf["path"] == "Hardware / Laptop / Battery"
    too_deep = po.post("/api/v1/incident-categories/", {"name": "Cell", "parent": leaf["id"]}, format="json")
    assert too_deep.status_code == 400 and "parent" in too_deep.json()
    dup = po.post("/api/v1/incident-categories/", {"name": "laptop", "parent": top["id"]}, format="json")
    assert dup.status_code == 400 and "name" in dup.json()
    dup_top = po.post("/api/v1/incident-categories/", {"name": "HARDWARE"}, format="json")
    assert dup_top.status_code == 400
    loop = po.patch(f"/api/v1/incident-categories/{top['id']}/", {"parent": leaf["id"]}, format="json")
    assert loop.status_code == 400 and "parent" in loop.json()
    assert po.delete(f"/api/v1/incident-categories/{leaf['id']}/").status_code == 403  # admins delete
    admin = api("admin")
    assert admin.delete(f"/api/v1/incident-categories/{top['id']}/").status_code == 400  # has children
    assert admin.delete(f"/api/v1/incident-categories/{leaf['id']}/").status_code == 204


def test_list_shows_each_incidents_affected_cis_with_a_fixed_number_of_queries(api, personas, tenant_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sms.tenancy import context
    from tests.factories import ConfigurationItemFactory, IncidentFactory

    with context.tenant_context(tenant_a, personas["admin"]):
        cis = [ConfigurationItemFactory() for _ in range(4)]
        incidents = [IncidentFactory(affected_cis=cis[i: i + 2]) for i in range(3)] + [IncidentFactory()]
    client = api("agent")
    client.get("/api/v1/me/")  # the token's first use is recorded: not part of the count

    def listed(page_size: int) -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get("/api/v1/incidents/", {"page_size": page_size}).json()
        return {row["id"]: row["affected_cis"] for row in body["results"]}, len(ctx.captured_queries)

    rows, queries = listed(4)
    for incident in incidents:  # the same ids, in the same order, as the record's own answer
        detail = client.get(f"/api/v1/incidents/{incident.pk}/").json()["affected_cis"]
        assert rows[incident.pk] == detail
    assert rows[incidents[-1].pk] == [] and len(rows[incidents[0].pk]) == 2
    _, fewer = listed(2)
    assert queries == fewer


def test_list_shows_category_path_and_service_reference_as_the_record_does(api, personas, tenant_a):
    from sms.tenancy import context
    from tests.factories import CategoryFactory, IncidentFactory, ServiceFactory

    with context.tenant_context(tenant_a, personas["admin"]):
        top = CategoryFactory(name="Network")
        middle = CategoryFactory(name="Wi-Fi", parent=top)
        leaf = CategoryFactory(name="Guest access", parent=middle)
        service = ServiceFactory()
        incidents = [
            IncidentFactory(category=leaf, service=service),
            IncidentFactory(category=middle),
            IncidentFactory(category=top),
            IncidentFactory(),
        ]
    client = api("agent")
    rows = {row["id"]: row for row in client.get("/api/v1/incidents/", {"page_size": 10}).json()["results"]}
    queue = {row["id"]: row for row in client.get("/api/v1/incidents/queues/unassigned/").json()["results"]}
    for incident in incidents:
        detail = client.get(f"/api/v1/incidents/{incident.pk}/").json()
        for listed in (rows[incident.pk], queue[incident.pk]):
            assert listed["category_path"] == detail["category_path"]
            assert listed["service_reference"] == detail["service_reference"]
    assert rows[incidents[0].pk]["category_path"] == "Network / Wi-Fi / Guest access"
    assert rows[incidents[0].pk]["service_reference"] == service.reference
    assert rows[incidents[2].pk]["category_path"] == "Network"
    assert rows[incidents[3].pk]["category_path"] is None and rows[incidents[3].pk]["service_reference"] is None


def test_list_search_by_reference_uses_the_reference_alone(api):
    """A reference of the listed kind (any case, leading zeros) is looked up by its index;
    text that is no existing reference is still matched inside titles and descriptions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api("agent")
    first = client.post(INCIDENTS, {"title": "Printer offline"}, format="json").json()
    mention = client.post(INCIDENTS, {"title": f"Follow-up of {first['reference']}"}, format="json").json()
    prefix, number = first["reference"].split("-")
    with CaptureQueriesContext(connection) as ctx:
        rows = client.get(INCIDENTS, {"q": f"{prefix.lower()}-00{number}"}).json()["results"]
    assert [r["id"] for r in rows] == [first["id"]]
    assert not [q for q in ctx.captured_queries if "LIKE" in q["sql"]]
    rows = client.get(INCIDENTS, {"q": "Follow-up of"}).json()["results"]
    assert [r["id"] for r in rows] == [mention["id"]]
    assert client.get(INCIDENTS, {"q": f"{prefix}-987654"}).json()["results"] == []
