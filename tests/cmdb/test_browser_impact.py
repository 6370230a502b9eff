"""The impact graph in real Chromium: the vendored library draws it under the strict CSP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sms.cmdb.models import Relationship
from sms.cmdb.services import set_service_links
from tests.conftest import PASSWORD
from tests.factories import ServiceFactory

CHROMIUM = os.environ.get("SMS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.errors = errors
        yield tab
        browser.close()


def test_impact_graph_is_drawn_and_nodes_lead_to_their_pages(live_server, personas, make_ci, as_admin, page):
    switch, host, vm, app = (make_ci(title=t) for t in ("core-switch", "esx-01", "vm-01", "shop-app"))
    with as_admin():
        Relationship.objects.create(source=host, kind="connected_to", target=switch)
        Relationship.objects.create(source=vm, kind="hosted_on", target=host)
        Relationship.objects.create(source=app, kind="runs_on", target=vm)
        shop = ServiceFactory(title="Web shop")
        set_service_links(shop, components=[app])

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", personas["agent"].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    page.goto(f"{live_server.url}/t/acme/cis/{switch.pk}/impact/")
    page.wait_for_selector("#impact-graph canvas")
    assert page.evaluate("typeof window.cytoscape") == "function"
    assert "4 items" in page.locator("main h2").first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cmdb-impact.png"), full_page=True)
    assert page.errors == []
