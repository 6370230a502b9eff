"""Tenant isolation over the whole API, discovered from the router.

Every route registered on ``sms.core.api.router.router`` is exercised: objects are made
in tenant A (acme); a token of tenant B (globex, admin role, so that permissions are
never the reason for a refusal) must get 404 for detail, update, delete, transitions
and every nested record action, and must not see A's objects in lists, searches or
filters. The tests run as the application's non-owner database role (see
sms/testing.py and tests/conftest.py), so the RLS policies are really in force.
"""

from __future__ import annotations

import pytest
from rest_framework import mixins

from sms.core.api.urls import router  # importing the urlconf registers every app's routes
from sms.core.api.views import RecordViewSet
from sms.tenancy import context
from tests.factories import SAMPLE_OBJECTS

ROUTES = [(prefix, viewset) for prefix, viewset, _basename in router.registry]
NESTED_GET = ["transitions", "journal", "attachments", "links", "watchers", "history"]


def test_every_route_is_covered():
    assert ROUTES, "no API routes discovered"
    missing = [viewset.queryset.model.__name__ for _, viewset in ROUTES
               if viewset.queryset.model not in SAMPLE_OBJECTS]
    assert not missing, f"add these models to tests.factories.SAMPLE_OBJECTS: {missing}"


def _list_ids(resp) -> set[int]:
    body = resp.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES, ids=[p for p, _ in ROUTES])
def test_other_tenant_cannot_reach_objects(prefix, viewset, api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        obj = SAMPLE_OBJECTS[viewset.queryset.model](personas)
    outsider = api("outsider_admin")
    insider = api("admin")
    base = f"/api/v1/{prefix}/"
    detail = f"{base}{obj.pk}/"

    # The insider sees it: proves the object and routes exist, so the 404s mean something.
    assert obj.pk in _list_ids(insider.get(base)), prefix
    assert insider.get(detail).status_code == 200

    resp = outsider.get(base)
    assert resp.status_code == 200, resp.content
    assert obj.pk not in _list_ids(resp)
    assert outsider.get(detail).status_code == 404

    if issubclass(viewset, mixins.UpdateModelMixin):
        assert outsider.patch(detail, {"title": "hijacked"}, format="json").status_code == 404
    if issubclass(viewset, mixins.DestroyModelMixin):
        assert outsider.delete(detail).status_code == 404
    else:
        assert outsider.delete(detail).status_code in (404, 405)

    if issubclass(viewset, RecordViewSet):
        title = obj.title
        assert obj.pk not in _list_ids(outsider.get(base, {"search": title}))
        assert obj.pk not in _list_ids(outsider.get(base, {"q": obj.reference}))
        for name in NESTED_GET:
            assert outsider.get(f"{detail}{name}/").status_code == 404, name
        assert outsider.post(f"{detail}transitions/cancel/", {"reason": "x"}, format="json").status_code == 404
        assert outsider.post(f"{detail}journal/", {"body": "x"}, format="json").status_code == 404
        assert outsider.post(f"{detail}watchers/").status_code == 404
        assert outsider.post(
            f"{detail}links/", {"link_type": "relates_to", "target_kind": "improvement", "target_id": obj.pk},
            format="json",
        ).status_code == 404
        # Filtering on A's owner is refused as an invalid choice, never answered with A's rows.
        resp = outsider.get(base, {"owner": obj.owner_id})
        assert resp.status_code in (200, 400)
        if resp.status_code == 200:
            assert obj.pk not in _list_ids(resp)

    with context.tenant_context(tenant_a, personas["admin"]):
        obj.refresh_from_db()
        assert getattr(obj, "title", "") != "hijacked"


def test_outsider_cannot_link_to_or_own_with_other_tenants_objects(api, personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        from tests.factories import ImprovementFactory

        theirs = ImprovementFactory(owner=personas["process_owner"])
    outsider = api("outsider_admin")
    mine = outsider.post("/api/v1/improvements/", {"title": "Ours"}, format="json").json()
    resp = outsider.post(
        f"/api/v1/improvements/{mine['id']}/links/",
        {"link_type": "relates_to", "target_kind": "improvement", "target_id": theirs.pk}, format="json",
    )
    assert resp.status_code == 400
    assert "target_id" in resp.json()
    resp = outsider.patch(f"/api/v1/improvements/{mine['id']}/", {"owner": personas["agent"].pk}, format="json")
    assert resp.status_code == 400
    assert "owner" in resp.json()


def test_token_acts_only_in_its_own_tenant(api, personas, tenant_a, tenant_b):
    """A user with memberships in both tenants gets a token per tenant; each sees one."""
    from sms.tenancy.services import add_member
    from tests.conftest import token_client
    from tests.factories import ImprovementFactory

    consultant = personas["auditor"]
    add_member(tenant_b, consultant, ["auditor"])
    with context.tenant_context(tenant_a, personas["admin"]):
        a_obj = ImprovementFactory()
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        b_obj = ImprovementFactory()
    in_a, in_b = token_client(consultant, tenant_a), token_client(consultant, tenant_b)
    assert _list_ids(in_a.get("/api/v1/improvements/")) == {a_obj.pk}
    assert _list_ids(in_b.get("/api/v1/improvements/")) == {b_obj.pk}
    assert in_a.get("/api/v1/me/").json()["tenant"]["slug"] == "acme"
    assert in_b.get("/api/v1/me/").json()["tenant"]["slug"] == "globex"
