"""Real Chromium: a manager requests a laptop from the catalogue (the form generated from
the item's questions), the process owner approves it from their approvals list, and the
agent works the tasks and fulfils it."""

from __future__ import annotations

import pytest

from processes.resolution.models import ServiceRequest
from tests.conftest import sign_in
from tests.factories_requests import CatalogueItemFactory

pytestmark = pytest.mark.browser


def test_request_approve_and_fulfil(live_server, personas, tenant_a, in_tenant, browser_page, artifacts):
    with in_tenant(tenant_a, personas["admin"]):
        item = CatalogueItemFactory(name="New laptop", approval="role", approver_role="process_owner")
    page = browser_page
    sign_in(page, live_server, personas["top_management"], then="/t/acme/")
    page.goto(f"{live_server.url}/t/acme/requests/catalogue/")
    page.click("a.button:has-text('Request')")
    page.select_option("#id_a_model", "15-inch")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("text=an answer is required")  # the date was left out
    page.fill("#id_a_needed_by", "2026-04-01")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("h1 >> text=Awaiting approval")
    page.screenshot(path=str(artifacts / "request-submitted.png"), full_page=True)
    with in_tenant(tenant_a):
        req = ServiceRequest.objects.get(catalogue_item=item)

    page.context.clear_cookies()
    sign_in(page, live_server, personas["process_owner"], then="/t/acme/")
    page.goto(f"{live_server.url}/t/acme/requests/approvals/")
    page.click(f"a:has-text('{req.reference}')")
    page.click("summary:has-text('Approve')")
    page.fill("#reason-approve", "Replacement within the hardware budget.")
    page.click("details[open] button:has-text('Approve')")
    page.wait_for_selector("h1 >> text=Approved")

    page.context.clear_cookies()
    sign_in(page, live_server, personas["agent"], then="/t/acme/")
    page.goto(f"{live_server.url}/t/acme/requests/{req.pk}/")
    page.click("button:has-text('Start fulfilment')")
    page.wait_for_selector("h1 >> text=In fulfilment")
    for _ in range(3):
        page.locator("#tasks form button:has-text('Complete')").first.click()
        page.wait_for_load_state()
    page.wait_for_selector("text=Task “Hand it over”: done.")
    page.click("button:has-text('Fulfil')")
    page.wait_for_selector("h1 >> text=Fulfilled")
    page.screenshot(path=str(artifacts / "request-fulfilled.png"), full_page=True)
    assert page.console_errors == []
    with in_tenant(tenant_a):
        req = ServiceRequest.objects.get(pk=req.pk)
        assert req.state == "fulfilled" and req.decisions.get().decided_by_id == personas["process_owner"].pk
        assert not req.tasks.filter(state="open").exists()
