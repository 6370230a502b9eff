"""Shared fixtures: two tenants and a persona per role, API clients with tokens.

Personas (as in the house style): in tenant A ("acme") one user per role, named
``acme-<role>``; in tenant B ("globex") ``globex-agent`` and ``globex-admin``, the
outsiders every isolation test uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from rest_framework.test import APIClient

from sms.tenancy import context
from sms.tenancy.models import ApiToken, Membership
from sms.tenancy.roles import Role
from sms.tenancy.services import add_member, create_tenant

User = get_user_model()
PASSWORD = "correct-horse-battery-9"


def _use_role(user: str, password: str) -> None:
    for conn in connections.all():
        conn.close()
        conn.settings_dict["USER"] = user
        conn.settings_dict["PASSWORD"] = password


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the owner created and migrated the test database, switch to the app role.

    One test-only grant: TRUNCATE, which Django's flush needs between transactional
    tests. Production never grants it (TRUNCATE ignores row-level security).
    """
    owner = connections["default"].settings_dict["USER"], connections["default"].settings_dict["PASSWORD"]
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{settings.SMS_APP_DB_ROLE}"')
    _use_role(settings.SMS_APP_DB_ROLE, settings.SMS_APP_DB_PASSWORD)
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        who, is_super, bypass = cursor.fetchone()
        assert who == settings.SMS_APP_DB_ROLE and not is_super and not bypass, (who, is_super, bypass)
    yield
    _use_role(*owner)
    # The live server's request threads are daemons that may still hold an idle
    # connection (browser keep-alive) when the session ends; end them so the test
    # database can be dropped.
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename = %s",
            [settings.SMS_APP_DB_ROLE],
        )
    connections["default"].close()


@pytest.fixture(autouse=True)
def _clean_context():
    context.activate(None, None)
    yield
    context.activate(None, None)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters live in the (Redis) cache; each test starts from zero. Only this
    process's keys go (its own prefix, see sms/testing.py): ``cache.clear()`` would empty
    the Redis database that parallel workers share."""
    from django.core.cache import cache

    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):  # a local-memory cache
        cache.clear()
        return
    redis = client.get_client(write=True)
    keys = list(redis.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def tenant_a(db):
    return create_tenant("acme", "Acme IT Services")


@pytest.fixture
def tenant_b(db):
    return create_tenant("globex", "Globex Managed Services")


def make_user(username: str, **extra):
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.test", **extra)
    return user


@pytest.fixture
def personas(tenant_a, tenant_b):
    """``{role: user}`` in tenant A, plus ``outsider`` (agent in B) and ``outsider_admin``."""
    people = {}
    for role in Role.values:
        user = make_user(f"acme-{role}")
        add_member(tenant_a, user, [role])
        people[role] = user
    people["outsider"] = make_user("globex-agent")
    add_member(tenant_b, people["outsider"], [Role.AGENT])
    people["outsider_admin"] = make_user("globex-admin")
    add_member(tenant_b, people["outsider_admin"], [Role.ADMIN])
    return people


def membership_of(user, tenant) -> Membership:
    with context.tenant_context(tenant, user):
        return Membership.objects.get(user=user)


def token_client(user, tenant) -> APIClient:
    with context.tenant_context(tenant, user):
        _, key = ApiToken.issue(membership_of(user, tenant))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user
    client.tenant = tenant
    return client


@pytest.fixture
def api(personas, tenant_a, tenant_b):
    """``api("agent")`` is a token client of acme-agent in tenant A; outsiders are in B."""
    cache: dict[str, APIClient] = {}

    def get(who: str) -> APIClient:
        if who not in cache:
            tenant = tenant_b if who.startswith("outsider") else tenant_a
            cache[who] = token_client(personas[who], tenant)
        return cache[who]

    return get


@pytest.fixture
def web(personas):
    """``web("agent")``: a browser client signed in as acme-<role> (outsiders: globex)."""
    from django.test import Client

    clients: dict[str, Client] = {}

    def get(who: str) -> Client:
        if who not in clients:
            client = Client()
            client.force_login(personas[who])
            clients[who] = client
        return clients[who]

    return get


@pytest.fixture
def in_tenant():
    """``with in_tenant(tenant, user):`` -- run setup code in a tenant's context."""
    return context.tenant_context


# --- real Chromium (Debian's /usr/bin/chromium through Playwright; never a download) -------
CHROMIUM = os.environ.get("SMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's server, started after (so stopped before) the test database."""
    return live_server


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests leave screenshots (kept by CI as test results)."""
    path = Path(__file__).resolve().parent.parent / "test-results"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page; ``page.console_errors`` collects script errors and failed loads."""
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls
    # happen before and after page actions, never concurrently.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.console_errors = errors
        yield page
        browser.close()


def sign_in(page, live_server, user, then: str | None = None) -> None:
    """Sign in through the login form; wait for ``then`` (a path) if given."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    if then:
        page.wait_for_url(f"{live_server.url}{then}")


# Sample objects of change management for the generic per-route tests (see tests/factories_control.py).
import tests.factories_control  # noqa: E402, F401
