"""API conventions and the actions every record kind shares."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sms.core.api.urls import router
from sms.tenancy import context
from tests.conftest import PASSWORD
from tests.factories import SAMPLE_OBJECTS, ImprovementFactory


@pytest.fixture
def imp(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        return ImprovementFactory(owner=personas["process_owner"])


def base(obj):
    return f"/api/v1/improvements/{obj.pk}/"


# --- authentication ---------------------------------------------------------------------
def test_token_endpoint_issues_a_token_for_one_membership(client, personas, tenant_a):
    resp = client.post("/api/v1/auth/token/", {"username": "acme-agent", "password": PASSWORD, "tenant": "acme"})
    assert resp.status_code == 201, resp.content
    key = resp.json()["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").json()
    assert me["tenant"]["slug"] == "acme"
    assert me["roles"] == ["agent"]
    assert me["capabilities"]["improvement.create"] is True
    assert me["capabilities"]["improvement.approve"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "acme-agent", "password": "wrong", "tenant": "acme"}, "non_field_errors"),
        ({"username": "acme-agent", "password": PASSWORD, "tenant": "globex"}, "tenant"),
        ({"username": "acme-agent", "password": PASSWORD, "tenant": "no-such"}, "tenant"),
        ({"username": "acme-agent"}, "password"),
    ],
)
def test_token_endpoint_refuses_with_field_messages(client, personas, payload, field):
    resp = client.post("/api/v1/auth/token/", payload)
    assert resp.status_code == 400
    assert field in resp.json()


def test_revoked_token_is_refused(api, personas, tenant_a):
    from sms.tenancy.models import ApiToken

    client = api("agent")
    assert client.get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(user=personas["agent"]).update(revoked_at="2020-01-01T00:00:00Z")
    assert client.get("/api/v1/me/").status_code == 401


# --- bad input is a 400 with field messages, never a 500 ----------------------------------
@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": ""},
        {"title": "x" * 300},
        {"title": "ok", "priority": "9"},
        {"title": "ok", "due_date": "not-a-date"},
        {"title": "ok", "owner": 999999},
        {"title": "ok", "owner": "abc"},
        {"title": ["list"]},
    ],
)
def test_bad_input_is_400(api, payload):
    resp = api("agent").post("/api/v1/improvements/", payload, format="json")
    assert resp.status_code == 400, resp.content
    assert isinstance(resp.json(), dict) and resp.json()


def test_malformed_json_is_400(api):
    resp = api("agent").post("/api/v1/improvements/", "{not json", content_type="application/json")
    assert resp.status_code == 400


def test_unknown_ids_and_filters(api):
    client = api("agent")
    assert client.get("/api/v1/improvements/999999/").status_code == 404
    assert client.get("/api/v1/improvements/abc/").status_code == 404
    assert client.get("/api/v1/improvements/", {"state": "nonsense"}).status_code == 400
    assert client.get("/api/v1/improvements/", {"page": 99}).status_code == 404
    assert client.get("/api/v1/improvements/", {"ordering": "nonsense"}).status_code == 200


def test_records_are_not_deleted_through_the_api(api, imp):
    assert api("admin").delete(base(imp)).status_code == 405


# --- journal, attachments, links, watchers, history ---------------------------------------
def test_journal_entries(api, imp):
    client = api("agent")
    assert client.post(f"{base(imp)}journal/", {"body": "  "}, format="json").status_code == 400
    resp = client.post(f"{base(imp)}journal/", {"body": "Called back", "visibility": "public"}, format="json")
    assert resp.status_code == 201
    assert resp.json()["author"]["username"] == "acme-agent"
    rows = client.get(f"{base(imp)}journal/").json()["results"]
    assert [r["body"] for r in rows] == ["Called back"]
    # Writing in the journal makes the author a watcher.
    assert [w["user"]["username"] for w in client.get(f"{base(imp)}watchers/").json()] == ["acme-agent"]
    assert api("auditor").post(f"{base(imp)}journal/", {"body": "x"}, format="json").status_code == 403


def test_attachment_upload_keeps_sha256(api, imp, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = b"evidence of the test"
    upload = SimpleUploadedFile("evidence.txt", content, content_type="text/plain")
    resp = api("agent").post(f"{base(imp)}attachments/", {"file": upload}, format="multipart")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)
    assert body["filename"] == "evidence.txt"


def test_attachment_limits(api, imp, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SMS_ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    resp = api("agent").post(f"{base(imp)}attachments/", {"file": big}, format="multipart")
    assert resp.status_code == 400 and "file" in resp.json()
    exe = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")
    resp = api("agent").post(f"{base(imp)}attachments/", {"file": exe}, format="multipart")
    assert resp.status_code == 400 and "not accepted" in resp.json()["file"][0]
    assert api("agent").post(f"{base(imp)}attachments/", {}, format="multipart").status_code == 400


def test_links(api, imp, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        other = ImprovementFactory()
    client = api("agent")
    link = {"link_type": "relates_to", "target_kind": "improvement", "target_reference": other.reference}
    resp = client.post(f"{base(imp)}links/", link, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["target"]["reference"] == other.reference
    assert client.post(f"{base(imp)}links/", link, format="json").status_code == 400  # duplicate
    self_link = {"link_type": "relates_to", "target_kind": "improvement", "target_id": imp.pk}
    assert client.post(f"{base(imp)}links/", self_link, format="json").status_code == 400
    bad_kind = {"link_type": "relates_to", "target_kind": "spaceship", "target_id": other.pk}
    assert client.post(f"{base(imp)}links/", bad_kind, format="json").status_code == 400
    # Seen from both ends.
    assert client.get(f"/api/v1/improvements/{other.pk}/links/").json()["count"] == 1
    link_id = client.get(f"{base(imp)}links/").json()["results"][0]["id"]
    assert api("auditor").delete(f"{base(imp)}links/{link_id}/").status_code == 403
    assert client.delete(f"{base(imp)}links/{link_id}/").status_code == 204
    assert client.get(f"{base(imp)}links/").json()["count"] == 0


def test_watch_and_unwatch(api, imp):
    client = api("auditor")
    assert client.post(f"{base(imp)}watchers/").status_code == 201
    assert client.post(f"{base(imp)}watchers/").status_code == 201  # idempotent
    assert len(client.get(f"{base(imp)}watchers/").json()) == 1
    assert client.delete(f"{base(imp)}watchers/").status_code == 204
    assert client.get(f"{base(imp)}watchers/").json() == []


def test_history_shows_changes_with_user_and_reason(api, imp):
    client = api("process_owner")
    resp = client.patch(base(imp), {"title": "Sharper title", "change_reason": "Clarified"}, format="json")
    assert resp.status_code == 200
    rows = client.get(f"{base(imp)}history/").json()
    assert rows[0]["history_user"] == "acme-process_owner"
    assert rows[0]["history_change_reason"] == "Clarified"
    assert {"field": "title", "old": imp.title, "new": "Sharper title"} in rows[0]["changes"]
    assert rows[-1]["history_type"] == "+"


# --- fixed number of queries per list, whatever the page size ----------------------------
ROUTES = [(prefix, viewset) for prefix, viewset, _ in router.registry]


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES, ids=[p for p, _ in ROUTES])
def test_list_query_count_does_not_grow_with_rows(prefix, viewset, api, personas, tenant_a):
    client = api("admin")
    make = SAMPLE_OBJECTS[viewset.queryset.model]
    path = f"/api/v1/{prefix}/?page_size=100"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    with context.tenant_context(tenant_a, personas["admin"]):
        for _ in range(3):
            make(personas)
    count()  # warm up: the token's first use records last_used_at
    few = count()
    with context.tenant_context(tenant_a, personas["admin"]):
        for _ in range(27):
            make(personas)
    assert count() == few


def test_members_list_query_count(api):
    client = api("admin")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/members/").status_code == 200
    assert len(ctx.captured_queries) <= 8


# --- schema and docs ----------------------------------------------------------------------
def test_openapi_schema_and_local_swagger(client, db):
    resp = client.get("/api/v1/schema/")
    assert resp.status_code == 200
    assert b"/api/v1/improvements/{id}/transitions/{name}/" in resp.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
