"""The browser's session can call the API, in the tenant the session works in, with CSRF."""

from django.test import Client

from sms.tenancy.middleware import SESSION_KEY


def _session_client(username, tenant=None, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    if tenant is not None:
        session = client.session
        session[SESSION_KEY] = tenant.pk
        session.save()
    return client


def test_session_api_uses_the_sessions_tenant(personas, tenant_a):
    me = _session_client("acme-agent", tenant_a).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["tenant"]["slug"] == "acme"


def test_session_without_tenant_is_refused(personas):
    resp = _session_client("acme-agent").get("/api/v1/improvements/")
    assert resp.status_code == 403
    assert "No tenant selected" in resp.json()["detail"]


def test_session_pointing_at_a_foreign_tenant_is_refused(personas, tenant_b):
    resp = _session_client("acme-agent", tenant_b).get("/api/v1/improvements/")
    assert resp.status_code == 403


def test_session_writes_need_csrf(personas, tenant_a):
    client = _session_client("acme-agent", tenant_a, csrf=True)
    resp = client.post("/api/v1/improvements/", {"title": "x"}, content_type="application/json")
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["detail"]
