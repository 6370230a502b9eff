"""The service desk console: queues and their query counts, fast logging with the
priority preview, bulk assignment (with rows the user may not change), the timeline."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.resolution import services_desk
from processes.resolution.models import GroupMember, Incident
from sms.core.services import add_journal_entry
from sms.tenancy import context
from tests.factories import PartyFactory, ServiceFactory

pytestmark = pytest.mark.django_db
DESK = "/t/acme/desk/"
LIST = "/t/acme/incidents/"
BULK = "/t/acme/incidents/bulk-assign/"


@pytest.fixture
def groups(personas, tenant_a, in_tenant):
    """Two internal groups in acme; the agent works in the first."""
    with in_tenant(tenant_a, personas["admin"]):
        network = PartyFactory(name="Network team", party_type="internal_group")
        apps = PartyFactory(name="Application support", party_type="internal_group")
        GroupMember.objects.create(group=network, user=personas["agent"])
    return {"network": network, "apps": apps}


def at_risk(incident, tenant):
    """Move the incident's clock so that 90% of its target span has gone (not yet late)."""
    now = timezone.now()
    with context.tenant_context(tenant):
        Incident.objects.filter(pk=incident.pk).update(
            created_at=now - dt.timedelta(hours=9), resolution_due_at=now + dt.timedelta(hours=1)
        )


def fill_queues(make_incident, personas, groups, tenant, n):
    made = {"mine": [], "groups": [], "unassigned": [], "breaching": []}
    for i in range(n):
        made["mine"].append(make_incident(title=f"Mine {i}", assignee=personas["agent"]))
        made["groups"].append(
            make_incident(title=f"Group {i}", assignment_group=groups["network"], assignee=personas["process_owner"])
        )
        made["unassigned"].append(make_incident(title=f"Nobody {i}", assignment_group=groups["apps"]))
        late = make_incident(title=f"Soon {i}", assignee=personas["process_owner"])
        at_risk(late, tenant)
        made["breaching"].append(late)
    return made


def desk_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(DESK)
    assert resp.status_code == 200
    return len(ctx.captured_queries), resp.content.decode()


def test_console_sections(web, make_incident, personas, groups, tenant_a):
    made = fill_queues(make_incident, personas, groups, tenant_a, 1)
    other_group = make_incident(title="Other group", assignment_group=groups["apps"], assignee=personas["admin"])
    closed_mine = make_incident(title="Closed one", assignee=personas["agent"])
    with context.tenant_context(tenant_a):
        Incident.objects.filter(pk=closed_mine.pk).update(state="closed")
    with context.tenant_context(tenant_a, personas["agent"]):
        data = services_desk.console(personas["agent"])
    queues = {code: {i.pk for i in q.rows} for code, q in data["queues"].items()}
    assert queues["mine"] == {made["mine"][0].pk}
    assert queues["groups"] == {made["groups"][0].pk}  # not the apps team's, not mine
    assert queues["unassigned"] == {made["unassigned"][0].pk}
    assert queues["breaching"] == {made["breaching"][0].pk}
    assert other_group.pk not in set().union(*queues.values()) - queues["unassigned"]
    assert [g.name for g in data["groups_of_user"]] == ["Network team"]
    _, page = desk_queries(web("agent"))
    for code in ("mine", "groups", "unassigned", "breaching"):
        assert f'id="queue-{code}"' in page
    assert made["breaching"][0].reference in page and "at risk" in page
    assert "Log an incident" in page and 'name="impact"' in page


def test_breaching_soon_holds_running_incidents_past_their_risk_point_and_not_yet_late(
    make_incident, personas, groups, tenant_a
):
    now = timezone.now()
    soon = make_incident(title="Soon", assignee=personas["process_owner"])
    at_risk(soon, tenant_a)
    late, waiting, flagged, fresh = (make_incident(title=t) for t in ("Late", "Waiting", "Flagged", "Fresh"))
    with context.tenant_context(tenant_a):
        for incident in (late, waiting, flagged):
            at_risk(incident, tenant_a)
        Incident.objects.filter(pk=late.pk).update(resolution_due_at=now - dt.timedelta(minutes=5))
        Incident.objects.filter(pk=waiting.pk).update(state="on_hold")  # its clock is paused
        Incident.objects.filter(pk=flagged.pk).update(resolution_breached=True)
        Incident.objects.filter(pk=fresh.pk).update(resolution_due_at=now + dt.timedelta(days=3))
    with context.tenant_context(tenant_a, personas["agent"]):
        data = services_desk.console(personas["agent"])
        counts = services_desk.queue_counts(personas["agent"])
    assert [i.pk for i in data["queues"]["breaching"].rows] == [soon.pk]
    assert counts["breaching"] == data["queues"]["breaching"].total == 1
    assert counts["unassigned"] == 4  # the four without an assignee, whatever their clocks


def test_console_query_count_does_not_grow_with_the_queues(web, make_incident, personas, groups, tenant_a):
    fill_queues(make_incident, personas, groups, tenant_a, 1)
    few, _ = desk_queries(web("agent"))
    fill_queues(make_incident, personas, groups, tenant_a, 12)  # more than a queue shows
    many, page = desk_queries(web("agent"))
    assert few == many, (few, many)
    assert "All 13 →" in page
    # The "all" page of a queue pages through the rest with fixed queries too.
    resp = web("agent").get("/t/acme/desk/queues/mine/", {"page_size": 5})
    assert resp.status_code == 200 and resp.content.decode().count(">Mine ") == 5
    assert web("agent").get("/t/acme/desk/queues/nonsense/").status_code == 404


def test_console_for_readers_and_outsiders(web, make_incident):
    make_incident(title="Visible to the auditor")
    page = web("auditor").get(DESK).content.decode()
    assert "Visible to the auditor" in page and "Log an incident" not in page  # reads, does not log
    assert web("outsider").get(DESK).status_code == 404
    assert web("auditor").post(DESK, {"title": "x", "impact": 1, "urgency": 1, "channel": "phone"}).status_code == 403


def test_fast_logging_with_priority_preview(web, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        service = ServiceFactory()
    client = web("agent")
    preview = client.get("/t/acme/desk/priority/", {"impact": 1, "urgency": 1}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and "P1 Critical" in preview.content.decode()
    assert "P3" in client.get("/t/acme/desk/priority/", {"impact": 2, "urgency": 2}).content.decode()
    assert "Choose impact" in client.get("/t/acme/desk/priority/", {"impact": 9, "urgency": "x"}).content.decode()
    page = client.get(DESK).content.decode()
    assert 'hx-get="/t/acme/desk/priority/"' in page and "P3 Medium" in page
    resp = client.post(
        DESK, {"title": "Checkout fails", "impact": 1, "urgency": 2, "channel": "phone", "service": service.pk}
    )
    assert resp.status_code == 302
    with in_tenant(tenant_a):
        inc = Incident.objects.get(title="Checkout fails")
    assert inc.priority == 2 and inc.owner == personas["agent"] and inc.resolution_due_at is not None
    bad = client.post(DESK, {"title": "", "impact": 1, "urgency": 7, "channel": "phone"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


def test_bulk_assign(web, make_incident, personas, groups, tenant_a, tenant_b, move, reload, in_tenant):
    fresh = make_incident(title="Fresh")
    working = make_incident(title="Working")
    move(working, "start")
    done = make_incident(title="Done")
    with in_tenant(tenant_a):
        Incident.objects.filter(pk=done.pk).update(state="closed")
    with in_tenant(tenant_b, personas["outsider"]):
        from tests.factories import IncidentFactory

        foreign = IncidentFactory(title="Theirs")
    client = web("agent")
    list_page = client.get(LIST).content.decode()
    assert 'form="bulk-assign"' in list_page and "Assign selected" in list_page
    resp = client.post(
        BULK,
        {
            "incidents": [fresh.pk, working.pk, done.pk, foreign.pk],
            "assignment_group": groups["network"].pk,
            "assignee": personas["process_owner"].pk,
            "reason": "Network outage",
            "next": LIST,
        },
        follow=True,
    )
    page = resp.content.decode()
    assert f"2 incident(s) assigned: {fresh.reference}, {working.reference}" in page
    assert f"{done.reference}: It is closed; reopen it before reassigning." in page
    assert f"#{foreign.pk}: No such incident in this tenant." in page
    fresh, working, done = reload(fresh), reload(working), reload(done)
    assert fresh.state == "assigned" and fresh.assignee == personas["process_owner"] and fresh.responded_at
    assert fresh.assignment_group_id == groups["network"].pk
    assert working.state == "in_progress" and working.assignee == personas["process_owner"]
    assert done.assignee_id is None and done.assignment_group_id is None
    with in_tenant(tenant_a):
        reasons = list(Incident.history.filter(id=fresh.pk).values_list("history_change_reason", flat=True))
    assert any("Assigned in bulk to Network team" in r and "Network outage" in r for r in reasons)
    with in_tenant(tenant_b):
        assert Incident.objects.get(pk=foreign.pk).assignee is None


def test_bulk_assign_refusals(web, make_incident, personas, groups, reload):
    inc = make_incident()
    assert web("auditor").post(BULK, {"incidents": [inc.pk], "assignee": personas["agent"].pk}).status_code == 403
    page = web("agent").post(BULK, {"incidents": [inc.pk]}, follow=True).content.decode()
    assert "Choose a group, an assignee, or both." in page
    page = web("agent").post(BULK, {"assignee": personas["agent"].pk}, follow=True).content.decode()
    assert "Select at least one incident." in page
    page = (
        web("agent")
        .post(BULK, {"incidents": [inc.pk], "assignee": personas["outsider"].pk}, follow=True)
        .content.decode()
    )
    assert "Select a valid choice" in page
    assert reload(inc).assignee is None


def test_bulk_assign_service_checks_permission(personas, tenant_a, make_incident, groups):
    from django.core.exceptions import PermissionDenied

    from tests.conftest import membership_of

    inc = make_incident()
    with context.tenant_context(tenant_a, personas["auditor"]):
        with pytest.raises(PermissionDenied):
            services_desk.bulk_assign(
                [inc.pk],
                by=personas["auditor"],
                membership=membership_of(personas["auditor"], tenant_a),
                group=groups["network"],
            )


def test_timeline_on_the_record_page(web, make_incident, personas, tenant_a, move):
    inc = make_incident(title="Timeline case")
    with context.tenant_context(tenant_a, personas["agent"]):
        add_journal_entry(inc, by=personas["agent"], body="Called the user back.", visibility="public")
    move(inc, "start")
    move(inc, "hold", reason="Waiting for the supplier's part")
    with context.tenant_context(tenant_a, personas["agent"]):
        entries = services_desk.timeline(inc)
    kinds = [e.kind for e in entries]
    assert kinds.count("state") == 2 and "journal" in kinds and kinds[-1] == "logged"
    assert entries[0].title == "In progress → On hold" and "supplier's part" in entries[0].body
    page = web("agent").get(f"{LIST}{inc.pk}/").content.decode()
    assert 'id="timeline"' in page and "New → In progress" in page and "Called the user back." in page


def test_major_incidents_section(web, make_incident, tenant_a):
    major = make_incident(title="Data centre power loss", impact=1, urgency=1)
    make_incident(title="Ordinary")
    with context.tenant_context(tenant_a):
        Incident.objects.filter(pk=major.pk).update(is_major=True)
    page = web("agent").get(DESK).content.decode()
    section = page.split('id="queue-major"')[1].split("</section>")[0]
    assert "Data centre power loss" in section and "Ordinary" not in section


def test_escalations_on_the_timeline(make_incident, personas, tenant_a):
    from processes.resolution.models import Escalation

    inc = make_incident(title="Escalated one")
    with context.tenant_context(tenant_a):
        Escalation.objects.create(
            incident=inc,
            rule_name="P2 at 80%",
            target="resolution",
            percent=80,
            action="notify",
            detail="Told the Network team lead.",
        )
        entries = services_desk.timeline(inc)
    assert entries[0].kind == "escalation" and entries[0].title == "Escalated: Notify"
    assert entries[0].body == "Told the Network team lead." and entries[0].note == "P2 at 80%"


# --- API ------------------------------------------------------------------------------------
def test_queue_api(api, make_incident, personas, groups, tenant_a):
    made = fill_queues(make_incident, personas, groups, tenant_a, 2)
    counts = api("agent").get("/api/v1/incidents/queues/").json()
    assert counts == {"mine": 2, "groups": 2, "unassigned": 2, "breaching": 2, "major": 0}
    rows = api("agent").get("/api/v1/incidents/queues/groups/", {"page_size": 1}).json()
    assert rows["count"] == 2 and rows["results"][0]["id"] in {i.pk for i in made["groups"]}
    assert api("agent").get("/api/v1/incidents/queues/nonsense/").status_code == 404
    assert api("auditor").get("/api/v1/incidents/queues/").status_code == 200


def test_bulk_assign_api(api, make_incident, personas, groups, tenant_a, reload):
    fresh, done = make_incident(), make_incident()
    with context.tenant_context(tenant_a):
        Incident.objects.filter(pk=done.pk).update(state="cancelled")
    url = "/api/v1/incidents/bulk-assign/"
    body = {"incidents": [fresh.pk, done.pk, 99999999], "assignment_group": groups["network"].pk}
    assert api("auditor").post(url, body, format="json").status_code == 403
    resp = api("agent").post(url, body, format="json")
    assert resp.status_code == 200, resp.content
    data = resp.json()
    assert data["assigned"] == [{"id": fresh.pk, "reference": fresh.reference}]
    assert {e["incident"] for e in data["errors"]} == {done.reference, "#99999999"}
    assert reload(fresh).state == "assigned" and reload(done).assignment_group_id is None
    bad = api("agent").post(url, {"incidents": [fresh.pk]}, format="json")
    assert bad.status_code == 400 and "assignment_group" in bad.json()
    assert api("agent").post(url, {"incidents": "x", "assignee": 1}, format="json").status_code == 400
    other = api("agent").post(url, {"incidents": [fresh.pk], "assignee": personas["outsider"].pk}, format="json")
    assert other.status_code == 400 and "assignee" in other.json()


def test_group_members_api(api, personas, groups):
    url = "/api/v1/support-group-members/"
    listed = api("agent").get(url).json()
    assert [(m["group_name"], m["user"]) for m in listed["results"]] == [("Network team", personas["agent"].pk)]
    body = {"group": groups["apps"].pk, "user": personas["agent"].pk}
    assert api("agent").post(url, body, format="json").status_code == 403
    assert api("admin").post(url, body, format="json").status_code == 201
    again = api("admin").post(url, body, format="json")
    assert again.status_code == 400 and "Already a member" in str(again.json())
    assert api("outsider").get(url).json()["count"] == 0
