"""Real Chromium: an agent logs an incident, assigns it to themselves and resolves it."""

from __future__ import annotations

import pytest

from processes.resolution.models import Incident
from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def test_agent_logs_assigns_and_resolves_an_incident(
    live_server, personas, tenant_a, in_tenant, browser_page, artifacts
):
    page = browser_page
    agent = personas["agent"]
    sign_in(page, live_server, agent, then="/t/acme/")
    page.goto(f"{live_server.url}/t/acme/incidents/new/")
    page.fill("#id_title", "Cannot print payslips")
    page.select_option("#id_impact", "2")
    page.select_option("#id_urgency", "1")
    page.select_option("#id_assignee", str(agent.pk))
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("text=Respond by")
    assert "Cannot print payslips" in page.locator("h1").inner_text()

    page.click("button:has-text('Assign')")
    page.wait_for_selector("h1 >> text=Assigned")
    page.click("a:has-text('Edit')")
    page.select_option("#id_resolution_code", "fixed")
    page.fill("#id_resolution_notes", "Reinstalled the printer driver; the caller printed a test page.")
    page.click("form.panel button[type=submit]")
    page.wait_for_selector("text=Respond by")
    page.click("button:has-text('Resolve')")
    page.wait_for_selector("h1 >> text=Resolved")
    page.screenshot(path=str(artifacts / "incident-resolved.png"), full_page=True)
    assert page.console_errors == []

    with in_tenant(tenant_a):
        incident = Incident.objects.get(title="Cannot print payslips")
    assert incident.state == "resolved" and incident.assignee_id == agent.pk and incident.priority == 2
    assert incident.responded_at is not None and incident.resolved_at is not None
