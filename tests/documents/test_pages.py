"""Browser pages: register (with overdue highlighting and fixed queries), document page,
drafting, transitions, acknowledgement, distribution, permissions and isolation."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import Acknowledgement, Document, DocumentVersion
from sms.tenancy import context
from tests.factories import DocumentFactory


def test_register_shows_status_and_highlights_overdue_reviews(web, personas, tenant_a, document, issue):
    issue(document)
    with context.tenant_context(tenant_a, personas["process_owner"]):
        late = DocumentFactory(title="Overdue policy", owner=personas["process_owner"],
                               next_review_date=dt.date.today() - dt.timedelta(days=5))
    resp = web("auditor").get("/t/acme/documents/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Document register" in body and document.reference in body
    assert f'class="overdue" data-reference="{late.reference}"' in body
    assert f'class="" data-reference="{document.reference}"' in body
    assert "acme-process_owner" in body
    csv = web("auditor").get("/t/acme/documents/register.csv?review_overdue=true")
    assert csv.status_code == 200 and late.reference in csv.content.decode()
    assert document.reference not in csv.content.decode()


def test_register_queries_do_not_grow_with_rows(web, personas, tenant_a, issue):
    client = web("auditor")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/t/acme/documents/?page_size=100").status_code == 200
        return len(ctx.captured_queries)

    with context.tenant_context(tenant_a, personas["process_owner"]):
        docs = [DocumentFactory() for _ in range(2)]
    issue(docs[0])
    count()
    few = count()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        more = [DocumentFactory() for _ in range(6)]
    for d in more[:3]:
        issue(d)
    assert count() == few


def test_draft_review_approve_issue_in_the_browser(web, personas, tenant_a, document, issue):
    old = issue(document)
    admin, owner = web("admin"), web("process_owner")
    resp = admin.post(f"/t/acme/documents/{document.pk}/versions/new/", {
        "change_summary": "Adds emergency changes", "reason": "Audit finding", "content": "# New\n\nText",
    })
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        version = DocumentVersion.objects.get(document=document, number=2)
    base = f"/t/acme/documents/versions/{version.pk}/"
    assert admin.post(base + "transitions/submit/").status_code == 302
    # The admin may not approve (no document.approve): 403, version unchanged.
    assert admin.post(base + "transitions/approve/").status_code == 403
    page = owner.get(base).content.decode()
    assert 'id="do-approve"' in page
    assert owner.post(base + "transitions/approve/").status_code == 302
    assert owner.post(base + "transitions/issue/").status_code == 302
    with context.tenant_context(tenant_a):
        assert DocumentVersion.objects.get(pk=version.pk).state == "issued"
        assert DocumentVersion.objects.get(pk=old.pk).state == "superseded"
    page = web("agent").get(f"/t/acme/documents/{document.pk}/").content.decode()
    assert "Version 2 (in force)" in page and "<h1>New</h1>" in page


def test_author_sees_no_approve_button(web, personas, tenant_a, document):
    owner = web("process_owner")
    owner.post(f"/t/acme/documents/{document.pk}/versions/new/", {"change_summary": "x", "content": "y"})
    with context.tenant_context(tenant_a):
        version = DocumentVersion.objects.get(document=document)
    owner.post(f"/t/acme/documents/versions/{version.pk}/transitions/submit/")
    page = owner.get(f"/t/acme/documents/versions/{version.pk}/").content.decode()
    assert 'id="do-approve"' not in page
    assert owner.post(f"/t/acme/documents/versions/{version.pk}/transitions/approve/").status_code == 403


def test_acknowledge_in_the_browser_and_home_panel(web, personas, tenant_a, document, issue):
    owner = web("process_owner")
    owner.post(f"/t/acme/documents/{document.pk}/distribution/", {"recipient": "role:agent"})
    version = issue(document)
    agent = web("agent")
    home = agent.get("/t/acme/").content.decode()
    assert 'id="panel-documents_to_acknowledge"' in home and f"{document.reference} v1" in home
    page = agent.get(f"/t/acme/documents/versions/{version.pk}/").content.decode()
    assert 'id="acknowledge"' in page
    assert agent.post(f"/t/acme/documents/versions/{version.pk}/acknowledge/").status_code == 302
    with context.tenant_context(tenant_a):
        assert Acknowledgement.objects.get(version=version, user=personas["agent"]).acknowledged_at
    assert f"{document.reference} v1" not in agent.get("/t/acme/").content.decode()
    page = owner.get(f"/t/acme/documents/versions/{version.pk}/").content.decode()
    assert "1 asked, 0 outstanding" in page


def test_owner_home_shows_documents_due_for_review(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        doc = DocumentFactory(owner=personas["process_owner"], next_review_date=dt.date.today() + dt.timedelta(days=3))
    home = web("process_owner").get("/t/acme/").content.decode()
    assert 'id="panel-documents_due_for_review"' in home and doc.reference in home
    assert 'id="panel-documents_due_for_review"' not in web("auditor").get("/t/acme/").content.decode()


def test_auditor_reads_but_cannot_change(web, personas, tenant_a, document, issue):
    version = issue(document)
    auditor = web("auditor")
    page = auditor.get(f"/t/acme/documents/{document.pk}/").content.decode()
    assert "Draft a new version" not in page and "Record a review" not in page
    assert auditor.get(f"/t/acme/documents/{document.pk}/versions/new/").status_code == 403
    assert auditor.post(f"/t/acme/documents/{document.pk}/review/").status_code == 403
    add = {"recipient": "role:agent"}
    assert auditor.post(f"/t/acme/documents/{document.pk}/distribution/", add).status_code == 403
    assert auditor.post(f"/t/acme/documents/versions/{version.pk}/transitions/withdraw/",
                        {"reason": "x"}).status_code == 403
    assert auditor.get("/t/acme/documents/new/").status_code == 403


def test_create_document_in_the_browser(web, tenant_a):
    resp = web("process_owner").post("/t/acme/documents/new/", {
        "title": "Capacity plan", "document_type": "plan", "classification": "internal",
        "processes": ["Capacity management"], "clauses": "6.5, 4.3", "review_interval_months": 12,
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    with context.tenant_context(tenant_a):
        doc = Document.objects.get(title="Capacity plan")
        assert doc.clauses == ["4.3", "6.5"] and doc.processes == ["Capacity management"]
    bad = web("process_owner").post("/t/acme/documents/new/", {
        "title": "X", "document_type": "external", "classification": "internal", "review_interval_months": 12,
    })
    assert bad.status_code == 200 and "Say who issued" in bad.content.decode()


def test_other_tenant_gets_404(web, document, issue):
    version = issue(document)
    outsider = web("outsider")
    for path in (f"/t/acme/documents/{document.pk}/", f"/t/acme/documents/versions/{version.pk}/",
                 f"/t/acme/documents/versions/{version.pk}/pdf/", "/t/acme/documents/"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.get(f"/t/globex/documents/versions/{version.pk}/").status_code == 404
    assert outsider.get(f"/t/globex/documents/{document.pk}/").status_code == 404
    assert outsider.post(f"/t/globex/documents/versions/{version.pk}/acknowledge/").status_code == 404
