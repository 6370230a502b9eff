"""The impact graph in real Chromium: the vendored library draws it under the strict CSP."""

from __future__ import annotations

import pytest

from sms.cmdb.models import Relationship
from sms.cmdb.services import set_service_links
from tests.conftest import sign_in
from tests.factories import ServiceFactory

pytestmark = pytest.mark.browser


def test_impact_graph_is_drawn_under_the_csp(live_server, personas, make_ci, as_admin, browser_page, artifacts):
    switch, host, vm, app = (make_ci(title=t) for t in ("core-switch", "esx-01", "vm-01", "shop-app"))
    with as_admin():
        Relationship.objects.create(source=host, kind="connected_to", target=switch)
        Relationship.objects.create(source=vm, kind="hosted_on", target=host)
        Relationship.objects.create(source=app, kind="runs_on", target=vm)
        shop = ServiceFactory(title="Web shop")
        set_service_links(shop, components=[app])
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, personas["agent"], then="/t/acme/")
    page.goto(f"{live_server.url}/t/acme/cis/{switch.pk}/impact/")
    page.wait_for_selector("#impact-graph canvas")
    assert page.evaluate("typeof window.cytoscape") == "function"
    assert "4 items" in page.locator("main h2").first.inner_text()
    page.screenshot(path=str(artifacts / "cmdb-impact.png"), full_page=True)
    assert page.console_errors == []
