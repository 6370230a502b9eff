"""Row-level security is the backstop: raw SQL as the application role sees nothing
without a tenant, and only the tenant's rows with one."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from governance.models import Improvement
from sms.tenancy import context
from sms.tenancy.rls import table_statuses
from tests.factories import ImprovementFactory


@pytest.fixture
def two_tenants_rows(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        a = [ImprovementFactory().pk for _ in range(3)]
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        b = [ImprovementFactory().pk for _ in range(2)]
    return a, b


def _raw_ids(tenant_id=None) -> set[int]:
    table = Improvement._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Bypass the backend's own context handling: talk to the driver directly.
        raw = cursor.cursor
        raw.execute("SELECT set_config('app.tenant_id', %s, true)", ["" if tenant_id is None else str(tenant_id)])
        raw.execute(f"SELECT id FROM {table}")
        return {row[0] for row in raw.fetchall()}


def test_connection_is_the_non_owner_application_role(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        user, is_super, bypass = cursor.fetchone()
    assert user == settings.SMS_APP_DB_ROLE
    assert not is_super and not bypass


def test_raw_sql_without_tenant_sees_nothing(two_tenants_rows):
    assert _raw_ids(None) == set()


def test_raw_sql_with_tenant_sees_only_that_tenant(two_tenants_rows, tenant_a, tenant_b):
    a, b = two_tenants_rows
    assert _raw_ids(tenant_a.pk) == set(a)
    assert _raw_ids(tenant_b.pk) == set(b)


def test_historical_tables_are_isolated_too(two_tenants_rows, tenant_a):
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
        raw.execute("SELECT DISTINCT tenant_id FROM governance_historicalimprovement")
        assert {r[0] for r in raw.fetchall()} == {tenant_a.pk}


def test_insert_into_another_tenant_is_refused_by_the_database(two_tenants_rows, tenant_a, tenant_b):
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction.atomic():
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
            raw.execute(
                "INSERT INTO tenancy_membership (tenant_id, user_id, roles, is_active, created_at) "
                "VALUES (%s, 1, '{agent}', true, now())",
                [tenant_b.pk],
            )


def test_every_tenant_table_has_forced_rls(db):
    with connection.cursor() as cursor:
        statuses = table_statuses(cursor)
    names = {s.table for s in statuses}
    assert {"governance_improvement", "governance_historicalimprovement", "tenancy_membership"} <= names
    assert [s.table for s in statuses if not s.ok] == []
    call_command("check_rls")


@pytest.mark.django_db(transaction=True)
def test_check_rls_fails_for_an_unprotected_tenant_table():
    """A table with a tenant_id column and no RLS makes the check fail."""
    owner = settings.DATABASES["default"].copy()
    dsn = psycopg.conninfo.make_conninfo(
        dbname=connection.settings_dict["NAME"], user=_owner_user(), host=owner.get("HOST") or None,
        port=owner.get("PORT") or None,
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE zz_rls_probe (id serial primary key, tenant_id bigint not null)")
        try:
            with pytest.raises(CommandError, match="1 tenant table"):
                call_command("check_rls")
        finally:
            conn.execute("DROP TABLE zz_rls_probe")


def _owner_user() -> str:
    import os

    import dj_database_url

    return dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])["USER"]
