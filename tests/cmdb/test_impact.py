"""Impact analysis: a recursive CTE over relationships, service components and service
dependencies; cycle-safe, depth-limited, tenant-bound (SQL filter and RLS)."""

from __future__ import annotations

import pytest
from django.db import transaction

from sms.cmdb import services
from sms.cmdb.models import Relationship
from sms.cmdb.services import impact, set_service_links
from sms.tenancy import context
from tests.factories import ConfigurationItemFactory, ServiceFactory


@pytest.fixture
def graph(make_ci, as_admin):
    """switch <-connected- host <-hosted- vm1 <-runs- app1 ; host <-hosted- vm2 <-runs- app2;
    disk part_of host (the host needs its disk); service S1 has component app1; S2 depends on S1;
    and a cycle a -> b -> c -> a (depends on)."""
    n = {name: make_ci(title=name) for name in ("switch", "host", "vm1", "vm2", "app1", "app2", "disk", "a", "b", "c")}
    with as_admin():
        for source, kind, target in (
            ("host", "connected_to", "switch"),
            ("vm1", "hosted_on", "host"),
            ("vm2", "hosted_on", "host"),
            ("app1", "runs_on", "vm1"),
            ("app2", "runs_on", "vm2"),
            ("disk", "part_of", "host"),
            ("a", "depends_on", "b"),
            ("b", "depends_on", "c"),
            ("c", "depends_on", "a"),
        ):
            Relationship.objects.create(source=n[source], kind=kind, target=n[target])
        n["S1"] = ServiceFactory(title="S1")
        n["S2"] = ServiceFactory(title="S2")
        set_service_links(n["S1"], components=[n["app1"]])
        set_service_links(n["S2"], depends_on=[n["S1"]])
    return n


def run(tenant, node, direction="down", depth=10, limit=services.DEFAULT_IMPACT_LIMIT):
    with context.tenant_context(tenant):
        return impact(node, direction, depth, limit)


def levels(result) -> dict[str, int]:
    return {node.title: node.depth for node in result.nodes}


def test_downstream_is_everything_that_depends_on_it(graph, tenant_a):
    result = run(tenant_a, graph["switch"])
    assert levels(result) == {"host": 1, "vm1": 2, "vm2": 2, "app1": 3, "app2": 3, "S1": 4, "S2": 5}
    by_title = {n.title: n for n in result.nodes}
    g = graph
    assert by_title["S2"].path == [
        g["switch"].reference,
        g["host"].reference,
        g["vm1"].reference,
        g["app1"].reference,
        g["S1"].reference,
        g["S2"].reference,
    ]
    assert by_title["S1"].kind == "service" and by_title["S1"].via == "component"
    assert by_title["host"].edge == {"from": g["host"].reference, "to": g["switch"].reference, "kind": "connected_to"}


def test_part_of_means_the_whole_needs_the_part(graph, tenant_a):
    assert levels(run(tenant_a, graph["disk"], depth=2)) == {"host": 1, "vm1": 2, "vm2": 2}
    up = levels(run(tenant_a, graph["host"], "up"))
    assert up == {"switch": 1, "disk": 1}


def test_upstream_is_everything_it_depends_on(graph, tenant_a):
    result = run(tenant_a, graph["S2"], "up")
    assert levels(result) == {"S1": 1, "app1": 2, "vm1": 3, "host": 4, "switch": 5, "disk": 5}


def test_depth_limit(graph, tenant_a):
    assert levels(run(tenant_a, graph["switch"], depth=1)) == {"host": 1}
    assert levels(run(tenant_a, graph["switch"], depth=2)) == {"host": 1, "vm1": 2, "vm2": 2}
    with pytest.raises(ValueError):
        run(tenant_a, graph["switch"], depth=0)


def test_limit_keeps_the_nearest_and_says_there_is_more(graph, tenant_a):
    everything = run(tenant_a, graph["switch"], limit=None)
    assert len(everything.nodes) == 7 and not everything.truncated
    exact = run(tenant_a, graph["switch"], limit=7)
    assert len(exact.nodes) == 7 and not exact.truncated  # exactly full is not "more"
    short = run(tenant_a, graph["switch"], limit=4)
    assert short.truncated and short.limit == 4
    # Breadth first: the whole of depths 1 and 2, then one of the two applications.
    assert sorted(levels(short).values()) == [1, 2, 2, 3]
    assert set(levels(short)) >= {"host", "vm1", "vm2"}
    one = run(tenant_a, graph["switch"], limit=1)
    assert levels(one) == {"host": 1} and one.truncated
    # The limit counts per direction; a depth cut is not a truncation.
    both = run(tenant_a, graph["app1"], "both", limit=2)
    assert [n.direction for n in both.nodes] == ["down", "down", "up", "up"] and both.truncated
    assert not run(tenant_a, graph["switch"], depth=1, limit=1).truncated
    for bad in (0, services.MAX_IMPACT_LIMIT + 1):
        with pytest.raises(ValueError):
            run(tenant_a, graph["switch"], limit=bad)


def test_limit_prefers_services_within_a_level(make_ci, as_admin, tenant_a):
    """What a change or failure means to customers is the services: within a level the
    budget goes to them before CIs."""
    core = make_ci(title="core")
    with as_admin():
        apps = [make_ci(title=f"app{i}") for i in range(3)]
        for app in apps:
            Relationship.objects.create(source=app, kind="depends_on", target=core)
        service = ServiceFactory(title="svc")
        set_service_links(service, components=[core])
    result = run(tenant_a, core, limit=1)
    assert levels(result) == {"svc": 1} and result.truncated


def test_cycles_terminate_and_visit_each_node_once(graph, tenant_a):
    assert levels(run(tenant_a, graph["a"])) == {"c": 1, "b": 2}
    assert levels(run(tenant_a, graph["a"], "up", depth=30)) == {"b": 1, "c": 2}
    result = run(tenant_a, graph["a"], "both")
    assert sorted((n.direction, n.title, n.depth) for n in result.nodes) == [
        ("down", "b", 2),
        ("down", "c", 1),
        ("up", "b", 1),
        ("up", "c", 2),
    ]


def test_dense_cyclic_graph_stays_bounded(make_ci, as_admin, tenant_a):
    """Every CI depends on every other: the number of paths explodes, the walk must not."""
    cis = [make_ci(title=f"m{i}") for i in range(9)]
    with as_admin():
        for a in cis:
            for b in cis:
                if a is not b:
                    Relationship.objects.create(source=a, kind="depends_on", target=b)
    result = run(tenant_a, cis[0], "down", depth=30)
    assert sorted(levels(result).values()) == [1] * 8


def test_service_dependency_cycle(as_admin, tenant_a, personas):
    with as_admin():
        s1, s2, s3 = ServiceFactory(title="s1"), ServiceFactory(title="s2"), ServiceFactory(title="s3")
        set_service_links(s1, depends_on=[s2])
        set_service_links(s2, depends_on=[s3])
        set_service_links(s3, depends_on=[s1])
    assert levels(run(tenant_a, s1, "up")) == {"s2": 1, "s3": 2}


def test_rls_still_applies_to_the_raw_query(graph, tenant_a, tenant_b):
    """The SQL filters on the tenant, and without the matching app.tenant_id RLS hides every row."""
    switch = graph["switch"]
    with context.tenant_context(tenant_a):
        assert len(services._walk(switch, "down", 5, tenant_a.pk, None)[0]) == 7
    with transaction.atomic(), context.tenant_context(tenant_b):
        assert services._walk(switch, "down", 5, tenant_a.pk, None) == ([], False)
    with transaction.atomic():
        assert services._walk(switch, "down", 5, tenant_a.pk, None) == ([], False)


def test_impact_refuses_a_node_of_another_tenant(graph, tenant_b):
    with context.tenant_context(tenant_b), pytest.raises(context.NoTenantError):
        impact(graph["switch"])


# --- API ----------------------------------------------------------------------------------------
def test_impact_endpoints(api, graph):
    client = api("agent")
    body = client.get(f"/api/v1/cis/{graph['switch'].pk}/impact/", {"depth": 2}).json()
    assert body["origin"]["reference"] == graph["switch"].reference
    assert body["direction"] == "down" and body["depth"] == 2 and body["count"] == 3
    assert body["limit"] == services.DEFAULT_IMPACT_LIMIT and body["truncated"] is False
    assert {n["title"] for n in body["nodes"]} == {"host", "vm1", "vm2"}
    body = client.get(f"/api/v1/cis/{graph['switch'].pk}/impact/", {"limit": 2}).json()
    assert body["count"] == 2 and body["truncated"] is True and body["limit"] == 2
    body = client.get(f"/api/v1/services/{graph['S2'].pk}/impact/", {"direction": "up"}).json()
    assert body["count"] == 6
    body = client.get(f"/api/v1/cis/{graph['app1'].pk}/impact/", {"direction": "both"}).json()
    assert {(n["direction"], n["title"]) for n in body["nodes"]} == {
        ("down", "S1"),
        ("down", "S2"),
        ("up", "vm1"),
        ("up", "host"),
        ("up", "switch"),
        ("up", "disk"),
    }


@pytest.mark.parametrize(
    "params",
    [
        {"depth": 0},
        {"depth": 31},
        {"depth": "deep"},
        {"direction": "sideways"},
        {"limit": 0},
        {"limit": 200_001},
        {"limit": "all"},
    ],
)
def test_impact_bad_parameters_are_400(api, graph, params):
    resp = api("agent").get(f"/api/v1/cis/{graph['switch'].pk}/impact/", params)
    assert resp.status_code == 400
    assert set(resp.json()) <= {"depth", "direction", "limit"}


def test_impact_is_tenant_isolated(api, graph, personas, tenant_b):
    outsider = api("outsider_admin")
    assert outsider.get(f"/api/v1/cis/{graph['switch'].pk}/impact/").status_code == 404
    assert outsider.get(f"/api/v1/services/{graph['S1'].pk}/impact/").status_code == 404
    # A relationship in tenant B pointing at the same ids cannot pull A's nodes into B's answer.
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        theirs = ConfigurationItemFactory(title="theirs")
        other = ConfigurationItemFactory(title="other", ci_type=theirs.ci_type)
        Relationship.objects.create(source=other, kind="uses", target=theirs)
    body = outsider.get(f"/api/v1/cis/{theirs.pk}/impact/").json()
    assert [n["title"] for n in body["nodes"]] == ["other"]
