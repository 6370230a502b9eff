"""Global search: full text over every kind, one query, tenant- and role-safe."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ImprovementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(personas, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        backup = ImprovementFactory(title="Verify nightly backups", description="Restore tests of the backup jobs.")
        other = ImprovementFactory(title="Faster onboarding", description="Fewer forms for new starters.")
        hostile = ImprovementFactory(title="Harden the portal",
                                     description="<script>alert('x')</script> escaping of backup pages")
    with in_tenant(tenant_b, personas["outsider"]):
        theirs = ImprovementFactory(title="Backup policy for Globex", description="Their backups.")
    return {"backup": backup, "other": other, "hostile": hostile, "theirs": theirs}


def refs(response):
    assert response.status_code == 200, response.content
    return [hit["reference"] for hit in response.json()["results"]]


def test_words_are_found_with_stemming_and_ranked(api, corpus):
    found = refs(api("auditor").get("/api/v1/search/", {"q": "backup"}))
    assert corpus["backup"].reference in found and corpus["hostile"].reference in found
    assert corpus["other"].reference not in found
    assert found[0] == corpus["backup"].reference  # title and text both match


def test_reference_is_an_exact_match_and_comes_first(api, corpus):
    found = refs(api("agent").get("/api/v1/search/", {"q": corpus["other"].reference.lower()}))
    assert found[0] == corpus["other"].reference


def test_a_reference_is_read_by_its_index_alone(api, corpus):
    """Full text can use no index under row-level security; a reference can, and is the
    common search (pasted from a mail): its record comes from one indexed lookup."""
    ref = corpus["other"].reference  # e.g. IMP-2
    prefix, number = ref.split("-")
    with CaptureQueriesContext(connection) as ctx:
        found = refs(api("agent").get("/api/v1/search/", {"q": f"{prefix.lower()}-0{number}"}))
    assert found == [ref]
    searches = [q["sql"] for q in ctx.captured_queries if "gov" in q["sql"] and "reference" in q["sql"]]
    assert searches and not [sql for sql in searches if "to_tsvector" in sql]
    # A reference that exists nowhere is searched as words (nothing here), not a 500.
    assert refs(api("agent").get("/api/v1/search/", {"q": f"{prefix}-987654"})) == []


def titles(response):
    assert response.status_code == 200, response.content
    return [hit["title"] for hit in response.json()["results"]]


def test_another_tenants_records_are_never_found(api, corpus):
    assert corpus["theirs"].title not in titles(api("agent").get("/api/v1/search/", {"q": "backup"}))
    assert titles(api("outsider").get("/api/v1/search/", {"q": "backup"})) == [corpus["theirs"].title]
    # References repeat across tenants (both have IMP-1); each finds only its own.
    assert titles(api("outsider").get("/api/v1/search/", {"q": "IMP-1"})) == [corpus["theirs"].title]


def test_bad_parameters_are_400(api, corpus):
    assert api("agent").get("/api/v1/search/").status_code == 400
    response = api("agent").get("/api/v1/search/", {"q": "backup", "kind": "nonsense"})
    assert response.status_code == 400 and "kind" in response.json()


def test_kind_filter(api, corpus):
    assert refs(api("agent").get("/api/v1/search/", {"q": "backup", "kind": "improvement"}))
    assert refs(api("agent").get("/api/v1/search/", {"q": "backup", "kind": "ci"})) == []


def test_one_query_whatever_the_number_of_hits(api, corpus, personas, tenant_a, in_tenant):
    client = api("agent")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/search/", {"q": "backup"}).status_code == 200
        return len(ctx.captured_queries)

    count()  # warm-up: first use of the token records its last use
    few = count()
    with in_tenant(tenant_a, personas["agent"]):
        for i in range(25):
            ImprovementFactory(title=f"Backup check {i}")
    assert count() == few


def test_page_escapes_user_text_in_highlights(web, corpus):
    page = web("agent").get("/t/acme/search/", {"q": "backup"}).content.decode()
    assert corpus["hostile"].reference in page
    assert "<script>alert" not in page
    assert "<mark>backup</mark>" in page.lower()


def test_headline_markup_is_escaped_before_highlighting():
    from sms.core.search import _headline

    html = _headline("<img src=x onerror=alert(1)> the \x02backup\x03 job")
    assert html == "&lt;img src=x onerror=alert(1)&gt; the <mark>backup</mark> job"


def test_page_without_words_shows_no_results_and_other_tenant_is_404(web, corpus):
    assert "Nothing matches" not in web("agent").get("/t/acme/search/").content.decode()
    assert web("outsider").get("/t/acme/search/", {"q": "backup"}).status_code == 404
    assert "Nothing matches" in web("agent").get("/t/acme/search/", {"q": "zebra"}).content.decode()


def test_documents_are_found_by_the_text_of_the_version_in_force(api, personas, tenant_a, in_tenant):
    from tests.factories import issued_version

    with in_tenant(tenant_a, personas["agent"]):
        version = issued_version(personas, content="Every emergency change is reviewed by the CAB afterwards.")
    hits = api("auditor").get("/api/v1/search/", {"q": "emergency reviewed"}).json()["results"]
    assert [(h["kind"], h["reference"]) for h in hits] == [("document", version.document.reference)]
