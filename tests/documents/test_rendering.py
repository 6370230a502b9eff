"""Safe Markdown, and obsolete marking in the page and the PDF."""

from __future__ import annotations

import pytest

from documents.markdown import render_markdown
from documents.pdf import pdf_html, render_version_pdf
from sms.tenancy import context
from tests.factories import DocumentVersionFactory

EVIL = (
    "# Heading\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
    "[click](javascript:alert(1)) <a href=\"https://example.org\" onclick=\"steal()\">ok</a>\n\n"
    "<iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>"
)


def test_markdown_is_sanitised():
    html = str(render_markdown(EVIL))
    assert "<h1>Heading</h1>" in html
    for bad in ("<script", "alert('x')", "onerror", "javascript:", "onclick", "<iframe", "<style", "<img"):
        assert bad not in html, bad
    assert 'href="https://example.org"' in html


def test_script_never_reaches_the_page_or_the_api(api, web, personas, tenant_a, document):
    with context.tenant_context(tenant_a, personas["admin"]):
        version = DocumentVersionFactory(document=document, content=EVIL)
    page = web("auditor").get(f"/t/acme/documents/versions/{version.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>Heading</h1>" in body
    assert "<script>alert" not in body and "onerror" not in body and "javascript:alert" not in body
    api_html = api("auditor").get(f"/api/v1/document-versions/{version.pk}/").json()["content_html"]
    assert "<script" not in api_html and "onerror" not in api_html
    assert "<script>alert" not in pdf_html(version) and "onerror" not in pdf_html(version)


def _pdf_text(pdf_source_html: str) -> str:
    """Text WeasyPrint lays out on the pages, margin boxes (header, footer) included."""
    from weasyprint import HTML

    from documents.pdf import refuse_fetch

    doc = HTML(string=pdf_source_html, url_fetcher=refuse_fetch, base_url="about:blank").render()
    texts: list[str] = [doc.metadata.title or "", "\f"]

    def walk(box):
        text = getattr(box, "text", None)
        if isinstance(text, str):
            texts.append(text)
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in doc.pages:
        walk(page._page_box)
        texts.append("\f")
    return " ".join(texts)


def test_pdf_has_controlled_header_and_footer(personas, tenant_a, document, issue):
    version = issue(document)
    with context.tenant_context(tenant_a):
        version.refresh_from_db()
        pdf = render_version_pdf(version)
        text = _pdf_text(pdf_html(version))
    assert pdf.startswith(b"%PDF-")
    assert document.reference in text and "Change management procedure" in text
    assert "Version 1 · Issued" in text
    assert "Approved by acme-process_owner" in text
    assert "Page 1 of 1" in text
    assert "SUPERSEDED" not in text and "not for use" not in text


def test_superseded_pdf_is_watermarked(personas, tenant_a, document, issue):
    old = issue(document)
    issue(document)
    with context.tenant_context(tenant_a):
        old.refresh_from_db()
        pdf = render_version_pdf(old)
        text = _pdf_text(pdf_html(old))
    assert pdf.startswith(b"%PDF-")
    assert "SUPERSEDED" in text.upper()
    # The watermark is a fixed box, repeated on every page.
    title, *pages = text.split("\f")[:-1]
    assert "SUPERSEDED" in title  # the PDF's title metadata carries the status
    assert pages and all("SUPERSEDED" in p for p in pages)
    assert "Version 1 · Superseded" in text


def test_pdf_fetches_nothing(personas, tenant_a, document, monkeypatch):
    import documents.pdf as pdf_module

    fetched: list[str] = []

    def record(url, *args, **kwargs):
        fetched.append(url)
        raise pdf_module.FetchRefused(url)

    monkeypatch.setattr(pdf_module, "refuse_fetch", record)
    with context.tenant_context(tenant_a, personas["admin"]):
        version = DocumentVersionFactory(document=document, content="[x](https://example.org/a.png)")
        assert render_version_pdf(version).startswith(b"%PDF-")
    assert fetched == []


@pytest.mark.parametrize("state", ["superseded", "withdrawn"])
def test_obsolete_banner_in_the_page(web, personas, tenant_a, document, issue, state):
    from sms.core.workflow import run_transition

    old = issue(document)
    if state == "superseded":
        issue(document)
    else:
        with context.tenant_context(tenant_a, personas["process_owner"]):
            run_transition(old, "withdraw", by=personas["process_owner"], reason="Wrong process")
    body = web("agent").get(f"/t/acme/documents/versions/{old.pk}/").content.decode()
    assert 'id="obsolete-banner"' in body and "not for use" in body
    assert 'id="acknowledge"' not in body
    resp = web("agent").get(f"/t/acme/documents/versions/{old.pk}/pdf/")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
