"""Real Chromium (as in tests/browser): draft a version, send it to review, approve it as
another user, issue it, and see the old version marked obsolete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("SMS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    return live_server


@pytest.fixture
def chromium(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        errors: list[str] = []

        def new_page():
            page = browser.new_context().new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            return page

        new_page.errors = errors
        yield new_page
        browser.close()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/t/acme/")


def test_draft_review_approve_issue_and_obsolete_marking(live_server, personas, tenant_a, in_tenant, chromium):
    from tests.factories import DocumentFactory, issued_version

    with in_tenant(tenant_a, personas["process_owner"]):
        document = DocumentFactory(title="Incident procedure", owner=personas["process_owner"])
        old = issued_version(personas, document=document, content="# Old procedure\n\nCall the desk.")
    base = live_server.url

    # The administrator drafts version 2 and sends it to review.
    author = chromium()
    sign_in(author, base, personas["admin"].username)
    author.goto(f"{base}/t/acme/documents/")
    author.click(f"text={document.reference}")
    author.click("#new-version")
    author.fill("#id_change_summary", "Escalate after 30 minutes")
    author.fill("#id_reason", "Major incident review")
    author.fill("#id_content", "# New procedure\n\n1. Log it.\n2. Escalate after 30 minutes.")
    author.click("main form.stacked button[type=submit]")
    author.wait_for_selector("#draft-banner")
    assert "Draft" in author.locator("#version-state").inner_text()
    author.click("#do-submit")
    author.wait_for_selector("text=Version 2: in review.")
    assert author.locator("#do-approve").count() == 0  # the administrator cannot approve
    version_url = author.url

    # A process owner approves and issues it.
    approver = chromium()
    sign_in(approver, base, personas["process_owner"].username)
    assert "Document versions waiting for approval" in approver.locator("main").inner_text()
    approver.goto(version_url)
    approver.click("#do-approve")
    approver.wait_for_selector("text=Version 2: approved.")
    assert "acme-process_owner" in approver.locator("#approver").inner_text()
    approver.click("#do-issue")
    approver.wait_for_selector("text=Version 2: issued.")
    assert approver.locator("#version-state").inner_text() == "Issued"
    assert approver.locator("#obsolete-banner").count() == 0

    # The document page shows version 2 in force; version 1 is marked obsolete.
    approver.goto(f"{base}/t/acme/documents/{document.pk}/")
    assert "Version 2 (in force)" in approver.locator("#current-version").inner_text()
    assert "New procedure" in approver.locator("#current-version").inner_text()
    approver.click("#versions tr[data-version='1'] a")
    approver.wait_for_selector("#obsolete-banner")
    banner = approver.locator("#obsolete-banner").inner_text().lower()
    assert "superseded" in banner and "not for use" in banner and "replaced by version 2" in banner
    assert approver.url.endswith(f"/documents/versions/{old.pk}/")
    ARTIFACTS.mkdir(exist_ok=True)
    approver.screenshot(path=str(ARTIFACTS / "document-obsolete-version.png"), full_page=True)
    assert chromium.errors == []
