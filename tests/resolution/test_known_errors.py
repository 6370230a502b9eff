"""The known error database (clause 8.2): full-text search with service, CI and category
filters, matching known errors for an incident being logged, and linking one to an
incident (a record link and a journal entry)."""

import pytest
from django.contrib.contenttypes.models import ContentType

from processes.resolution import services_problems as sp
from processes.resolution.models import Incident, KnownError
from sms.core.models import JournalEntry, RecordLink
from sms.tenancy import context
from tests.factories import (
    CategoryFactory,
    ConfigurationItemFactory,
    IncidentFactory,
    KnownErrorFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db
KES = "/api/v1/known-errors/"


@pytest.fixture
def db_of_kes(personas, tenant_a):
    """Three known errors of tenant A with distinct words, services, CIs and categories."""
    with context.tenant_context(tenant_a, personas["agent"]):
        software = CategoryFactory(name="Software")
        mail = CategoryFactory(name="E-mail", parent=software)
        printing = CategoryFactory(name="Printing")
        mail_svc, print_svc = ServiceFactory(title="E-mail service"), ServiceFactory(title="Printing service")
        gateway, printer = ConfigurationItemFactory(title="Mail gateway"), ConfigurationItemFactory(title="Printer 3")
        mail_ke = KnownErrorFactory(
            title="Outbound mail stuck in queue",
            symptoms="Messages wait in the outbox for hours.",
            root_cause="Spam filter hangs on large attachments.",
            workaround="Restart the spam filter service.",
            category=mail,
            services=[mail_svc],
            affected_cis=[gateway],
        )
        print_ke = KnownErrorFactory(
            title="Printer jams with recycled paper",
            symptoms="Paper jam message J-13 in tray 2.",
            root_cause="Rollers do not grip light paper.",
            workaround="Use tray 1 for recycled paper.",
            category=printing,
            services=[print_svc],
            affected_cis=[printer],
        )
        retired = KnownErrorFactory(
            title="Old mail client crashes",
            symptoms="The client closes when opening attachments.",
            root_cause="A bug in the old client version.",
            workaround="Open attachments in the web mail.",
            category=mail,
        )
        retired.retire(reason="Fixed")
        retired.save()
    return {
        "mail": mail_ke,
        "print": print_ke,
        "retired": retired,
        "software": software,
        "mail_cat": mail,
        "printing": printing,
        "mail_svc": mail_svc,
        "print_svc": print_svc,
        "gateway": gateway,
        "printer": printer,
    }


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.content
    return [r["id"] for r in resp.json()["results"]]


# --- search --------------------------------------------------------------------------------------
def test_full_text_search_over_symptoms_cause_and_workaround(api, db_of_kes):
    client = api("agent")
    k = db_of_kes
    assert _ids(client.get(KES, {"q": "spam filter"})) == [k["mail"].pk]  # root cause and workaround
    assert _ids(client.get(KES, {"q": "jam"})) == [k["print"].pk]  # stemming: "jams", "jam"
    assert _ids(client.get(KES, {"q": "J-13"})) == [k["print"].pk]  # symptoms
    assert set(_ids(client.get(KES, {"q": "attachments"}))) == {k["mail"].pk, k["retired"].pk}
    assert _ids(client.get(KES, {"q": "attachments", "state": "open"})) == [k["mail"].pk]
    assert _ids(client.get(KES, {"q": "attachments -spam"})) == [k["retired"].pk]  # websearch syntax
    assert _ids(client.get(KES, {"q": k["print"].reference})) == [k["print"].pk]
    assert _ids(client.get(KES, {"q": "nothing-like-this"})) == []
    row = client.get(KES, {"q": "spam"}).json()["results"][0]
    assert row["rank"] > 0 and row["workaround"] == "Restart the spam filter service."


def test_search_filters_by_service_ci_and_category_tree(api, db_of_kes):
    client, k = api("agent"), db_of_kes
    assert _ids(client.get(KES, {"service": k["mail_svc"].pk})) == [k["mail"].pk]
    assert _ids(client.get(KES, {"ci": k["printer"].pk})) == [k["print"].pk]
    # A category includes its sub-categories.
    assert set(_ids(client.get(KES, {"category": k["software"].pk}))) == {k["mail"].pk, k["retired"].pk}
    assert _ids(client.get(KES, {"category": k["printing"].pk, "q": "paper"})) == [k["print"].pk]
    assert _ids(client.get(KES, {"category": k["printing"].pk, "q": "spam"})) == []
    assert client.get(KES, {"ci": "abc"}).status_code == 400


def test_search_uses_the_stored_vector_and_its_gin_index(db_of_kes, personas, tenant_a):
    """The search filters and ranks on the stored ``search_vector`` (a generated column
    kept up to date by PostgreSQL) behind a GIN index; editing the text updates it."""
    from django.db import connection

    with context.tenant_context(tenant_a, personas["agent"]):
        sql = str(sp.search_known_errors("spam").query)
        with connection.cursor() as cur:
            cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'resolution_ke_vector_idx'")
            indexdef = cur.fetchone()[0]
        ke = db_of_kes["print"]
        ke.workaround = "Ask the facilities desk for heavier paper."
        ke.symptoms = "Paper jam message J-13."
        ke.save()
        assert list(sp.search_known_errors("facilities")) == [ke]
        assert not sp.search_known_errors("tray").exists()
    assert '"search_vector" @@' in sql and "to_tsvector" not in sql
    assert "gin" in indexdef.lower() and "search_vector" in indexdef


# --- matching while logging an incident --------------------------------------------------------
def test_match_offers_open_known_errors_best_first(api, db_of_kes):
    client, k = api("agent"), db_of_kes
    resp = client.get(f"{KES}match/", {"title": "Mail stuck in outbox"})
    assert resp.status_code == 200
    body = resp.json()
    assert [r["id"] for r in body["results"]][:1] == [k["mail"].pk]
    assert k["retired"].pk not in [r["id"] for r in body["results"]]
    assert body["results"][0]["workaround"] == "Restart the spam filter service."
    # Service, category and CI weigh in even without matching words.
    by_service = client.get(f"{KES}match/", {"title": "Something odd", "service": k["print_svc"].pk}).json()
    assert [r["id"] for r in by_service["results"]] == [k["print"].pk]
    by_ci = client.get(f"{KES}match/", {"cis": [k["gateway"].pk]}).json()
    assert [r["id"] for r in by_ci["results"]] == [k["mail"].pk]
    # A sub-category of the known error's category still matches (the incident is more precise).
    assert client.get(f"{KES}match/", {}).json() == {"count": 0, "results": []}
    assert client.get(f"{KES}match/", {"service": "abc"}).status_code == 400
    assert client.get(f"{KES}match/", {"title": "'&|!:* <>"}).status_code == 200  # no tsquery syntax leaks


def test_match_for_an_existing_incident(api, db_of_kes, personas, tenant_a):
    k = db_of_kes
    with context.tenant_context(tenant_a, personas["agent"]):
        inc = IncidentFactory(title="Printer shows J-13", category=k["printing"], affected_cis=[k["printer"]])
    ids = [r["id"] for r in api("agent").get(f"{KES}match/", {"incident": inc.pk}).json()["results"]]
    assert ids[0] == k["print"].pk


def test_category_parent_of_incident_category_matches(db_of_kes, personas, tenant_a):
    k = db_of_kes
    with context.tenant_context(tenant_a, personas["agent"]):
        child = CategoryFactory(name="Outbound", parent=k["mail_cat"])
        found = sp.match_known_errors(title="Weird", category=child)
    assert [ke.pk for ke in found] == [k["mail"].pk]


# --- linking ---------------------------------------------------------------------------------------
def test_link_incident_records_link_and_journal(api, db_of_kes, personas, tenant_a):
    k = db_of_kes
    with context.tenant_context(tenant_a, personas["agent"]):
        inc = IncidentFactory(title="Mail stuck")
    client = api("agent")
    resp = client.post(f"{KES}{k['mail'].pk}/link-incident/", {"incident": inc.pk}, format="json")
    assert resp.status_code == 201, resp.content
    with context.tenant_context(tenant_a):
        link = RecordLink.objects.get(pk=resp.json()["link"])
        assert (link.source_id, link.target_id, link.link_type) == (inc.pk, k["mail"].pk, "caused_by")
        assert link.source_type == ContentType.objects.get_for_model(Incident)
        entry = JournalEntry.objects.get(content_type=ContentType.objects.get_for_model(Incident), object_id=inc.pk)
        assert k["mail"].reference in entry.body and "Restart the spam filter" in entry.body
        assert list(sp.linked_known_errors(inc)) == [KnownError.objects.get(pk=k["mail"].pk)]
    # Twice is refused; a retired known error is refused; bad ids are 400s.
    again = client.post(f"{KES}{k['mail'].pk}/link-incident/", {"incident": inc.pk}, format="json")
    assert again.status_code == 400 and "known_error" in again.json()
    retired = client.post(f"{KES}{k['retired'].pk}/link-incident/", {"incident": inc.pk}, format="json")
    assert retired.status_code == 400
    assert client.post(f"{KES}{k['mail'].pk}/link-incident/", {"incident": 999999}, format="json").status_code == 400
    assert client.post(f"{KES}{k['mail'].pk}/link-incident/", {}, format="json").status_code == 400
    # The incident's links show it from the incident's side.
    links = client.get(f"/api/v1/incidents/{inc.pk}/links/").json()["results"]
    assert [lk["target"]["reference"] for lk in links] == [k["mail"].reference]


def test_link_permissions_and_isolation(api, db_of_kes, personas, tenant_a, tenant_b):
    k = db_of_kes
    with context.tenant_context(tenant_a, personas["agent"]):
        inc = IncidentFactory()
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        theirs = IncidentFactory()
    url = f"{KES}{k['mail'].pk}/link-incident/"
    assert api("auditor").post(url, {"incident": inc.pk}, format="json").status_code == 403
    assert api("agent").post(url, {"incident": theirs.pk}, format="json").status_code == 400
    outsider = api("outsider_admin")
    assert outsider.post(url, {"incident": theirs.pk}, format="json").status_code == 404
    assert outsider.get(f"{KES}match/", {"title": "spam filter mail"}).json()["count"] == 0
    assert outsider.get(KES, {"q": "spam"}).json()["count"] == 0


def test_known_error_api_create_and_retire(api, db_of_kes):
    client = api("agent")
    assert client.post(KES, {"title": "x", "workaround": " "}, format="json").status_code == 400
    assert client.post(KES, {"title": "x"}, format="json").status_code == 400
    resp = client.post(
        KES,
        {
            "title": "VPN drops on hotel Wi-Fi",
            "workaround": "Use the TCP profile.",
            "services": [db_of_kes["mail_svc"].pk],
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    ke = resp.json()
    assert ke["reference"].startswith("KE-") and ke["state"] == "open"
    assert client.post(f"{KES}{ke['id']}/transitions/retire/", {}, format="json").status_code == 400  # reason
    resp = client.post(f"{KES}{ke['id']}/transitions/retire/", {"reason": "Fixed by CHG-3"}, format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "retired" and resp.json()["retired_at"]
    assert client.patch(f"{KES}{ke['id']}/", {"title": "y"}, format="json").status_code == 400
    assert api("auditor").post(KES, {"title": "x", "workaround": "y"}, format="json").status_code == 403


def test_global_search_finds_known_errors_by_workaround(web, db_of_kes):
    page = web("agent").get("/t/acme/search/", {"q": "tray"}).content.decode()
    assert db_of_kes["print"].reference in page and db_of_kes["mail"].reference not in page
