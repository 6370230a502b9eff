"""Fewer round trips, same rules: the tenant settings travel with the statement that needs
them (sms/core/db/base.py), and independent SELECTs can share one round trip
(sms/core/db/batch.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from governance.models import Improvement
from sms.core.db.batch import fetch_together
from sms.parties.models import Contact, Party
from sms.tenancy import context
from tests.factories import ContactFactory, ImprovementFactory, PartyFactory


@pytest.fixture
def rows(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        a = {ImprovementFactory().pk for _ in range(3)}
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        b = {ImprovementFactory().pk for _ in range(2)}
    return a, b


def visible() -> set[int]:
    # The unscoped manager adds no tenant filter: only row-level security decides.
    return set(Improvement.unscoped.values_list("pk", flat=True))


def test_switching_tenant_inside_one_transaction_applies_each_time(rows, tenant_a, tenant_b, personas):
    a, b = rows
    with transaction.atomic():
        with context.tenant_context(tenant_a, personas["admin"]):
            assert visible() == a
        with context.tenant_context(tenant_b, personas["outsider_admin"]):
            assert visible() == b
        assert visible() == set()
        with context.tenant_context(tenant_a, personas["admin"]):
            assert visible() == a
            assert Improvement.unscoped.filter(pk__in=a | b).count() == len(a)


def test_raw_statements_keep_their_results_and_percent_signs(rows, tenant_a, personas):
    a, _ = rows
    table = Improvement._meta.db_table
    with context.tenant_context(tenant_a, personas["admin"]), connection.cursor() as cursor:
        cursor.execute(f"SELECT id, '100%' FROM {table} ORDER BY id")  # no parameters: % stays literal
        assert [r[0] for r in cursor.fetchall()] == sorted(a)
        cursor.execute(f"UPDATE {table} SET title = title WHERE id = ANY(%s)", [sorted(a)])
        assert cursor.rowcount == len(a)


def test_a_savepoint_rolls_back_after_its_context_has_ended(rows, tenant_a, tenant_b, personas):
    # ROLLBACK TO SAVEPOINT runs in an aborted transaction, under another context than
    # the failed statement's: it must go out alone, without the settings.
    a, b = rows
    with transaction.atomic():
        with context.tenant_context(tenant_a, personas["admin"]):
            assert visible() == a
        with pytest.raises(IntegrityError), transaction.atomic():
            with context.tenant_context(tenant_b, personas["outsider_admin"]), connection.cursor() as cursor:
                cursor.execute("INSERT INTO tenancy_tenant (id, slug) VALUES (NULL, NULL)")
        with context.tenant_context(tenant_b, personas["outsider_admin"]):
            assert visible() == b


def test_fetch_together_gives_what_each_queryset_gives_in_one_statement(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        foreign = PartyFactory()
    with context.tenant_context(tenant_a, personas["admin"]):
        party = PartyFactory(party_type="customer")
        contact = ContactFactory(party=party)
        querysets = [
            Contact.objects.select_related("party").filter(pk=contact.pk),
            Party.objects.filter(pk=party.pk),
            Party.objects.filter(pk=foreign.pk),  # another tenant's: not found
            Party.objects.filter(pk__in=[]),  # matches nothing: not even sent
            Party.objects.order_by("pk"),
        ]
        expected = [list(qs) for qs in querysets]
        with CaptureQueriesContext(connection) as ctx:
            got = fetch_together(querysets)
            assert got[0][0].party.name == party.name  # select_related filled in: no query
        assert len(ctx.captured_queries) == 1
        assert got == expected
        assert got[2] == [] and got[3] == []
        assert got[0][0].party_id == party.pk and got[0][0].created_at == contact.created_at


@pytest.mark.django_db
def test_timestamps_read_through_the_compiled_loader_are_the_same_utc_values():
    """sms/core/db/base.py has plain cursors read timestamptz with psycopg's compiled
    loader instead of Django's Python one: the values must be exactly what Django's gives,
    UTC-aware, whatever offset they were written with."""
    import datetime as dt

    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    sql = "SELECT %s::timestamptz, '2026-03-29 01:30:00.123456+02'::timestamptz, '0001-01-01 00:00:00+00'::timestamptz"
    written = dt.datetime(2026, 10, 25, 1, 30, 5, 7, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30)))
    with connection.cursor() as cursor:
        assert not issubclass(cursor.cursor.adapters.get_loader(1184, 0), BaseTzLoader)
        cursor.execute(sql, [written])
        fast = cursor.fetchone()
    with connection.connection.cursor() as raw:  # a cursor Django did not make
        django_loader = type("DjangoUTC", (BaseTzLoader,), {"timezone": dt.UTC})  # as Django registers it
        raw.adapters.register_loader(1184, django_loader)
        raw.execute(sql, [written])
        reference = raw.fetchone()
    assert fast == reference
    assert all(value.tzinfo is dt.UTC for value in fast)
    assert fast[0] == written and fast[1] == dt.datetime(2026, 3, 28, 23, 30, 0, 123456, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_application_sessions_never_jit_compile():
    """sms/settings.py: JIT compiling cost more than whole short queries under RLS."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
