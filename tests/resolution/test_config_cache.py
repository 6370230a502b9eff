"""The per-tenant cache of the incident set-up (processes/resolution/config_cache.py): a
change to the matrix, the targets or a service's calendar applies to the very next
incident, in this process and in any other, tenants never share an entry, an uncommitted
change is never cached, and incident creation reads the related rows of its body in one
round trip.

Most tests here commit (transaction=True): the tenant's settings version moves with the
committed change."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from django.core.signals import request_started
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from processes.resolution import config_cache, services
from processes.resolution import working_time as wt
from processes.resolution.models import Incident, PriorityLevel, PriorityMatrixCell, ServiceHours
from sms.tenancy import context
from tests.factories import CategoryFactory, ContactFactory, PartyFactory, ServiceCalendarFactory, ServiceFactory

INCIDENTS = "/api/v1/incidents/"
SETUP_TABLES = (
    "resolution_prioritymatrixcell",
    "resolution_prioritylevel",
    "resolution_servicehours",
    "resolution_resolutionsettings",
    "resolution_majorincidentdefinition",
)


@contextmanager
def queries():
    """The statements of the requests in the block (the test client would otherwise
    clear the log when each request starts)."""
    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as ctx:
            yield ctx
    finally:
        request_started.connect(reset_queries)


def setup_reads(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if any(t in q["sql"] for t in SETUP_TABLES)]


def close(a: dt.datetime, b: dt.datetime) -> bool:
    """Due times count from the moment the incident was scheduled, a moment before its
    creation time was stamped."""
    return abs(a - b) < dt.timedelta(seconds=2)


def create(client, **body):
    response = client.post(INCIDENTS, {"title": "Mail delayed", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def set_cell(client, tenant, user, impact, urgency, priority):
    with context.tenant_context(tenant, user):
        cell = PriorityMatrixCell.objects.get(impact=impact, urgency=urgency)
    response = client.patch(f"/api/v1/priority-matrix/{cell.pk}/", {"priority": priority}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.django_db(transaction=True)
def test_a_changed_matrix_applies_to_the_next_incident(api, personas, tenant_a):
    agent, admin = api("agent"), api("admin")
    assert create(agent, impact=1, urgency=1)["priority"] == 1  # creates the defaults on first use
    assert create(agent, impact=1, urgency=1)["priority"] == 1
    # Cached now: the next incident reads none of the set-up tables.
    with queries() as ctx:
        assert create(agent, impact=1, urgency=1)["priority"] == 1
    assert setup_reads(ctx) == []

    set_cell(admin, tenant_a, personas["admin"], 1, 1, 3)
    assert create(agent, impact=1, urgency=1)["priority"] == 3
    set_cell(admin, tenant_a, personas["admin"], 1, 1, 2)
    assert create(agent, impact=1, urgency=1)["priority"] == 2


@pytest.mark.django_db(transaction=True)
def test_changed_targets_and_service_calendar_apply_to_the_next_incident(api, personas, tenant_a):
    agent, admin = api("agent"), api("admin")
    with context.tenant_context(tenant_a, personas["admin"]):
        service = ServiceFactory()
        always = ServiceCalendarFactory(name="Round the clock", is_24x7=True, working_hours=[], holidays=[])
        office = ServiceCalendarFactory(name="Office hours")
        link = ServiceHours.objects.create(service=service, calendar=always)

    def due_of(body) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
        with context.tenant_context(tenant_a, personas["agent"]):
            inc = Incident.objects.get(pk=body["id"])
        return inc.created_at, inc.response_due_at, inc.resolution_due_at

    created, response_due, _ = due_of(create(agent, impact=1, urgency=1, service=service.pk))
    with context.tenant_context(tenant_a, personas["admin"]):
        level = PriorityLevel.objects.get(level=1)
        response_minutes, resolution_minutes = level.response_minutes, level.resolution_minutes
    assert close(response_due, created + dt.timedelta(minutes=response_minutes))

    # Longer targets (through the API, as an administrator would).
    resp = admin.patch(
        f"/api/v1/priority-levels/{level.pk}/",
        {"response_minutes": response_minutes + 7, "resolution_minutes": resolution_minutes + 7},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    created, response_due, resolution_due = due_of(create(agent, impact=1, urgency=1, service=service.pk))
    assert close(response_due, created + dt.timedelta(minutes=response_minutes + 7))
    assert close(resolution_due, created + dt.timedelta(minutes=resolution_minutes + 7))

    # The service moves to office hours: the targets now run in that calendar.
    with context.tenant_context(tenant_a, personas["admin"]):
        link.calendar = office
        link.save(reason="Office hours only")
    created, response_due, _ = due_of(create(agent, impact=1, urgency=1, service=service.pk))
    expected = wt.add_working_minutes(office.working_calendar(), created, response_minutes + 7)
    assert close(response_due, expected)


@pytest.mark.django_db(transaction=True)
def test_tenants_never_share_the_cached_set_up(api, personas, tenant_a, tenant_b):
    agent, outsider, outsider_admin = api("agent"), api("outsider"), api("outsider_admin")
    assert create(agent, impact=1, urgency=1)["priority"] == 1
    assert create(outsider, impact=1, urgency=1)["priority"] == 1
    set_cell(outsider_admin, tenant_b, personas["outsider_admin"], 1, 1, 4)
    assert create(outsider, impact=1, urgency=1)["priority"] == 4
    assert create(agent, impact=1, urgency=1)["priority"] == 1  # tenant A keeps its own
    assert {tenant for _, tenant in config_cache._loaded} >= {tenant_a.pk, tenant_b.pk}


@pytest.mark.django_db(transaction=True)
def test_an_uncommitted_change_is_seen_by_its_own_transaction_and_never_cached(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        services.ensure_defaults()
        assert services.matrix()[(1, 1)] == 1  # now cached
        with pytest.raises(RuntimeError), transaction.atomic():
            cell = PriorityMatrixCell.objects.get(impact=1, urgency=1)
            cell.priority = 5
            cell.save(reason="Trying something")
            assert services.matrix()[(1, 1)] == 5  # its own change, read from the table
            raise RuntimeError("rolled back")
        assert services.matrix()[(1, 1)] == 1  # the rolled-back change left nothing behind
        with transaction.atomic():
            cell = PriorityMatrixCell.objects.get(impact=1, urgency=1)
            cell.priority = 2
            cell.save(reason="For real")
        assert services.matrix()[(1, 1)] == 2


@pytest.mark.django_db(transaction=True)
def test_another_process_sees_a_change_at_its_next_request(api, personas, tenant_a):
    """This process stands in for another: after the change commits, its old copy is put
    back under the version it was loaded with, as a process that never saw the change
    would still hold it. The raised version makes the next incident reload."""
    agent, admin = api("agent"), api("admin")
    create(agent, impact=1, urgency=1)  # creates the defaults on first use
    assert create(agent, impact=1, urgency=1)["priority"] == 1
    key = (connection.settings_dict["NAME"], tenant_a.pk)
    stale = config_cache._loaded[key]
    set_cell(admin, tenant_a, personas["admin"], 1, 1, 4)
    config_cache._loaded[key] = stale
    with queries() as ctx:
        assert create(agent, impact=1, urgency=1)["priority"] == 4
    assert setup_reads(ctx)  # reloaded
    assert config_cache._loaded[key][0] > stale[0]
    with queries() as ctx:
        create(agent, impact=1, urgency=1)
    assert setup_reads(ctx) == []  # and cached again
    # The version check rode on the token authentication: no statement of its own.
    own = [q for q in ctx.captured_queries if "settings_version" in q["sql"] and "tenancy_membership" not in q["sql"]]
    assert own == []


@pytest.mark.django_db(transaction=True)
def test_saving_a_tenant_read_before_a_change_never_takes_its_version_back(api, personas, tenant_a):
    from sms.tenancy.models import Tenant

    agent, admin = api("agent"), api("admin")
    create(agent, impact=1, urgency=1)
    edited = Tenant.objects.get(pk=tenant_a.pk)  # say, open in a form
    set_cell(admin, tenant_a, personas["admin"], 1, 1, 3)
    edited.name = "Renamed meanwhile"
    edited.save()
    fresh = Tenant.objects.get(pk=tenant_a.pk)
    assert fresh.name == "Renamed meanwhile"
    assert fresh.settings_version > edited.settings_version
    assert create(agent, impact=1, urgency=1)["priority"] == 3


@pytest.mark.django_db(transaction=True)
def test_outside_a_request_the_version_is_read_each_transaction(personas, tenant_a):
    """A task holds its tenant object across transactions: the version it loaded with is
    not trusted in a later one."""
    from sms.tenancy.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_a.pk)  # read outside any transaction
    with context.tenant_context(tenant, personas["admin"]):
        services.ensure_defaults()
        assert services.matrix()[(1, 1)] == 1
        key = (connection.settings_dict["NAME"], tenant_a.pk)
        stale = config_cache._loaded[key]
        other = Tenant.objects.get(pk=tenant_a.pk)
        with context.tenant_context(other, personas["admin"]), transaction.atomic():
            cell = PriorityMatrixCell.objects.get(impact=1, urgency=1)
            cell.priority = 5
            cell.save(reason="Changed by someone else")
        config_cache._loaded[key] = stale  # as a process that never saw the change holds it
        with transaction.atomic():
            assert services.matrix()[(1, 1)] == 5


@pytest.mark.django_db
def test_the_related_rows_of_a_new_incident_are_read_in_one_round_trip(api, personas, tenant_a, tenant_b):
    agent = api("agent")
    with context.tenant_context(tenant_a, personas["agent"]):
        service = ServiceFactory()
        category = CategoryFactory(parent=CategoryFactory(name="Software"))
        customer = PartyFactory(party_type="customer")
        caller = ContactFactory(party=customer)
        group = PartyFactory(party_type="internal_group")
    body = {
        "impact": 2,
        "urgency": 2,
        "service": service.pk,
        "category": category.pk,
        "caller": caller.pk,
        "assignment_group": group.pk,
    }
    with queries() as ctx:
        inc = create(agent, **body)
    related = [q["sql"] for q in ctx.captured_queries if '"cmdb_service"' in q["sql"] and "parties_contact" in q["sql"]]
    assert len(related) == 1  # service, category, caller with party and group together
    assert inc["service_reference"] == service.reference
    assert inc["category_path"] == f"Software / {category.name}"
    assert inc["customer"] == customer.pk  # taken from the caller's party, as before

    # Unknown ids and another tenant's rows get the field's own message, as before.
    with context.tenant_context(tenant_b, personas["outsider"]):
        foreign = ServiceFactory()
    for bad in ({"service": foreign.pk}, {"service": 987654321}, {"category": 987654321}):
        resp = agent.post(INCIDENTS, {"title": "x", **body, **bad}, format="json")
        assert resp.status_code == 400
        field = next(iter(bad))
        assert "does not exist" in resp.json()[field][0]
    resp = agent.post(INCIDENTS, {"title": "x", **body, "assignment_group": customer.pk}, format="json")
    assert resp.status_code == 400 and "not an internal group" in resp.json()["assignment_group"][0]


@pytest.mark.django_db
def test_inside_a_transaction_that_changed_the_set_up_a_rolled_back_savepoint_takes_its_change_back(
    personas, tenant_a
):
    with context.tenant_context(tenant_a, personas["admin"]):
        services.ensure_defaults()  # this transaction (the test's) has changed the set-up
        assert services.matrix()[(1, 1)] == 1
        with CaptureQueriesContext(connection) as ctx:
            services.matrix()
            services.targets(1)
        assert ctx.captured_queries == []  # read once per change, not per lookup
        with pytest.raises(RuntimeError), transaction.atomic():
            cell = PriorityMatrixCell.objects.get(impact=1, urgency=1)
            cell.priority = 5
            cell.save(reason="Trying something")
            assert services.matrix()[(1, 1)] == 5
            raise RuntimeError("rolled back")
        assert services.matrix()[(1, 1)] == 1
