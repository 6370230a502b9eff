"""Sign-in, tenant choice and switching, role home pages, security headers."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from sms.tenancy.roles import Role
from sms.tenancy.services import add_member
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders_without_inline_script():
    response = Client().get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and "csrfmiddlewaretoken" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline scripts break the CSP"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_sign_in_with_one_tenant_lands_on_its_home(personas):
    client = Client()
    response = client.post("/login/", {"username": "acme-agent", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/t/acme/"
    assert response.status_code == 200
    assert b"Service desk agent" in response.content


def test_wrong_password_is_refused_with_a_message(personas):
    response = Client().post("/login/", {"username": "acme-agent", "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_username_from_that_address(personas):
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "acme-agent", "password": "wrong"})
    response = client.post("/login/", {"username": "acme-agent", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_anonymous_tenant_page_redirects_to_sign_in(tenant_a):
    response = Client().get("/t/acme/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/t/acme/")


def test_another_tenant_is_not_found(web):
    assert web("agent").get("/t/globex/").status_code == 404
    assert web("agent").get("/t/no-such-tenant/").status_code == 404


def test_consultant_chooses_and_switches_tenant(personas, tenant_a, tenant_b):
    user = personas["auditor"]
    add_member(tenant_b, user, [Role.PROCESS_OWNER])
    client = Client()
    client.force_login(user)
    chooser = client.get("/")
    assert chooser.status_code == 200
    assert b"Choose a tenant" in chooser.content
    assert b"/t/acme/" in chooser.content and b"/t/globex/" in chooser.content
    acme = client.get("/t/acme/")
    assert b"Auditor" in acme.content
    # The switcher on every page offers the other tenant.
    assert b'href="/t/globex/"' in acme.content
    globex = client.get("/t/globex/")
    assert globex.status_code == 200
    assert b"Process owner" in globex.content
    assert client.session["sms_tenant_id"] == tenant_b.pk


def test_user_without_membership_sees_an_explanation(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("loner", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert b"not a member of any tenant" in response.content


@pytest.mark.parametrize("role", Role.values)
def test_every_role_has_a_home_page(web, role):
    response = web(role).get("/t/acme/")
    assert response.status_code == 200
    html = response.content.decode()
    assert Role(role).label in html
    assert 'id="panel-watching"' in html


def test_home_panels_follow_the_roles(web, improvement):
    owner_home = web("process_owner").get("/t/acme/").content.decode()
    assert 'id="panel-improvements_to_decide"' in owner_home
    assert improvement.reference in owner_home
    assert 'id="panel-planned_due"' in owner_home
    agent_home = web("agent").get("/t/acme/").content.decode()
    assert "panel-improvements_to_decide" not in agent_home
    # The agent raised it: it is not theirs to decide, so it is not offered to them anyway.
    auditor_home = web("auditor").get("/t/acme/").content.decode()
    assert "panel-my_improvements" not in auditor_home


def test_navigation_is_by_capability(web):
    admin_page = web("admin").get("/t/acme/").content.decode()
    assert "/t/acme/members/" in admin_page
    agent_page = web("agent").get("/t/acme/").content.decode()
    assert "/t/acme/members/" not in agent_page
    assert "/t/acme/improvements/" in agent_page


def test_members_page_is_for_administrators(web):
    assert web("agent").get("/t/acme/members/").status_code == 403
    page = web("admin").get("/t/acme/members/")
    assert page.status_code == 200
    assert b"acme-auditor" in page.content
    assert b"globex-agent" not in page.content


def test_sign_out_needs_post_and_ends_the_session(web):
    client = web("agent")
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/t/acme/").status_code == 302


def test_session_cookie_is_secure_by_default():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_SECURE == settings.SESSION_COOKIE_SECURE


def test_admin_without_a_tenant_does_not_fail(db, personas):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.test", PASSWORD)
    client = Client()
    client.force_login(root)
    assert client.get("/admin/governance/improvement/").status_code == 200
    assert client.get("/admin/core/plannedactivity/").status_code == 200


def test_only_the_closest_navigation_entry_is_current(web):
    page = web("admin").get("/t/acme/documents/processes/").content.decode()
    assert page.count('aria-current="page"') == 1
    assert 'href="/t/acme/documents/processes/" aria-current="page"' in page
