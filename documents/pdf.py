"""PDF of a document version through WeasyPrint, with a controlled header and footer
(clause 4.3.2 d and f: identifiable and legible; h: obsolete copies marked).

Nothing is fetched while rendering: the HTML has no external references and the URL
fetcher refuses every URL, so a crafted link in the content cannot reach the network.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from .models import DocumentVersion


class FetchRefused(Exception):
    pass


def refuse_fetch(url: str, *args, **kwargs):
    raise FetchRefused(f"External resources are not loaded into document PDFs: {url}")


def pdf_html(version: DocumentVersion) -> str:
    """The HTML WeasyPrint lays out (kept separate so tests can read it)."""
    document = version.document
    return render_to_string("documents/version_pdf.html", {
        "version": version,
        "document": document,
        "printed_at": timezone.localtime(),
    })


def render_version_pdf(version: DocumentVersion) -> bytes:
    from weasyprint import HTML

    # The <title> and <meta name="description"> become the PDF's metadata, which
    # repeat the status so that even a file listing shows an obsolete copy.
    return HTML(string=pdf_html(version), url_fetcher=refuse_fetch, base_url="about:blank").write_pdf()


def pdf_filename(version: DocumentVersion) -> str:
    suffix = f"-{version.state}" if version.is_obsolete else ""
    return f"{version.document.reference}-v{version.number}{suffix}.pdf"
