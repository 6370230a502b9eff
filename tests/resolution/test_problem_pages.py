"""Browser pages of problem management (clause 8.2): problems (list, create, detail,
edit, transitions, reviews), the known error database (search, create, detail), known
errors offered on the incident form and the incident page, the trends page (8.2, 6.6.3),
the trend settings, permissions and tenant isolation of every new page."""

import pytest
from django.contrib.contenttypes.models import ContentType

from processes.resolution.models import Incident, KnownError, Problem, ResolutionSettings
from sms.core.models import JournalEntry, RecordLink
from sms.tenancy import context
from tests.factories import (
    CategoryFactory,
    ConfigurationItemFactory,
    IncidentFactory,
    KnownErrorFactory,
    ProblemFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db
PROBLEMS = "/t/acme/problems/"
KES = "/t/acme/known-errors/"
TRENDS = "/t/acme/resolution/trends/"


@pytest.fixture
def objs(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        category, service, ci = CategoryFactory(name="Mail"), ServiceFactory(title="E-mail"), ConfigurationItemFactory()
        incident = IncidentFactory(title="Mail stuck in outbox", category=category, service=service, affected_cis=[ci])
        problem = ProblemFactory(title="Mail delays", owner=personas["process_owner"], incidents=[incident])
        ke = KnownErrorFactory(
            title="Outbound mail queue stalls",
            workaround="Restart the spam filter service.",
            category=category,
            services=[service],
            problem=problem,
        )
    return {"category": category, "service": service, "ci": ci, "incident": incident, "problem": problem, "ke": ke}


def _html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


# --- problems ------------------------------------------------------------------------------------
def test_problem_list_detail_and_empty_state(web, objs):
    page = _html(web("auditor").get(PROBLEMS))
    assert objs["problem"].reference in page and f"{PROBLEMS}new/" not in page
    assert "No problems match" in _html(web("agent").get(PROBLEMS, {"state": "closed"}))
    detail = _html(web("agent").get(f"{PROBLEMS}{objs['problem'].pk}/"))
    assert objs["incident"].reference in detail and objs["ke"].reference in detail
    assert "Start investigation" in detail and "Problem reviews" in detail
    assert web("agent").get(PROBLEMS, {"state": "nonsense"}).status_code == 200


def test_empty_problem_list(web, personas):
    assert "No problems recorded" in _html(web("agent").get(PROBLEMS))


def test_agent_raises_a_problem_from_incidents(web, objs, personas, tenant_a):
    client = web("agent")
    form = _html(client.get(f"{PROBLEMS}new/", {"incident": objs["incident"].pk}))
    assert 'name="needs_change"' in form and "Mail stuck in outbox" in form
    resp = client.post(
        f"{PROBLEMS}new/",
        {
            "title": "Outbound mail keeps stalling",
            "incidents": [objs["incident"].pk],
            "services": [objs["service"].pk],
            "category": objs["category"].pk,
            "impact": 1,
            "urgency": 2,
            "owner": personas["process_owner"].pk,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    with context.tenant_context(tenant_a):
        prb = Problem.objects.get(title="Outbound mail keeps stalling")
        assert prb.priority == 2 and list(prb.incidents.all()) == [objs["incident"]]
    # Overriding the matrix needs a reason.
    resp = client.post(
        f"{PROBLEMS}{prb.pk}/edit/",
        {"title": prb.title, "impact": 1, "urgency": 2, "priority_override": 5},
    )
    assert resp.status_code == 200 and "give the reason" in resp.content.decode()
    assert web("auditor").get(f"{PROBLEMS}new/").status_code == 403


def test_transitions_guard_and_review_in_the_browser(web, objs, personas, tenant_a):
    prb = objs["problem"]
    client = web("agent")
    base = f"/t/acme/records/problem/{prb.pk}/transitions/"
    client.post(
        f"{PROBLEMS}{prb.pk}/edit/",
        {
            "title": prb.title,
            "impact": 2,
            "urgency": 2,
            "assignee": personas["agent"].pk,
            "root_cause": "Spam filter hangs.",
            "resolution_notes": "Filter replaced.",
            "needs_change": "on",
            "incidents": [objs["incident"].pk],
        },
    )
    assert client.post(f"{base}investigate/").status_code == 302
    resp = client.post(f"{base}resolve/", follow=True)
    assert "request for change" in resp.content.decode()
    with context.tenant_context(tenant_a):
        assert Problem.objects.get(pk=prb.pk).state == "under_investigation"
    assert "Request for change needed" in _html(client.get(f"{PROBLEMS}{prb.pk}/"))
    with context.tenant_context(tenant_a):
        p = Problem.objects.get(pk=prb.pk)
        p.rfc_reference = "CHG-9"
        p.save()
    client.post(f"{base}resolve/")
    detail = _html(client.get(f"{PROBLEMS}{prb.pk}/"))
    assert "Record a review" in detail
    # A review with nothing learnt is refused with the field's message.
    bad = client.post(f"{PROBLEMS}{prb.pk}/reviews/", {"reviewed_on": "2026-03-02", "root_cause_removed": "yes"})
    assert bad.status_code == 400
    assert web("auditor").post(f"{PROBLEMS}{prb.pk}/reviews/", {}).status_code == 403
    ok = client.post(
        f"{PROBLEMS}{prb.pk}/reviews/",
        {"reviewed_on": "2026-03-02", "root_cause_removed": "yes", "lessons_learned": "Patch the filter sooner."},
    )
    assert ok.status_code == 302
    assert "Patch the filter sooner." in _html(client.get(f"{PROBLEMS}{prb.pk}/"))
    web("process_owner").post(f"{base}close/")
    with context.tenant_context(tenant_a):
        assert Problem.objects.get(pk=prb.pk).state == "closed"
        assert KnownError.objects.get(pk=objs["ke"].pk).state == "retired"


# --- known errors --------------------------------------------------------------------------------
def test_known_error_database_search_and_pages(web, objs, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        KnownErrorFactory(title="Printer jams", symptoms="J-13", root_cause="Rollers", workaround="Use tray 1.")
    client = web("auditor")
    page = _html(client.get(KES))
    assert "Known error database" in page and f"{KES}new/" not in page
    found = _html(client.get(KES, {"q": "spam filter"}))
    assert objs["ke"].reference in found and "Printer jams" not in found
    assert "Printer jams" in _html(client.get(KES, {"q": "jam", "sort": "-number"}))
    assert objs["ke"].reference in _html(client.get(KES, {"category": objs["category"].pk}))
    assert "Restart the spam filter" in _html(client.get(f"{KES}{objs['ke'].pk}/"))
    agent = web("agent")
    resp = agent.post(f"{KES}new/", {"title": "VPN drops", "workaround": " ", "owner": personas["agent"].pk})
    assert resp.status_code == 200 and "Describe the workaround" in resp.content.decode()
    resp = agent.post(f"{KES}new/", {"title": "VPN drops", "workaround": "Use TCP.", "owner": personas["agent"].pk})
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        assert KnownError.objects.get(title="VPN drops").reference.startswith("KE-")


def test_empty_known_error_database(web, personas):
    assert "The known error database is empty" in _html(web("agent").get(KES))


def test_suggestions_fragment_while_logging(web, objs):
    client = web("agent")
    frag = _html(client.get(f"{KES}suggest/", {"title": "mail stuck in the queue"}))
    assert objs["ke"].reference in frag and "Restart the spam filter service." in frag
    assert 'name="link_known_errors"' in frag
    by_service = _html(client.get(f"{KES}suggest/", {"title": "", "service": objs["service"].pk}))
    assert objs["ke"].reference in by_service
    assert "No known error matches" in _html(client.get(f"{KES}suggest/", {"title": "zebra"}))
    assert _html(client.get(f"{KES}suggest/", {"service": "x", "category": "'", "affected_cis": ["a"]})) is not None
    form = _html(client.get("/t/acme/incidents/new/"))
    assert "known-error-suggestions" in form and f"{KES}suggest/" in form


def test_logging_an_incident_links_the_ticked_known_errors(web, objs, personas, tenant_a):
    resp = web("agent").post(
        "/t/acme/incidents/new/",
        {
            "title": "Mail stuck again",
            "impact": 2,
            "urgency": 2,
            "channel": "phone",
            "owner": personas["agent"].pk,
            "link_known_errors": [objs["ke"].pk, 999999],
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    with context.tenant_context(tenant_a):
        inc = Incident.objects.get(title="Mail stuck again")
        assert RecordLink.objects.filter(source_id=inc.pk, target_id=objs["ke"].pk, link_type="caused_by").exists()
        ct = ContentType.objects.get_for_model(Incident)
        assert JournalEntry.objects.filter(
            content_type=ct, object_id=inc.pk, body__contains="Restart the spam"
        ).exists()


def test_incident_page_offers_and_links_known_errors(web, objs, tenant_a):
    inc = objs["incident"]
    url = f"/t/acme/incidents/{inc.pk}/known-errors/"
    assert url in _html(web("agent").get(f"/t/acme/incidents/{inc.pk}/"))
    panel = _html(web("agent").get(url))
    assert objs["ke"].reference in panel and "Link to" in panel
    assert objs["problem"].reference in panel and f"problems/new/?incident={inc.pk}" in panel
    assert "Link to" not in _html(web("auditor").get(url))
    assert web("auditor").post(url, {"known_error": objs["ke"].pk}).status_code == 403
    resp = web("agent").post(url, {"known_error": objs["ke"].pk}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and "No known error linked" not in resp.content.decode()
    with context.tenant_context(tenant_a):
        assert RecordLink.objects.filter(source_id=inc.pk, target_id=objs["ke"].pk).count() == 1
    # Twice: refused with a message, nothing new.
    web("agent").post(url, {"known_error": objs["ke"].pk})
    web("agent").post(url, {"known_error": "abc"})
    with context.tenant_context(tenant_a):
        assert RecordLink.objects.filter(source_id=inc.pk, target_id=objs["ke"].pk).count() == 1


# --- trends --------------------------------------------------------------------------------------
def test_trends_page_tables_and_period_filter(web, objs, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        IncidentFactory(title="Phish", is_security=True, category=objs["category"], impact=1)
    page = _html(web("auditor").get(TRENDS))
    for heading in ("Per week", "Per service", "Per CI", "Per category", "Information security incidents"):
        assert heading in page
    assert "E-mail" in page and "Run the trend check now" not in page
    assert "Per month" in _html(web("agent").get(TRENDS, {"period": "month", "start": "2026-01-01"}))
    bad = _html(web("agent").get(TRENDS, {"start": "2026-05-01", "end": "2026-04-01"}))
    assert "The start is after the end." in bad
    future = _html(web("agent").get(TRENDS, {"start": "2999-01-01"}))
    assert "after its end" in future


def test_trend_check_from_the_page(web, objs, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        ResolutionSettings.objects.update(repeat_count=2)
        for _ in range(2):
            IncidentFactory(category=objs["category"], affected_cis=[objs["ci"]])
    assert "Run the trend check now" in _html(web("agent").get(TRENDS))
    assert web("auditor").post(f"{TRENDS}check/").status_code == 403
    resp = web("agent").post(f"{TRENDS}check/", follow=True)
    assert "Problems proposed: PRB-" in resp.content.decode()
    web("agent").post(f"{TRENDS}check/")
    with context.tenant_context(tenant_a):
        assert Problem.objects.filter(origin="trend").count() == 1


def test_trend_settings_on_the_setup_page(web, tenant_a):
    resp = web("admin").post(
        "/t/acme/resolution/setup/",
        {"form": "settings", "reopen_days": 10, "at_risk_percent": 75, "repeat_count": 4, "repeat_days": 30},
    )
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        row = ResolutionSettings.objects.get()
        assert (row.repeat_count, row.repeat_days) == (4, 30)
    resp = web("admin").post(
        "/t/acme/resolution/setup/",
        {"form": "settings", "reopen_days": 10, "at_risk_percent": 75, "repeat_count": 1, "repeat_days": 30},
    )
    assert resp.status_code == 200
    assert "4 incidents on one CI" in _html(web("agent").get("/t/acme/resolution/setup/"))


# --- isolation -----------------------------------------------------------------------------------
def test_other_tenant_sees_none_of_it(web, objs):
    outsider = web("outsider")
    for url in (
        f"{PROBLEMS}{objs['problem'].pk}/",
        f"{PROBLEMS}{objs['problem'].pk}/edit/",
        f"{KES}{objs['ke'].pk}/",
        f"{KES}{objs['ke'].pk}/edit/",
        f"/t/acme/incidents/{objs['incident'].pk}/known-errors/",
        PROBLEMS,
        KES,
        TRENDS,
        f"{KES}suggest/?title=mail",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"{PROBLEMS}{objs['problem'].pk}/reviews/", {}).status_code == 404
    assert outsider.post(f"{TRENDS}check/").status_code == 404
    # In their own tenant, A's records do not exist.
    assert outsider.get(f"/t/globex/problems/{objs['problem'].pk}/").status_code == 404
    assert outsider.get(f"/t/globex/known-errors/{objs['ke'].pk}/").status_code == 404
    assert outsider.get(f"/t/globex/incidents/{objs['incident'].pk}/known-errors/").status_code == 404
    page = outsider.get("/t/globex/known-errors/suggest/", {"title": "mail stuck queue"}).content.decode()
    assert objs["ke"].reference not in page
    assert objs["ke"].reference not in outsider.get("/t/globex/known-errors/", {"q": "spam"}).content.decode()
    trends = outsider.get("/t/globex/resolution/trends/").content.decode()
    assert "E-mail" not in trends


# --- fixed number of queries whatever the page size -----------------------------------------------
@pytest.mark.parametrize("url", [PROBLEMS, KES, f"{KES}?q=mail", TRENDS])
def test_list_pages_query_count_does_not_grow(url, web, personas, tenant_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web("agent")

    def make(n):
        with context.tenant_context(tenant_a, personas["agent"]):
            for _ in range(n):
                category = CategoryFactory(parent=CategoryFactory())
                incident = IncidentFactory(category=category, affected_cis=[ConfigurationItemFactory()])
                ProblemFactory(
                    category=category, assignee=personas["agent"], owner=personas["agent"], incidents=[incident]
                )
                KnownErrorFactory(title="Mail queue", category=category, problem=ProblemFactory())

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    make(2)
    count()
    few = count()
    make(12)
    assert count() == few


def test_service_desk_fast_logging_offers_and_links_known_errors(web, objs, personas, tenant_a):
    client = web("agent")
    assert f"{KES}suggest/" in _html(client.get("/t/acme/desk/"))
    resp = client.post(
        "/t/acme/desk/",
        {"title": "Outbox stuck", "impact": 2, "urgency": 2, "channel": "phone", "link_known_errors": objs["ke"].pk},
    )
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        inc = Incident.objects.get(title="Outbox stuck")
        assert RecordLink.objects.filter(source_id=inc.pk, target_id=objs["ke"].pk, link_type="caused_by").exists()
