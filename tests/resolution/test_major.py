"""Major incidents (clause 8.1) and keeping the caller informed: the automatic rule and
declaration by hand, the manager guard, the review guard, top management informed on
declaration and resolution; public journal entries and state changes go to the caller,
internal notes never do."""

from __future__ import annotations

import pytest

from processes.resolution.models import MajorIncidentReview
from processes.resolution.services_major import definition
from processes.resolution.tasks_escalation import evaluate_escalations_for_tenant
from sms.core.models import JournalEntry, OutboundMessage
from sms.tenancy import context
from tests.factories import ContactFactory, ServiceFactory, major_incident

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"
TOP = "acme-top_management@example.test"
REVIEW = {
    "what_happened": "Sign-in failed for everyone.",
    "timeline": "08:02 alert; 09:15 restored.",
    "causes": "An expired certificate.",
    "improvements": "Alert 30 days before expiry.",
}


def take(client, inc_id, name, reason=""):
    return client.post(f"{INCIDENTS}{inc_id}/transitions/{name}/", {"reason": reason}, format="json")


def outbox(tenant, **filters):
    with context.tenant_context(tenant):
        return list(OutboundMessage.objects.filter(**filters).order_by("id"))


@pytest.fixture
def critical(personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        return ServiceFactory(title="Identity", criticality="1")


@pytest.fixture
def declared(personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        return major_incident(personas, assignee=personas["agent"])


# --- declaration ------------------------------------------------------------------------------
def test_rule_declares_p1_on_a_critical_service(api, critical, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        minor = ServiceFactory(criticality="3")
    agent = api("agent")
    body = agent.post(
        INCIDENTS, {"title": "Nobody can sign in", "impact": 1, "urgency": 1, "service": critical.pk}, format="json"
    ).json()
    assert body["is_major"] is True and "definition" in body["major_reason"]
    other = agent.post(
        INCIDENTS, {"title": "Intranet down", "impact": 1, "urgency": 1, "service": minor.pk}, format="json"
    ).json()
    assert other["is_major"] is False
    lower = agent.post(
        INCIDENTS, {"title": "Slow sign-in", "impact": 2, "urgency": 2, "service": critical.pk}, format="json"
    ).json()
    assert lower["is_major"] is False
    # Raising the impact later makes it match.
    assert (
        agent.patch(f"{INCIDENTS}{lower['id']}/", {"impact": 1, "urgency": 1}, format="json").json()["is_major"] is True
    )
    notices = outbox(tenant_a, topic="major_incident")
    assert [m.recipient for m in notices] == [TOP, TOP]
    assert "declared" in notices[0].subject
    with context.tenant_context(tenant_a):
        assert JournalEntry.objects.filter(object_id=body["id"], body__startswith="Declared a major incident").exists()


def test_rule_can_be_changed_or_switched_off(api, critical, tenant_a):
    admin = api("admin")
    row = admin.get("/api/v1/major-incident-definition/").json()["results"][0]
    assert (
        api("agent")
        .patch(f"/api/v1/major-incident-definition/{row['id']}/", {"auto_declare": False}, format="json")
        .status_code
        == 403
    )
    resp = admin.patch(
        f"/api/v1/major-incident-definition/{row['id']}/",
        {"auto_declare": False, "definition": "Anything top management must hear of."},
        format="json",
    )
    assert resp.status_code == 200 and resp.json()["rule_text"] == "Declared by hand only."
    body = (
        api("agent")
        .post(INCIDENTS, {"title": "Down", "impact": 1, "urgency": 1, "service": critical.pk}, format="json")
        .json()
    )
    assert body["is_major"] is False
    assert (
        admin.patch(f"/api/v1/major-incident-definition/{row['id']}/", {"max_priority": 9}, format="json").status_code
        == 400
    )


def test_the_planned_check_declares_what_other_paths_logged(make_incident, critical, tenant_a, reload):
    inc = make_incident(impact=1, urgency=1, service=critical)  # logged without the API or the form
    assert reload(inc).is_major is False
    assert evaluate_escalations_for_tenant(tenant_id=tenant_a.pk)["declared"] == 1
    assert reload(inc).is_major is True
    assert evaluate_escalations_for_tenant(tenant_id=tenant_a.pk)["declared"] == 0


def test_declare_by_hand_needs_a_reason(api, make_incident, tenant_a):
    inc = make_incident()
    url = f"{INCIDENTS}{inc.pk}/declare-major/"
    assert api("agent").post(url, {"reason": ""}, format="json").status_code == 400
    assert api("auditor").post(url, {"reason": "x"}, format="json").status_code == 403
    resp = api("agent").post(url, {"reason": "Board meeting cannot start"}, format="json")
    assert resp.status_code == 200 and resp.json()["is_major"] is True
    assert resp.json()["major_reason"] == "Board meeting cannot start"
    assert [m.recipient for m in outbox(tenant_a, topic="major_incident")] == [TOP]
    # Declaring again changes nothing and tells nobody twice.
    assert api("agent").post(url, {"reason": "Again"}, format="json").json()["major_reason"] == (
        "Board meeting cannot start"
    )
    assert len(outbox(tenant_a, topic="major_incident")) == 1
    assert api("outsider_admin").post(url, {"reason": "x"}, format="json").status_code == 404


# --- guards -----------------------------------------------------------------------------------
def test_manager_required_before_leaving_new(api, declared, personas, tenant_a, reload):
    agent = api("agent")
    for name, reason in (("start", ""), ("assign", ""), ("cancel", "Not needed")):
        resp = take(agent, declared.pk, name, reason)
        assert resp.status_code == 400 and "major_manager" in resp.json(), (name, resp.content)
    assert reload(declared).state == "new"
    names = {t["name"]: t for t in agent.get(f"{INCIDENTS}{declared.pk}/transitions/").json()}
    assert any("major incident manager" in b for b in names["start"]["blocked_by"])
    url = f"{INCIDENTS}{declared.pk}/major-manager/"
    assert agent.post(url, {"major_manager": personas["outsider"].pk}, format="json").status_code == 400
    resp = agent.post(url, {"major_manager": personas["process_owner"].pk}, format="json")
    assert resp.status_code == 200 and resp.json()["major_manager"] == personas["process_owner"].pk
    assert take(agent, declared.pk, "start").json()["state"] == "in_progress"


def test_only_a_major_incident_has_a_manager(api, make_incident, personas):
    inc = make_incident()
    resp = api("agent").post(
        f"{INCIDENTS}{inc.pk}/major-manager/", {"major_manager": personas["agent"].pk}, format="json"
    )
    assert resp.status_code == 400 and "major_manager" in resp.json()


def test_review_required_to_close_and_management_told_of_resolution(api, declared, personas, tenant_a, reload):
    agent = api("agent")
    agent.post(f"{INCIDENTS}{declared.pk}/major-manager/", {"major_manager": personas["agent"].pk}, format="json")
    take(agent, declared.pk, "start")
    agent.patch(
        f"{INCIDENTS}{declared.pk}/", {"resolution_code": "fixed", "resolution_notes": "Cert replaced."}, format="json"
    )
    assert take(agent, declared.pk, "resolve").json()["state"] == "resolved"
    notices = outbox(tenant_a, topic="major_incident")
    assert [m.subject.split(":")[0] for m in notices] == [
        "[Acme IT Services] Major incident declared",
        "[Acme IT Services] Major incident resolved",
    ]
    assert "Cert replaced." in notices[1].body

    closing = take(api("process_owner"), declared.pk, "close")
    assert closing.status_code == 400 and "review" in closing.json()["detail"]
    reviews = "/api/v1/major-incident-reviews/"
    assert api("auditor").post(reviews, {"incident": declared.pk, **REVIEW}, format="json").status_code == 403
    bad = agent.post(reviews, {"incident": declared.pk, **REVIEW, "causes": "  "}, format="json")
    assert bad.status_code == 400 and "causes" in bad.json()
    created = agent.post(reviews, {"incident": declared.pk, **REVIEW, "held_on": "2026-03-03"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["is_complete"] is True
    assert agent.post(reviews, {"incident": declared.pk, **REVIEW}, format="json").status_code == 400  # one only
    assert take(api("process_owner"), declared.pk, "close").json()["state"] == "closed"
    assert reload(declared).state == "closed"


def test_review_only_for_major_incidents(api, make_incident):
    inc = make_incident()
    resp = api("agent").post("/api/v1/major-incident-reviews/", {"incident": inc.pk, **REVIEW}, format="json")
    assert resp.status_code == 400 and "incident" in resp.json()


def test_ordinary_incidents_close_without_a_review(api, make_incident, personas):
    inc = make_incident(assignee=personas["agent"])
    agent = api("agent")
    take(agent, inc.pk, "start")
    agent.patch(f"{INCIDENTS}{inc.pk}/", {"resolution_code": "fixed", "resolution_notes": "Done."}, format="json")
    take(agent, inc.pk, "resolve")
    assert take(agent, inc.pk, "close").json()["state"] == "closed"


# --- keeping the caller informed ---------------------------------------------------------------
def test_public_entries_and_state_changes_reach_the_caller(
    api, make_incident, personas, tenant_a, in_tenant, django_capture_on_commit_callbacks, settings
):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with in_tenant(tenant_a, personas["admin"]):
        caller = ContactFactory(email="pat@customer.example")
    inc = make_incident(caller=caller, assignee=personas["agent"])
    agent = api("agent")
    with django_capture_on_commit_callbacks(execute=True):
        agent.post(
            f"{INCIDENTS}{inc.pk}/journal/",
            {"body": "The relay is being restarted.", "visibility": "public"},
            format="json",
        )
        agent.post(
            f"{INCIDENTS}{inc.pk}/journal/",
            {"body": "Caller sounded annoyed; vendor ticket 991.", "visibility": "internal"},
            format="json",
        )
        take(agent, inc.pk, "start")
        take(agent, inc.pk, "hold", "Waiting for your log files")
    sent = outbox(tenant_a, topic="incident_update")
    assert [m.recipient for m in sent] == ["pat@customer.example"] * 3
    assert "The relay is being restarted." in sent[0].body
    assert "in progress" in sent[1].subject and "Waiting for your log files" in sent[2].body
    assert all("vendor ticket" not in m.body and "annoyed" not in m.body for m in sent)
    assert {m.status for m in sent} == {"sent"}
    assert len(mail.outbox) == 3
    # A refused transition sends nothing.
    assert take(agent, inc.pk, "resolve").status_code == 409
    assert len(outbox(tenant_a, topic="incident_update")) == 3


def test_no_caller_address_no_message(api, make_incident, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        caller = ContactFactory(email="")
    inc = make_incident(caller=caller, assignee=personas["agent"])
    api("agent").post(f"{INCIDENTS}{inc.pk}/journal/", {"body": "Update", "visibility": "public"}, format="json")
    take(api("agent"), inc.pk, "start")
    assert outbox(tenant_a) == []


# --- pages ------------------------------------------------------------------------------------
def test_major_incident_pages(web, make_incident, personas, tenant_a, reload):
    inc = make_incident(title="Payroll run stopped")
    page = f"/t/acme/incidents/{inc.pk}/"
    assert "Declare a major incident" in web("agent").get(page).content.decode()
    assert "Declare a major incident" not in web("auditor").get(page).content.decode()
    assert web("auditor").post(f"/t/acme/incidents/{inc.pk}/declare-major/", {"reason": "x"}).status_code == 403
    web("agent").post(f"/t/acme/incidents/{inc.pk}/declare-major/", {"reason": ""})
    assert reload(inc).is_major is False
    assert (
        web("agent").post(f"/t/acme/incidents/{inc.pk}/declare-major/", {"reason": "Salaries will be late"}).status_code
        == 302
    )
    assert reload(inc).is_major is True
    detail = web("agent").get(page).content.decode()
    assert "Salaries will be late" in detail and "None yet" in detail
    web("agent").post(f"/t/acme/incidents/{inc.pk}/major-manager/", {"major_manager": personas["process_owner"].pk})
    assert reload(inc).major_manager_id == personas["process_owner"].pk
    listing = web("top_management").get("/t/acme/major-incidents/").content.decode()
    assert "Payroll run stopped" in listing
    form = f"/t/acme/incidents/{inc.pk}/major-review/"
    assert web("auditor").get(form).status_code == 403
    assert web("agent").post(form, {**REVIEW, "causes": ""}).status_code == 200
    assert web("agent").post(form, REVIEW).status_code == 302
    with context.tenant_context(tenant_a):
        assert MajorIncidentReview.objects.get(incident=inc).is_complete
    assert "Recorded" in web("agent").get("/t/acme/major-incidents/").content.decode()
    assert web("outsider_admin").get(form).status_code == 404
    assert web("outsider_admin").get("/t/acme/major-incidents/").status_code == 404


def test_definition_page(web, tenant_a):
    url = "/t/acme/resolution/major-incident-definition/"
    assert "Priority P1 or higher" in web("agent").get(url).content.decode()
    assert "Save definition" not in web("agent").get(url).content.decode()
    assert web("agent").post(url, {"definition": "x", "max_priority": 2}).status_code == 403
    resp = web("admin").post(
        url, {"definition": "Whole service down.", "auto_declare": "on", "max_priority": 2, "service_criticality": ""}
    )
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        row = definition()
        assert (row.definition, row.max_priority, row.service_criticality) == ("Whole service down.", 2, "")


def test_open_major_incidents_on_management_home(web, declared):
    home = web("top_management").get("/t/acme/").content.decode()
    assert "Open major incidents" in home and declared.reference in home
    assert "Open major incidents" not in web("auditor").get("/t/acme/").content.decode()


def test_lists_use_a_fixed_number_of_queries(web, personas, tenant_a, in_tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sms.core.outbox import queue_mail

    client = web("admin")

    def count(url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def add(n):
        with in_tenant(tenant_a, personas["agent"]):
            for _ in range(n):
                inc = major_incident(personas, service=ServiceFactory(), assignee=personas["agent"])
                queue_mail([f"x{inc.pk}@example.test"], "S", "B", record=inc, topic="test")

    add(2)
    urls = ["/t/acme/major-incidents/?page_size=100", "/t/acme/outbox/?page_size=100"]
    [count(u) for u in urls]  # warm up: per-process caches (content types, session)
    few = [count(u) for u in urls]
    add(8)
    assert [count(u) for u in urls] == few
