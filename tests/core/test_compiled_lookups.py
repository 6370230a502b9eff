"""Lookups compiled once (sms/core/db/compiled.py), serializer fields built once per class
(PrototypeFieldsMixin), and tenant settings carried by a statement outside a transaction.
All of it runs as the application role, so row-level security has the last word."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from processes.resolution.api.serializers import IncidentSerializer
from sms.core.api import related
from sms.core.api.serializers import _UNCACHEABLE, PrototypeFieldsMixin, TenantModelSerializer
from sms.core.db.batch import fetch_compiled
from sms.core.db.compiled import INT_SENTINEL, LookupCache, compile_around
from sms.parties.models import Party
from sms.tenancy import context
from sms.tenancy.models import ApiToken
from tests.factories import CategoryFactory, ContactFactory, PartyFactory, ServiceFactory


def _setup_rows(tenant, user):
    with context.tenant_context(tenant, user):
        group = PartyFactory(party_type="internal_group", name=f"Desk of {tenant.slug}")
        return {
            "service": ServiceFactory().pk,
            "category": CategoryFactory().pk,
            "assignment_group": group.pk,
            "caller": ContactFactory().pk,
        }


@pytest.fixture
def rows(personas, tenant_a, tenant_b):
    related.LOOKUPS.clear()
    return _setup_rows(tenant_a, personas["admin"]), _setup_rows(tenant_b, personas["outsider_admin"])


def _post(client, rows, title="Mail is slow"):
    return client.post("/api/v1/incidents/", {"title": title, "impact": 2, "urgency": 2, **rows}, format="json")


def test_compiled_lookups_are_kept_per_tenant(api, rows):
    mine, theirs = rows
    a, b = api("admin"), api("outsider_admin")
    assert _post(a, mine).status_code == 201
    kept = len(related.LOOKUPS)
    assert kept == 4  # service, category, group, caller: one entry each for tenant A
    assert _post(b, theirs).status_code == 201
    assert len(related.LOOKUPS) == 2 * kept  # tenant B has its own
    # Tenant A's compiled lookups never find tenant B's rows, whichever id is sent.
    for field, value in theirs.items():
        resp = _post(a, {**mine, field: value})
        assert resp.status_code == 400, (field, resp.content)
        assert "does not exist" in str(resp.json()[field]), resp.json()
    again = _post(a, mine, title="Mail is slow again")
    assert again.status_code == 201
    body = again.json()
    assert body["service"] == mine["service"] and body["category"] == mine["category"]
    assert body["caller"] == mine["caller"] and body["assignment_group"] == mine["assignment_group"]
    assert len(related.LOOKUPS) == 2 * kept  # nothing compiled again


def test_compiled_lookups_share_one_statement(api, rows, tenant_a, personas):
    mine, _ = rows
    client = api("admin")
    assert _post(client, mine).status_code == 201  # compiles
    with CaptureQueriesContext(connection) as ctx:
        assert _post(client, mine, title="Second").status_code == 201
    lookups = [q["sql"] for q in ctx.captured_queries if "FROM \"cmdb_service\"" in q["sql"]]
    assert len(lookups) == 1
    for table in ("resolution_category", "parties_party", "parties_contact"):
        assert f'FROM "{table}"' in lookups[0]


def test_a_lookup_whose_value_cannot_be_found_is_not_kept(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        party = PartyFactory()
        # A queryset that transforms the value: the sentinel is not among the parameters.
        assert compile_around(Party.objects.filter(pk=INT_SENTINEL + 1), INT_SENTINEL) is None
        assert compile_around(Party.objects.filter(pk__in=[]), INT_SENTINEL) is None  # no SQL at all
        cache = LookupCache(size=2)
        assert cache.compiled("shifted", lambda pk: Party.objects.filter(pk=pk + 1), INT_SENTINEL) is None
        by_pk = cache.compiled("p", lambda pk: Party.objects.filter(pk=pk), INT_SENTINEL)
        assert fetch_compiled([(by_pk, party.pk), (by_pk, party.pk + 999)]) == [[party], []]
        for key in ("q", "r"):  # the least recently used entries go
            cache.compiled(key, lambda pk: Party.objects.filter(pk=pk), INT_SENTINEL)
        assert len(cache) == 2 and cache.compiled("r", None, INT_SENTINEL) is not None


def test_token_lookup_follows_revocation_and_membership(api, personas, tenant_a):
    from sms.tenancy.models import Membership

    client = api("agent")
    assert client.get("/api/v1/me/").status_code == 200
    with context.tenant_context(tenant_a, personas["admin"]):
        Membership.objects.filter(user=personas["agent"]).update(is_active=False)
    assert client.get("/api/v1/me/").status_code == 401
    with context.tenant_context(tenant_a, personas["admin"]):
        Membership.objects.filter(user=personas["agent"]).update(is_active=True)
    assert client.get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(user=personas["agent"]).update(revoked_at="2020-01-01T00:00:00Z")
    assert client.get("/api/v1/me/").status_code == 401


# --- fields built once per class ---------------------------------------------------------------
def test_each_serializer_gets_its_own_fields(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        first, second = IncidentSerializer(), IncidentSerializer()
        for name in ("title", "service", "impact", "owner_detail", "affected_cis"):
            assert first.fields[name] is not second.fields[name]
            assert first.fields[name].parent is first and second.fields[name].parent is second
        first.fields["channel"].choices = ["phone"]
        first.fields["title"].error_messages["blank"] = "changed"
        first.fields["title"].validators.append(lambda value: None)
        assert "email" in second.fields["channel"].choices
        assert second.fields["title"].error_messages["blank"] != "changed"
        assert len(second.fields["title"].validators) == len(first.fields["title"].validators) - 1
        assert IncidentSerializer().fields.keys() == first.fields.keys()


def test_fields_holding_a_tenant_queryset_are_built_every_time(personas, tenant_a, tenant_b):
    class WithQueryset(PrototypeFieldsMixin, serializers.ModelSerializer):
        group = serializers.PrimaryKeyRelatedField(queryset=Party.unscoped.none())

        class Meta:
            model = Party
            fields = ["id", "name", "group"]

    class Plain(TenantModelSerializer):
        class Meta:
            model = Party
            fields = ["id", "name", "party_type"]

    with context.tenant_context(tenant_a, personas["admin"]):
        assert WithQueryset().fields and Plain().fields
    assert WithQueryset.__dict__["_prototype_fields"] is _UNCACHEABLE
    assert isinstance(Plain.__dict__["_prototype_fields"], dict)


# --- outside a transaction ---------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_autocommit_statement_carries_its_tenant_and_leaves_nothing_behind(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["admin"]):
        mine = PartyFactory().pk
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        theirs = PartyFactory().pk
    assert not connection.in_atomic_block
    with context.tenant_context(tenant_a, personas["admin"]), CaptureQueriesContext(connection) as ctx:
        seen = set(Party.unscoped.filter(pk__in=[mine, theirs]).values_list("pk", flat=True))
    assert seen == {mine}  # row-level security, not a tenant filter, hid tenant B's row
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["SELECT"]  # no BEGIN/COMMIT around it
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true)")
        assert cursor.fetchone() in {("", ""), (None, None)}
        assert Party.unscoped.filter(pk__in=[mine, theirs]).count() == 0


# --- the token request ---------------------------------------------------------------------------
def test_token_and_membership_are_read_in_one_statement(api, personas, tenant_a):
    client = api("agent")
    assert client.get("/api/v1/me/").status_code == 200  # compiles
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/me/").json()["tenant"]["slug"] == "acme"
    reading = [q["sql"] for q in ctx.captured_queries if "tenancy_apitoken" in q["sql"]]
    assert len(reading) == 1 and '"tenancy_membership"' in reading[0]


def test_refused_tokens_leave_no_user_setting_behind(personas, tenant_a):
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from sms.tenancy.authentication import token_and_membership
    from sms.tenancy.models import Membership
    from tests.conftest import membership_of

    _, key = ApiToken.issue(membership_of(personas["agent"], tenant_a))
    digest = ApiToken.hash_key(key)
    token, membership = token_and_membership(digest)
    assert token.user == personas["agent"] and membership.tenant == tenant_a
    ApiToken.objects.filter(digest=digest).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with transaction.atomic():
        token, membership = token_and_membership(digest)  # found, refused by the caller as expired
        assert token is not None and token.expires_at < timezone.now()
        # The statement acted as the token's user; the next one, without a context, does not.
        assert Membership.unscoped.count() == 0
    assert token_and_membership(ApiToken.hash_key("no-such-key")) == (None, None)
    tenant_a.is_active = False
    tenant_a.save(update_fields=["is_active"])
    ApiToken.objects.filter(digest=digest).update(expires_at=None)
    token, membership = token_and_membership(digest)
    assert token is not None and membership is None  # a token of an inactive tenant acts nowhere


@pytest.mark.parametrize("value", ["²", "１２", "-3", "1e3", 2**70, True])
def test_odd_ids_in_a_body_are_field_errors(api, rows, value):
    mine, _ = rows
    resp = _post(api("admin"), {**mine, "service": value})
    assert resp.status_code == 400, resp.content
    assert "service" in resp.json()
