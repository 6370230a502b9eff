"""List endpoints refuse query parameters they do not read (a silently ignored filter
looks like success to an integrator and returns the wrong rows)."""

from __future__ import annotations

from sms.core.api.router import router
from sms.tenancy import context
from tests.factories import CITypeFactory, ConfigurationItemFactory


def test_unknown_filter_is_a_400_naming_it(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        ConfigurationItemFactory(ci_type=CITypeFactory())
    resp = api("agent").get("/api/v1/cis/?type=server")
    assert resp.status_code == 400
    body = resp.json()
    assert list(body) == ["type"] and "ci_type" in body["type"][0]


def test_known_filters_pagination_ordering_and_search_pass(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        ci = ConfigurationItemFactory(ci_type=CITypeFactory())
    resp = api("agent").get(
        f"/api/v1/cis/?ci_type={ci.ci_type_id}&page=1&page_size=10&ordering=title&search={ci.title[:4]}&format=json"
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["count"] == 1


def test_range_filters_accept_their_suffixes():
    """A range filter reads ``<name>_after``/``<name>_before``: both are known parameters."""
    import django_filters
    from django.contrib.auth.models import User

    from sms.core.api.strict import filterset_params

    class Ranged(django_filters.FilterSet):
        created = django_filters.IsoDateTimeFromToRangeFilter(field_name="date_joined")
        title = django_filters.CharFilter(field_name="username")

        class Meta:
            model = User
            fields = []

    names = filterset_params(Ranged(queryset=User.objects.none()))
    assert names == {"created", "created_after", "created_before", "title"}


def test_every_list_route_accepts_its_own_documented_parameters(api):
    """Each list endpoint answers 200 to paging alone, and 400 to a made-up parameter."""
    client = api("admin")
    checked = 0
    for prefix, viewset, _basename in router.registry:
        if "{" in prefix or not hasattr(viewset, "list"):
            continue
        ok = client.get(f"/api/v1/{prefix}/?page_size=5")
        if ok.status_code != 200:
            continue  # some lists are only for other roles; the permission tests cover those
        bad = client.get(f"/api/v1/{prefix}/?no_such_filter=1")
        assert bad.status_code == 400, prefix
        assert "no_such_filter" in bad.json(), prefix
        checked += 1
    assert checked > 20
