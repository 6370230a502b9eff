"""Real Chromium (Debian's, driven by Playwright; never a downloaded browser): sign in,
switch tenant, see the role's home page, and use an htmx section of a record page."""

from __future__ import annotations

import pytest

from sms.tenancy.roles import Role
from sms.tenancy.services import add_member
from tests.conftest import PASSWORD, sign_in
from tests.factories import ImprovementFactory

pytestmark = pytest.mark.browser


def test_sign_in_switch_tenant_and_see_role_home(live_server, personas, tenant_a, tenant_b, in_tenant, browser_page,
                                                 artifacts):
    consultant = personas["auditor"]
    add_member(tenant_b, consultant, [Role.PROCESS_OWNER])
    with in_tenant(tenant_a, personas["agent"]):
        improvement = ImprovementFactory(title="Shorten the change lead time", owner=personas["process_owner"])
    page = browser_page

    page.goto(f"{live_server.url}/t/acme/")
    assert "/login/" in page.url  # sign-in first, then back to where we were going
    page.fill("#id_username", consultant.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/t/acme/")
    assert page.locator("h1").inner_text() == tenant_a.name
    assert "Auditor." in page.locator("main").inner_text()
    assert page.locator("#panel-my_improvements").count() == 0  # not an auditor's panel

    # Switch tenant from the bar at the top.
    page.click("#tenant-switcher summary")
    page.click(f"#tenant-switcher a[href='/t/{tenant_b.slug}/']")
    page.wait_for_url(f"{live_server.url}/t/{tenant_b.slug}/")
    assert page.locator("h1").inner_text() == tenant_b.name
    assert "Process owner." in page.locator("main").inner_text()
    assert page.locator("#panel-planned_due").count() == 1

    # Back in acme, as auditor: a record is readable, with no editing controls.
    page.goto(f"{live_server.url}/t/acme/improvements/")
    page.click(f"text={improvement.reference}")
    assert improvement.title in page.locator("h1").inner_text()
    assert page.locator("#journal textarea").count() == 0
    page.screenshot(path=str(artifacts / "home-and-record.png"), full_page=True)
    assert page.console_errors == []


def test_journal_entry_added_without_reload(live_server, personas, tenant_a, in_tenant, browser_page):
    with in_tenant(tenant_a, personas["agent"]):
        improvement = ImprovementFactory(owner=personas["process_owner"])
    page = browser_page
    sign_in(page, live_server, personas["agent"], then="/t/acme/")
    page.goto(f"{live_server.url}/t/acme/improvements/{improvement.pk}/")
    page.evaluate("window.__marker = 'same page'")
    page.fill("#journal-body", "Spoke to the process owner; agreed to pilot it.")
    page.click("#journal button[type=submit]")
    page.wait_for_selector("text=Spoke to the process owner")
    assert page.evaluate("window.__marker") == "same page"  # htmx swapped the section, no reload
    assert "Journal entry added." in page.locator("#messages").inner_text()
    assert page.console_errors == []
