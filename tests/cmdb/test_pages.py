"""Browser pages of the CMDB: catalogue, CIs, relationships, impact graph, CI types, baselines."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sms.cmdb.models import CIType, ConfigurationItem, Relationship
from sms.cmdb.services import set_service_links, take_baseline
from sms.tenancy import context
from sms.tenancy.roles import Role
from tests.factories import CITypeFactory, ConfigurationItemFactory, PartyFactory, ServiceFactory

CIS = "/t/acme/cis/"
SERVICES = "/t/acme/services/"


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- catalogue of services -----------------------------------------------------------------
@pytest.mark.parametrize("role", Role.values)
def test_catalogue_is_readable_by_every_role(web, role, as_admin, make_ci):
    ci = make_ci(title="mail-01")
    with as_admin():
        service = ServiceFactory(title="E-mail")
        set_service_links(service, components=[ci], customers=[PartyFactory(name="Harbour Retail")])
    page = html(web(role).get(SERVICES))
    assert "E-mail" in page and "Service catalogue" in page  # the list and the navigation entry
    detail = html(web(role).get(f"{SERVICES}{service.pk}/"))
    assert "mail-01" in detail and "Harbour Retail" in detail


def test_add_a_service_through_the_form(web, make_ci, as_admin, personas, tenant_a):
    ci = make_ci(title="shop-web-01")
    with as_admin():
        customer = PartyFactory(name="Harbour Retail")
    response = web("process_owner").post(
        f"{SERVICES}new/",
        {
            "title": "Web shop",
            "criticality": "1",
            "hours_of_service": "24x7",
            "is_customer_facing": "on",
            "owner": personas["process_owner"].pk,
            "customers": [customer.pk],
            "components": [ci.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with context.tenant_context(tenant_a):
        from sms.cmdb.models import Service

        service = Service.objects.get(title="Web shop")
        assert list(service.components.all()) == [ci]
        assert list(service.customers.all()) == [customer]
    assert web("agent").get(f"{SERVICES}new/").status_code == 403


# --- configuration items ---------------------------------------------------------------------------
def test_ci_list_filters_and_fixed_queries(web, make_ci, as_admin, personas, tenant_a):
    with as_admin():
        vm_type = CITypeFactory(name="Virtual machine", code="vm")
    make_ci(title="srv-a")
    make_ci(title="vm-b", ci_type=vm_type)
    client = web("auditor")
    page = html(client.get(CIS, {"ci_type": vm_type.pk}))
    assert "vm-b" in page and "srv-a" not in page

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            html(client.get(CIS, {"page_size": 100}))
        return len(ctx.captured_queries)

    few = count()
    for i in range(20):
        make_ci(title=f"more-{i}", owner=personas["agent"])
    assert count() == few


def test_register_a_ci_through_the_form(web, server_type, tenant_a, personas):
    client = web("process_owner")
    chooser = html(client.get(f"{CIS}new/"))
    assert f"?type={server_type.pk}" in chooser
    form = html(client.get(f"{CIS}new/", {"type": server_type.pk}))
    assert 'name="attr_ram_gb"' in form and 'name="attr_os"' in form

    data = {
        "title": "web-07",
        "initial_state": "live",
        "owner": personas["process_owner"].pk,
        "attr_ram_gb": "",
        "attr_os": "Linux",
    }
    bad = html(client.post(f"{CIS}new/?type={server_type.pk}", data))
    assert "This field is required." in bad
    response = client.post(f"{CIS}new/?type={server_type.pk}", {**data, "attr_ram_gb": "64"})
    assert response.status_code == 302
    with context.tenant_context(tenant_a):
        ci = ConfigurationItem.objects.get(title="web-07")
    assert ci.state == "live" and ci.attributes == {"ram_gb": 64, "os": "Linux"}
    assert web("agent").get(f"{CIS}new/").status_code == 403


def test_ci_detail_shows_attributes_relationships_and_services(web, make_ci, as_admin):
    app, server = make_ci(title="app", attributes={"ram_gb": 8, "os": "Windows"}), make_ci(title="server")
    with as_admin():
        Relationship.objects.create(source=app, kind="runs_on", target=server)
        service = ServiceFactory(title="Payroll")
        set_service_links(service, components=[app])
    page = html(web("process_owner").get(f"{CIS}{app.pk}/"))
    assert "Memory (GB)" in page and "Windows" in page
    assert "runs on" in page and server.reference in page
    assert "Payroll" in page and "Add a relationship" in page and "Impact analysis" in page
    assert "runs" in html(web("agent").get(f"{CIS}{server.pk}/"))  # the inverse label from the other side
    auditor = html(web("auditor").get(f"{CIS}{app.pk}/"))
    assert "Add a relationship" not in auditor and "/edit/" not in auditor


def test_edit_of_a_controlled_ci_needs_reason_and_rfc(web, make_ci, controlled_type, tenant_a, personas):
    from tests.factories_control import approved_change

    ci = make_ci(ci_type=controlled_type, title="fw-01")
    with context.tenant_context(tenant_a, personas["agent"]):
        rfc = approved_change(personas, cis=[ci])
    client = web("process_owner")
    form = html(client.get(f"{CIS}{ci.pk}/edit/"))
    assert "under change control" in form
    data = {"title": "fw-01", "version": "7.4", "owner": personas["process_owner"].pk, "attr_ram_gb": "16"}
    refused = html(client.post(f"{CIS}{ci.pk}/edit/", data))
    assert refused.count("This field is required.") == 2  # reason and RFC
    unknown = html(
        client.post(
            f"{CIS}{ci.pk}/edit/", {**data, "change_reason": "Firmware upgrade", "last_change_reference": "CHG-8"}
        )
    )
    assert "There is no request for change CHG-8" in unknown
    response = client.post(
        f"{CIS}{ci.pk}/edit/", {**data, "change_reason": "Firmware upgrade", "last_change_reference": rfc.reference}
    )
    assert response.status_code == 302
    with context.tenant_context(tenant_a):
        ci.refresh_from_db()
        latest = ci.history.latest()
    assert ci.version == "7.4" and ci.last_change_reference == rfc.reference
    assert latest.history_change_reason == f"Firmware upgrade (under {rfc.reference})"
    assert latest.history_user == personas["process_owner"]
    assert web("agent").get(f"{CIS}{ci.pk}/edit/").status_code == 403


def test_relationships_from_the_ci_page(web, make_ci, as_admin, tenant_a):
    with as_admin():
        licence_type = CITypeFactory(name="Licence", code="lic", allowed_relationships=["part_of"], attribute_schema=[])
        licence = ConfigurationItemFactory(ci_type=licence_type, attributes={})
    app, server = make_ci(title="app"), make_ci(title="server")
    client = web("process_owner")
    page = html(
        client.post(
            f"{CIS}{app.pk}/relationships/", {"kind": "runs_on", "target": server.reference.lower()}, follow=True
        )
    )
    assert f"{app.reference} runs on {server.reference}" in page
    refused = html(
        client.post(f"{CIS}{licence.pk}/relationships/", {"kind": "runs_on", "target": server.reference}, follow=True)
    )
    assert "cannot have a" in refused
    assert "No CI CI-99999" in html(
        client.post(f"{CIS}{app.pk}/relationships/", {"kind": "uses", "target": "CI-99999"}, follow=True)
    )
    with context.tenant_context(tenant_a):
        rel = Relationship.objects.get()
    assert web("auditor").post(f"{CIS}{app.pk}/relationships/{rel.pk}/delete/").status_code == 403
    assert web("agent").post(f"{CIS}{app.pk}/relationships/", {"kind": "uses", "target": "x"}).status_code == 403
    assert "Relationship removed" in html(client.post(f"{CIS}{app.pk}/relationships/{rel.pk}/delete/", follow=True))
    with context.tenant_context(tenant_a):
        assert not Relationship.objects.exists()


def test_ci_pages_of_another_tenant_are_404(web, make_ci):
    ci = make_ci()
    outsider = web("outsider_admin")  # holds every capability in its own tenant: the 404 is isolation
    for path in ("", "edit/", "impact/"):
        assert outsider.get(f"/t/globex/cis/{ci.pk}/{path}").status_code == 404, path
    assert web("outsider_admin").post(f"/t/globex/cis/{ci.pk}/relationships/", {"kind": "uses"}).status_code == 404
    assert outsider.get(f"{CIS}{ci.pk}/").status_code == 404


# --- impact graph ---------------------------------------------------------------------------------
def test_impact_page_draws_the_graph_without_inline_script(web, make_ci, as_admin):
    switch, host, vm = make_ci(title="switch"), make_ci(title="host"), make_ci(title="vm")
    with as_admin():
        Relationship.objects.create(source=host, kind="connected_to", target=switch)
        Relationship.objects.create(source=vm, kind="hosted_on", target=host)
        service = ServiceFactory(title="Shop")
        set_service_links(service, components=[vm])
    response = web("agent").get(f"{CIS}{switch.pk}/impact/", {"depth": 5})
    page = html(response)
    assert "/static/vendor/cytoscape/cytoscape-3.34.4.min.js" in page and "/static/js/cmdb-impact.js" in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert all('type="application/json"' in attrs for attrs in scripts)  # data only, never code
    data = json.loads(re.search(r'<script id="impact-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert {n["id"] for n in data["nodes"]} == {switch.reference, host.reference, vm.reference, service.reference}
    assert {(e["source"], e["target"]) for e in data["edges"]} == {
        (host.reference, switch.reference),
        (vm.reference, host.reference),
        (service.reference, vm.reference),
    }
    assert "Shop" in page and "4 items" not in page and "3 items within 5 steps" in page
    up = html(web("agent").get(f"{SERVICES}{service.pk}/impact/", {"direction": "up"}))
    assert "3 items" in up
    # Bad parameters fall back to the defaults rather than failing.
    assert web("agent").get(f"{CIS}{switch.pk}/impact/", {"depth": "deep", "direction": "x"}).status_code == 200


# --- CI types ----------------------------------------------------------------------------------------
def test_ci_type_pages(web, server_type, tenant_a):
    assert "Server" in html(web("agent").get("/t/acme/ci-types/"))
    detail = html(web("auditor").get(f"/t/acme/ci-types/{server_type.pk}/"))
    assert "Memory (GB)" in detail and "ram_gb" in detail
    assert web("process_owner").get("/t/acme/ci-types/new/").status_code == 403
    admin = web("admin")
    form = {
        "name": "Router",
        "code": "router",
        "description": "A router.",
        "master_copy": "optional",
        "allowed_relationships": ["connected_to"],
        "attribute_schema": '[{"name": "Ports", "type": "integer"}]',
    }
    assert "name must start with a lower-case letter" in html(admin.post("/t/acme/ci-types/new/", form))
    assert "Not valid JSON" in html(admin.post("/t/acme/ci-types/new/", {**form, "attribute_schema": "[{"}))
    response = admin.post(
        "/t/acme/ci-types/new/", {**form, "attribute_schema": '[{"name": "ports", "type": "integer"}]'}
    )
    assert response.status_code == 302
    with context.tenant_context(tenant_a):
        router = CIType.objects.get(code="router")
    assert router.attribute_schema == [{"name": "ports", "label": "Ports", "type": "integer", "required": False}]
    assert router.allowed_relationships == ["connected_to"]


# --- baselines -----------------------------------------------------------------------------------------
def test_baseline_pages(web, make_ci, as_admin, tenant_a, personas):
    ci = make_ci(title="app")
    client = web("process_owner")
    response = client.post("/t/acme/baselines/new/", {"name": "Before R1", "description": "Pre-release"})
    assert response.status_code == 302
    detail = html(client.get(response["Location"]))
    assert "Before R1" in detail and ci.reference in detail and "checksum verified" in detail
    with context.tenant_context(tenant_a, personas["process_owner"]):
        baseline_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
        ci.version = "2.0"
        ci.save(reason="Upgrade")
        second = take_baseline("After R1").pk
    diff = html(web("auditor").get(f"/t/acme/baselines/{baseline_id}/diff/"))
    assert "1 changed" in diff and "version" in diff and "2.0" in diff
    between = html(web("auditor").get(f"/t/acme/baselines/{baseline_id}/diff/", {"against": second}))
    assert "“After R1”" in between and "1 changed" in between
    assert "Before R1" in html(web("auditor").get("/t/acme/baselines/"))
    assert web("auditor").get("/t/acme/baselines/new/").status_code == 403
    assert web("outsider").get(f"/t/globex/baselines/{baseline_id}/").status_code == 404
    assert web("outsider").get(f"/t/globex/baselines/{second}/diff/").status_code == 404
