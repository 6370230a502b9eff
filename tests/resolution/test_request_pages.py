"""Browser pages of service requests: the catalogue, the request form generated from the
item's questions, the request page with approval and task completion, the approvals
list, the catalogue editor, permissions and tenant isolation."""

from __future__ import annotations

import pytest

from processes.resolution.models import CatalogueItem, FulfilmentTask, ServiceRequest
from tests.factories import ServiceFactory
from tests.factories_requests import CatalogueItemFactory, submit_request

pytestmark = pytest.mark.django_db
BASE = "/t/acme/requests/"


@pytest.fixture
def item(personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        return CatalogueItemFactory(name="New laptop", approval="role", approver_role="process_owner")


def _get(tenant, in_tenant, model, **kwargs):
    with in_tenant(tenant):
        return model.objects.get(**kwargs)


def test_catalogue_lists_active_items_by_service(web, item, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        CatalogueItemFactory(name="Retired thing", is_active=False)
    page = web("agent").get(f"{BASE}catalogue/").content.decode()
    assert "New laptop" in page and item.service.title in page and "needs approval" in page
    assert f"{BASE}catalogue/{item.pk}/request/" in page
    assert "Retired thing" not in page
    assert "Nothing in the catalogue matches" in web("agent").get(f"{BASE}catalogue/", {"q": "zzz"}).content.decode()
    # Auditors read the catalogue but do not request.
    audit = web("auditor").get(f"{BASE}catalogue/").content.decode()
    assert "New laptop" in audit and f"{BASE}catalogue/{item.pk}/request/" not in audit
    assert web("auditor").get(f"{BASE}catalogue/{item.pk}/request/").status_code == 403


def test_request_form_is_generated_from_the_questions_and_validated(web, item, personas, tenant_a, in_tenant):
    client = web("top_management")
    url = f"{BASE}catalogue/{item.pk}/request/"
    form = client.get(url).content.decode()
    assert 'name="a_model"' in form and "13-inch" in form and 'type="date"' in form and 'name="a_reason"' in form
    resp = client.post(url, {"requester": personas["top_management"].pk, "a_model": "17-inch", "a_needed_by": ""})
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Choose one of" in page and "an answer is required" in page
    with in_tenant(tenant_a):
        assert not ServiceRequest.objects.exists()
    resp = client.post(
        url,
        {
            "requester": personas["top_management"].pk,
            "a_model": "15-inch",
            "a_needed_by": "2026-04-01",
            "a_reason": "New starter",
            "title": "",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    req = _get(tenant_a, in_tenant, ServiceRequest, title="New laptop")
    assert req.state == "awaiting_approval" and req.answers["model"] == "15-inch"
    assert req.created_by_id == personas["top_management"].pk
    page = client.get(resp["Location"]).content.decode()
    assert "What was asked for" in page and "15-inch" in page and "Process owner" in page


def test_approver_decides_from_the_approvals_list_and_works_the_tasks(web, item, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        req = submit_request(item, by=personas["agent"], requester=personas["change_approver"])
        own = submit_request(item, by=personas["process_owner"])
    owner = web("process_owner")
    listing = owner.get(f"{BASE}approvals/").content.decode()
    assert req.reference in listing and own.reference not in listing
    assert "Nothing is waiting" in web("top_management").get(f"{BASE}approvals/").content.decode()
    assert web("auditor").get(f"{BASE}approvals/").status_code == 403
    detail = owner.get(f"{BASE}{req.pk}/").content.decode()
    assert "Approve" in detail and "Reject" in detail
    # Their own request offers no decision.
    assert "transitions/approve" not in owner.get(f"{BASE}{own.pk}/").content.decode()
    resp = owner.post(f"/t/acme/records/request/{req.pk}/transitions/approve/", {"reason": "Budget agreed"})
    assert resp.status_code == 302
    req = _get(tenant_a, in_tenant, ServiceRequest, pk=req.pk)
    assert req.state == "approved"
    agent = web("agent")
    agent.post(f"/t/acme/records/request/{req.pk}/transitions/start/")
    page = agent.get(f"{BASE}{req.pk}/").content.decode()
    assert "Budget agreed" in page and "Order the laptop" in page and "Complete" in page
    with in_tenant(tenant_a):
        tasks = list(FulfilmentTask.objects.filter(request=req).order_by("position"))
    assert web("auditor").post(f"{BASE}{req.pk}/tasks/{tasks[0].pk}/complete/").status_code == 403
    for task in tasks:
        resp = agent.post(f"{BASE}{req.pk}/tasks/{task.pk}/complete/", {"state": "done", "notes": "ok"})
        assert resp.status_code == 302
    resp = agent.post(f"{BASE}{req.pk}/tasks/{tasks[0].pk}/complete/", {"state": "done"}, follow=True)
    assert "already done" in resp.content.decode()
    agent.post(f"/t/acme/records/request/{req.pk}/transitions/fulfil/")
    assert _get(tenant_a, in_tenant, ServiceRequest, pk=req.pk).state == "fulfilled"


def test_list_filters_and_edit(web, item, personas, tenant_a, in_tenant):
    assert "No service requests yet" in web("agent").get(BASE).content.decode()
    with in_tenant(tenant_a, personas["agent"]):
        req = submit_request(item, by=personas["agent"])
    page = web("auditor").get(BASE).content.decode()
    assert req.reference in page and "New laptop" in page
    assert req.reference in web("agent").get(BASE, {"state": "awaiting_approval"}).content.decode()
    assert req.reference not in web("agent").get(BASE, {"state": "closed"}).content.decode()
    assert web("agent").get(BASE, {"catalogue_item": "abc", "sort": "fulfilment_due_at"}).status_code == 200
    resp = web("agent").post(f"{BASE}{req.pk}/edit/", {"title": "Laptop for Jo", "change_reason": "Clearer"})
    assert resp.status_code == 302
    assert _get(tenant_a, in_tenant, ServiceRequest, pk=req.pk).title == "Laptop for Jo"
    assert web("auditor").get(f"{BASE}{req.pk}/edit/").status_code == 403


def test_catalogue_editor(web, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        service = ServiceFactory()
    assert web("agent").get(f"{BASE}items/new/").status_code == 403
    client = web("process_owner")
    assert "No catalogue items yet" in client.get(f"{BASE}items/").content.decode()
    data = {
        "service": service.pk,
        "name": "Mailbox access",
        "description": "Access to a shared mailbox.",
        "is_active": "on",
        "approval": "named",
        "priority": 4,
        "question_lines": "Mailbox | email | required\nAccess | choice | required | Read, Send as",
        "task_lines": "Grant the permission | in the mail admin centre\nConfirm with the requester",
    }
    resp = client.post(f"{BASE}items/new/", data)
    assert resp.status_code == 200 and "Name at least one approver" in resp.content.decode()
    bad = client.post(f"{BASE}items/new/", {**data, "question_lines": "Mailbox | colour"}).content.decode()
    assert "Line 1" in bad and "unknown type" in bad
    resp = client.post(f"{BASE}items/new/", {**data, "approvers": [personas["top_management"].pk]})
    assert resp.status_code == 302, resp.content.decode()[:3000]
    item = _get(tenant_a, in_tenant, CatalogueItem, name="Mailbox access")
    assert [q["name"] for q in item.fields] == ["mailbox", "access"]
    assert item.tasks[0] == {"title": "Grant the permission", "description": "in the mail admin centre"}
    listing = client.get(f"{BASE}items/").content.decode()
    assert "Mailbox access" in listing and "Named approvers" in listing
    edit = client.get(f"{BASE}items/{item.pk}/").content.decode()
    assert "Access | choice | required | Read, Send as" in edit
    resp = client.post(
        f"{BASE}items/{item.pk}/",
        {**data, "approval": "none", "is_active": "", "change_reason": "Retired"},
    )
    assert resp.status_code == 302
    item = _get(tenant_a, in_tenant, CatalogueItem, pk=item.pk)
    assert not item.is_active and item.approval == "none"


def test_pages_of_another_tenant_are_not_found(web, item, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        req = submit_request(item, by=personas["agent"])
    outsider = web("outsider")
    assert outsider.get(f"{BASE}{req.pk}/").status_code == 404
    assert outsider.get("/t/globex/requests/").status_code == 200
    assert outsider.get(f"/t/globex/requests/{req.pk}/").status_code == 404
    assert outsider.get(f"/t/globex/requests/catalogue/{item.pk}/request/").status_code == 404
    assert outsider.get(f"/t/globex/requests/items/{item.pk}/").status_code in (403, 404)
    assert req.reference not in outsider.get("/t/globex/requests/").content.decode()


def test_home_page_panel_shows_requests_awaiting_my_approval(web, item, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        req = submit_request(item, by=personas["agent"])
    page = web("process_owner").get("/t/acme/").content.decode()
    assert "Requests awaiting my approval" in page and req.reference in page


def test_list_pages_query_count_does_not_grow_with_rows(web, item, personas, tenant_a, in_tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web("process_owner")

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        with in_tenant(tenant_a, personas["agent"]):
            for _ in range(n):
                submit_request(item, by=personas["agent"], assignee=personas["agent"])

    add(2)
    pages = (BASE, f"{BASE}approvals/", f"{BASE}items/", f"{BASE}catalogue/")
    few = {p: count(p) for p in pages}
    add(20)
    with in_tenant(tenant_a, personas["admin"]):
        for _ in range(5):
            CatalogueItemFactory(approval="named", approvers=[personas["process_owner"], personas["agent"]])
    assert {p: count(p) for p in pages} == few
