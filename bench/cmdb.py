"""Benchmark: CMDB impact analysis and CI lists on 100,000 CIs / 300,000 relationships.

Run with ``python bench/cmdb.py`` (``.venv/bin/python`` of ./dev) and the usual
``DATABASE_OWNER_URL`` / ``DATABASE_URL``. The bench never touches the databases those
point at: it drops and recreates a dedicated database (``sms_bench``, or
``SMS_BENCH_DB``) on the same server as the owner, migrates it as the owner, loads the
fixture graph as the owner with COPY, and then measures as the application role, through
Django, with the tenant context set, i.e. under row-level security like a request.

Options: ``--reuse`` keeps an already built bench database (skips drop, migrate and
load), ``--scale 0.1`` builds a smaller graph for a quick look, ``--runs N`` sets how
many timed runs each median is taken over, ``--keep`` leaves the database in place at the
end (it is dropped otherwise, unless --reuse was given).

The graph (main tenant): catalogue services -> applications -> VMs -> hypervisor hosts ->
top-of-rack switches -> distribution switches -> core switches, storage pools -> arrays
-> core switches, databases on VMs, applications depending on databases, load balancers,
external service CIs and each other (cross links, a ring of distribution switches, the
two core switches connected to each other and a few dependency cycles between
applications). Licences, documents and supplier contracts hang off the side. A core
switch therefore has nearly the whole estate downstream: the worst case for impact
analysis. A second tenant gets a fifth of the same graph as noise.

Prints numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import harness

MAIN_CIS, MAIN_RELS = 100_000, 300_000
NOISE_CIS, NOISE_RELS = 20_000, 60_000
MAIN_SLUG, NOISE_SLUG = "bench-cmdb", "bench-cmdb-noise"
TARGET_IMPACT_MS, TARGET_LIST_MS = 200.0, 50.0
TABLES = ("cmdb_configurationitem", "cmdb_relationship", "cmdb_service", "cmdb_servicecomponent",
          "cmdb_servicedependency", "cmdb_citype", "core_referencecounter")


# --- the fixture graph -------------------------------------------------------------------------
@dataclass
class Graph:
    """CIs as (type code, title, state, location, attributes, asset tag, master copy?),
    relationships as (source index, kind, target index), catalogue services, their
    components (service index, CI index) and dependencies (service index, service index)."""

    cis: list[tuple] = field(default_factory=list)
    rels: dict[tuple[int, str, int], None] = field(default_factory=dict)  # ordered set
    services: list[tuple[str, str]] = field(default_factory=list)
    components: set[tuple[int, int]] = field(default_factory=set)
    service_deps: set[tuple[int, int]] = field(default_factory=set)
    marks: dict[str, int] = field(default_factory=dict)

    def add_ci(self, code: str, title: str, rng: random.Random, attrs: dict, *, tagged: bool = False,
               master: bool = False) -> int:
        roll = rng.random()
        state = "live" if roll < 0.92 else "maintenance" if roll < 0.95 else "in_build" if roll < 0.98 else "planned"
        location = f"DC{1 + rng.randrange(2)} hall {'AB'[rng.randrange(2)]} rack {rng.randrange(1, 60):02d}"
        self.cis.append((code, title, state, location, attrs, tagged, master))
        return len(self.cis) - 1

    def relate(self, source: int, kind: str, target: int) -> bool:
        key = (source, kind, target)
        if source == target or key in self.rels:
            return False
        self.rels[key] = None
        return True


def build_graph(n_cis: int, n_rels: int, seed: int) -> Graph:
    rng = random.Random(seed)
    s = n_cis / MAIN_CIS
    g = Graph()

    def count(full: int, least: int = 1) -> int:
        return max(least, round(full * s))

    def many(n: int, code: str, fmt: str, attrs, **kw) -> list[int]:
        return [g.add_ci(code, fmt.format(i + 1), rng, attrs(i) if callable(attrs) else dict(attrs), **kw)
                for i in range(n)]

    sw = {"device_role": "switch", "manufacturer": "Arista"}
    cores = many(2, "network_device", "core-switch-{:02d}", sw, tagged=True)
    dists = many(count(48, 4), "network_device", "dist-switch-{:03d}", sw, tagged=True)
    fws = many(count(16, 2), "network_device", "firewall-{:03d}", {"device_role": "firewall"}, tagged=True)
    lbs = many(count(64, 2), "network_device", "load-balancer-{:03d}", {"device_role": "load balancer"}, tagged=True)
    tors = many(count(480, 8), "network_device", "tor-switch-{:04d}", sw, tagged=True)
    arrays = many(count(8, 2), "storage", "storage-array-{:02d}", {"capacity_tb": 800, "storage_class": "block"},
                  tagged=True)
    pools = many(count(400, 8), "storage", "datastore-{:04d}", {"capacity_tb": 40, "storage_class": "block"})
    shares = many(count(200, 2), "storage", "file-share-{:04d}", {"capacity_tb": 10, "storage_class": "file"})
    hosts = many(count(5000, 10), "server", "esx-{:05d}",
                 {"ram_gb": 768, "cpu_cores": 64, "manufacturer": "Dell", "model": "R760"}, tagged=True)
    dbs = many(count(6000, 10), "database", "db-{:05d}", lambda i: {"engine": "PostgreSQL", "engine_version": "15"})
    envs = ["production", "production", "production", "staging", "test", "development"]
    apps = many(count(30000, 50), "application", "app-{:05d}",
                lambda i: {"environment": envs[i % len(envs)], "vendor": "In-house"}, master=True)
    ext = many(count(300, 3), "service", "ext-service-{:03d}", {"provider_reference": "ext"})
    lics = many(count(1500, 3), "licence", "licence-{:04d}", {"licence_type": "subscription", "seats": 100},
                master=True)
    docs = many(count(6000, 10), "document", "runbook-{:05d}", {"document_type": "run book"}, master=True)
    contracts = many(count(200, 2), "supplier_contract", "contract-{:03d}",
                     lambda i: {"contract_number": f"SC-{i + 1:04d}"}, master=True)
    vms = many(n_cis - len(g.cis), "virtual_machine", "vm-{:06d}",
               {"vcpus": 4, "ram_gb": 16, "environment": "production"})
    assert len(g.cis) == n_cis

    # Network: a redundant tree with a ring and a core pair (cycles).
    g.relate(cores[0], "connected_to", cores[1])
    g.relate(cores[1], "connected_to", cores[0])
    for i, d in enumerate(dists):
        g.relate(d, "connected_to", cores[0])
        g.relate(d, "connected_to", cores[1])
        g.relate(d, "connected_to", dists[(i + 1) % len(dists)])
    for f in fws:
        g.relate(f, "connected_to", cores[0])
        g.relate(f, "connected_to", cores[1])
    for i, lb in enumerate(lbs):
        g.relate(lb, "connected_to", dists[i % len(dists)])
        g.relate(lb, "connected_to", dists[(i + 1) % len(dists)])
    for i, t in enumerate(tors):
        g.relate(t, "connected_to", dists[(i // 10) % len(dists)])
        g.relate(t, "connected_to", dists[(i // 10 + 1) % len(dists)])
    # Storage: arrays on the core network, datastores and shares hosted on an array.
    for a in arrays:
        g.relate(a, "connected_to", cores[0])
        g.relate(a, "connected_to", cores[1])
    pools_of: dict[int, list[int]] = {a: [] for a in range(len(arrays))}
    for i, p in enumerate(pools):
        g.relate(p, "hosted_on", arrays[i % len(arrays)])
        pools_of[i % len(arrays)].append(p)
    for i, sh in enumerate(shares):
        g.relate(sh, "hosted_on", arrays[i % len(arrays)])
    # Hosts: a pair of top-of-rack switches, two datastores of their pod's array.
    pod_of = {}
    for i, h in enumerate(hosts):
        pair = (i // 10 * 2) % len(tors)
        g.relate(h, "connected_to", tors[pair])
        g.relate(h, "connected_to", tors[(pair + 1) % len(tors)])
        pod_of[h] = i % len(arrays)
        for p in rng.sample(pools_of[pod_of[h]], 2):
            g.relate(h, "depends_on", p)
    # VMs on a host, on a datastore of the host's array; some carry an OS licence.
    for v in vms:
        h = hosts[rng.randrange(len(hosts))]
        g.relate(v, "hosted_on", h)
        g.relate(v, "depends_on", rng.choice(pools_of[pod_of[h]]))
        if rng.random() < 0.3:
            g.relate(v, "licensed_by", rng.choice(lics))
    # Databases on their own VMs, applications on one or two of the others.
    db_vms, app_vms = vms[: len(dbs)], vms[len(dbs):]
    for d, v in zip(dbs, db_vms, strict=True):
        g.relate(d, "runs_on", v)
        if rng.random() < 0.5:
            g.relate(d, "licensed_by", rng.choice(lics))
    for a in apps:
        for _ in range(1 + (rng.random() < 0.5)):
            g.relate(a, "runs_on", rng.choice(app_vms))
        if rng.random() < 0.6:
            g.relate(a, "depends_on", rng.choice(dbs))
        if rng.random() < 0.3:
            g.relate(a, "uses", rng.choice(ext))
        if rng.random() < 0.2:
            g.relate(a, "depends_on", rng.choice(lbs))
        if rng.random() < 0.2:
            g.relate(a, "licensed_by", rng.choice(lics))
    for e in ext:
        g.relate(e, "connected_to", rng.choice(fws))
    for i, lic in enumerate(lics):
        g.relate(lic, "part_of", contracts[i % len(contracts)])
    for d in docs:
        g.relate(d, "part_of", rng.choice(apps))
    # A few explicit dependency cycles between applications (2 to 5 long).
    for _ in range(max(3, count(40))):
        ring = rng.sample(apps, rng.randrange(2, 6))
        for x, y in zip(ring, ring[1:] + ring[:1], strict=True):
            g.relate(x, "depends_on", y)
    # Fill up with application-to-application dependencies. Applications come in business
    # domains of 100; most dependencies stay inside the domain, towards its more basic
    # (lower-numbered) applications, 5% go to the shared platform domain (identity,
    # messaging, logging: the first 100), and a few point the other way (more cycles).
    domain = 100
    while len(g.rels) < n_rels:
        i = rng.randrange(1, len(apps))
        base = i - i % domain
        roll = rng.random()
        if roll < 0.05:
            j = rng.randrange(min(domain, len(apps)))
        elif roll < 0.998 and i > base:
            j = rng.randrange(base, i)
        else:
            j = rng.randrange(base, min(base + domain, len(apps)))
        g.relate(apps[i], "depends_on", apps[j])
    assert len(g.rels) == n_rels, (len(g.rels), n_rels)

    # The catalogue: services made of top-tier applications, depending on each other.
    n_services = count(200, 5)
    front = apps[len(apps) * 4 // 5:]
    for k in range(n_services):
        g.services.append((f"Business service {k + 1:03d}", str(1 + k % 4)))
        for a in rng.sample(front, min(20, len(front))):
            g.components.add((k, a))
        if k:
            for _ in range(1 + (rng.random() < 0.5)):
                g.service_deps.add((k, rng.randrange(k)))
    # An application nothing depends on (a leaf downstream) for the upstream walk.
    targets = {t for _, _, t in g.rels}
    g.marks = {
        "core switch": cores[0],
        "storage array": arrays[0],
        "distribution switch": dists[0],
        "hypervisor host": hosts[0],
        "leaf application": next(a for a in reversed(apps) if a not in targets),
    }
    return g


# --- loading as the owner ---------------------------------------------------------------------
def load_graph(owner_url: str, tenant_id: int, owner_id: int, g: Graph) -> None:
    """COPY the graph into the tenant as the owner (who bypasses RLS).

    Bench fixture data only: no history rows are written (simple-history would add one
    per CI and relationship; nothing measured here reads them), and created_by is left
    empty. Reference numbers continue the tenant's ReferenceCounter, which is bumped
    past them, so CIs and services created later through the application do not collide.
    """
    import psycopg

    now = datetime.now(UTC)
    sha = "0" * 63 + "1"
    with psycopg.connect(owner_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, id FROM cmdb_citype WHERE tenant_id = %s", [tenant_id])
        type_ids = dict(cur.fetchall())
        first = harness.reserve_numbers(cur, tenant_id, "ci", len(g.cis))
        columns = (
            "tenant_id, created_at, updated_at, number, reference, title, description, state, version, location,"
            " attributes, serial_number, asset_tag, currency, cost_centre, master_copy_location,"
            " master_copy_sha256, last_change_reference, ci_type_id, owner_id"
        )
        with cur.copy(f"COPY cmdb_configurationitem ({columns}) FROM STDIN") as copy:
            for i, (code, title, state, location, attrs, tagged, master) in enumerate(g.cis):
                number = first + i + 1
                copy.write_row((
                    tenant_id, now, now, number, f"CI-{number}", title, "", state, "", location,
                    json.dumps(attrs), "", f"AT-{number:07d}" if tagged else "", "", "",
                    f"dml://bench/{title}" if master else "", sha if master else "", "", type_ids[code],
                    owner_id if i % 3 == 0 else None,
                ))
        cur.execute(
            "SELECT number, id FROM cmdb_configurationitem WHERE tenant_id = %s AND number > %s AND number <= %s",
            [tenant_id, first, first + len(g.cis)],
        )
        ids = {number - first - 1: pk for number, pk in cur.fetchall()}
        with cur.copy(
            "COPY cmdb_relationship (tenant_id, created_at, updated_at, kind, note, source_id, target_id) FROM STDIN"
        ) as copy:
            for source, kind, target in g.rels:
                copy.write_row((tenant_id, now, now, kind, "", ids[source], ids[target]))

        first_service = harness.reserve_numbers(cur, tenant_id, "service", len(g.services))
        with cur.copy(
            "COPY cmdb_service (tenant_id, created_at, updated_at, number, reference, title, description, state,"
            " criticality, hours_of_service, is_customer_facing, owner_id) FROM STDIN"
        ) as copy:
            for k, (title, criticality) in enumerate(g.services):
                number = first_service + k + 1
                copy.write_row((tenant_id, now, now, number, f"SVC-{number}", title, "", "live", criticality,
                                "24x7", True, owner_id))
        cur.execute(
            "SELECT number, id FROM cmdb_service WHERE tenant_id = %s AND number > %s AND number <= %s",
            [tenant_id, first_service, first_service + len(g.services)],
        )
        service_ids = {number - first_service - 1: pk for number, pk in cur.fetchall()}
        with cur.copy("COPY cmdb_servicecomponent (tenant_id, created_at, updated_at, service_id, ci_id) FROM STDIN"
                      ) as copy:
            for k, ci in sorted(g.components):
                copy.write_row((tenant_id, now, now, service_ids[k], ids[ci]))
        with cur.copy(
            "COPY cmdb_servicedependency (tenant_id, created_at, updated_at, service_id, depends_on_id) FROM STDIN"
        ) as copy:
            for k, j in sorted(g.service_deps):
                copy.write_row((tenant_id, now, now, service_ids[k], service_ids[j]))
        conn.commit()


# --- measuring as the application role -------------------------------------------------------
def explain_summary(sql: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement as the app role in the current tenant:
    the top node, its buffers, and planning/execution time."""
    lines = harness.explain(sql)
    keep = [lines[0].strip()]
    keep += [line.strip() for line in lines if line.strip().startswith("Buffers")][:1]
    return keep + harness.timing_lines(lines)


def measure(args, rows: list[dict], main_tenant_id: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client

    from sms.cmdb import services
    from sms.cmdb.models import CIType, ConfigurationItem
    from sms.tenancy import context
    from sms.tenancy.models import Tenant

    tenant = Tenant.objects.get(pk=main_tenant_id)
    user = get_user_model().objects.get(username=f"{MAIN_SLUG}-admin")
    api = harness.token_client(tenant, user)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)

    def run_impact(ci, direction, depth, limit=services.DEFAULT_IMPACT_LIMIT):
        # The tenant context and one transaction, as in a request (a test-client request
        # clears the context when it ends, so it is entered for every call).
        with context.tenant_context(tenant, user), transaction.atomic():
            return services.impact(ci, direction, depth, limit)

    def get(client, url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:500])
            return response

        return call

    def as_member():
        return context.tenant_context(tenant, user)

    with as_member():
        marks = {
            label: ConfigurationItem.objects.select_related("ci_type").get(title=title)
            for label, title in args.marks.items()
        }
    # The CI with the largest downstream set among the candidates built for it.
    sizes = {label: len(run_impact(ci, "down", services.DEFAULT_IMPACT_DEPTH, None).nodes)
             for label, ci in marks.items() if label != "leaf application"}
    largest = max(sizes, key=sizes.get)
    harness.say(f"downstream sets at depth {services.DEFAULT_IMPACT_DEPTH}: "
                + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    # The default answer (the nearest DEFAULT_IMPACT_LIMIT nodes, flagged as truncated
    # when there are more) and the complete one (limit=None; the API's highest limit).
    default, complete = services.DEFAULT_IMPACT_LIMIT, None
    cases = [
        (largest, "down", services.DEFAULT_IMPACT_DEPTH, default),
        (largest, "down", services.MAX_IMPACT_DEPTH, default),
        (largest, "down", services.DEFAULT_IMPACT_DEPTH, complete),
        ("storage array", "down", services.DEFAULT_IMPACT_DEPTH, default),
        ("storage array", "down", services.DEFAULT_IMPACT_DEPTH, complete),
        ("hypervisor host", "down", services.DEFAULT_IMPACT_DEPTH, default),
        ("leaf application", "up", services.DEFAULT_IMPACT_DEPTH, default),
        ("leaf application", "up", services.MAX_IMPACT_DEPTH, default),
    ]
    explains = []
    for label, direction, depth, limit in cases:
        ci = marks[label]
        captured = harness.captured_queries(lambda ci=ci, d=direction, n=depth, m=limit: run_impact(ci, d, n, m))
        walk_sql = [q["sql"] for q in captured if "RECURSIVE" in q["sql"]]
        impact_queries = len(captured)
        fn_ms, result = harness.median_ms(lambda ci=ci, d=direction, n=depth, m=limit: run_impact(ci, d, n, m),
                                          args.runs)
        shown = "all" if limit is None else f"{limit}"
        name = f"impact {direction} d={depth} limit={shown} from {label} ({ci.reference})"
        rows.append({"operation": f"{name}: service", "rows": len(result.nodes), "page": "",
                     "queries": impact_queries, "ms": fn_ms, "target": TARGET_IMPACT_MS,
                     "note": "truncated" if result.truncated else "complete"})
        api_limit = services.MAX_IMPACT_LIMIT if limit is None else limit
        url = f"/api/v1/cis/{ci.pk}/impact/?direction={direction}&depth={depth}&limit={api_limit}"
        api_queries = len(harness.captured_queries(get(api, url)))
        api_ms, response = harness.median_ms(get(api, url), args.runs)
        rows.append({"operation": f"{name}: GET API", "rows": response.json()["count"], "page": "",
                     "queries": api_queries, "ms": api_ms, "target": TARGET_IMPACT_MS,
                     "kb": len(response.content) // 1024,
                     "note": "truncated" if response.json()["truncated"] else "complete"})
        with as_member():
            explains += [(name, explain_summary(sql)) for sql in walk_sql]

    # CI lists: the largest type, filtered, at three page sizes; API and browser.
    with as_member():
        vm_type = CIType.objects.get(code="virtual_machine")
        type_rows = ConfigurationItem.objects.filter(ci_type=vm_type).count()
        all_rows = ConfigurationItem.objects.count()
    cases = [
        (f"GET {path}?ci_type=<virtual machine>{note}", client, f"{path}?ci_type={vm_type.pk}&page_size={page}",
         type_rows, page)
        for page in (10, 50, 100)
        for path, client, note in (("/api/v1/cis/", api, ""), (f"/t/{MAIN_SLUG}/cis/", browser, " (browser)"))
    ] + [
        # The same rows through the type-code filter (a CharFilter: no DISTINCT), to
        # show what the ci_type filter's DISTINCT costs.
        (f"GET {path}?type_code=virtual_machine{note}", client, f"{path}?type_code=virtual_machine&page_size={page}",
         type_rows, page)
        for page in (10, 50, 100)
        for path, client, note in (("/api/v1/cis/", api, ""), (f"/t/{MAIN_SLUG}/cis/", browser, " (browser)"))
    ] + [
        ("GET /api/v1/cis/ (all types)", api, "/api/v1/cis/?page_size=50", all_rows, 50),
        ("GET /api/v1/cis/?ci_type=<virtual machine>&page=100", api,
         f"/api/v1/cis/?ci_type={vm_type.pk}&page_size=50&page=100", type_rows, 50),
    ]
    list_explain = []
    for label, client, url, n_rows, page in cases:
        captured = harness.captured_queries(get(client, url))
        ms, _ = harness.median_ms(get(client, url), args.runs)
        rows.append({"operation": label, "rows": n_rows, "page": page, "queries": len(captured),
                     "ms": ms, "target": TARGET_LIST_MS})
        if page == 50 and client is api and "page=" not in url.replace("page_size", ""):
            slowest = harness.slowest_queries(captured)
            with as_member():
                list_explain += [(f"{label}: {q['sql'][:70]}...", explain_summary(q["sql"])) for q in slowest]

    print("\nEXPLAIN (ANALYZE, BUFFERS), as the app role under RLS: impact walks, slowest list queries")
    for name, lines in explains + list_explain:
        print(f"  {name}")
        for line in lines:
            print(f"      {line}")


def table_lines(rows: list[dict]):
    for r in rows:
        met = "yes" if r["ms"] < r["target"] else "NO"
        extra = f"  ({r['kb']} KiB)" if "kb" in r else ""
        extra += f"  {r['note']}" if "note" in r else ""
        yield (f"{r['operation'][:78]:78} {r['rows']:7} {r['page']!s:>5} {r['queries']:8} {r['ms']:10.1f} "
               f"{'<' + format(r['target'], '.0f'):>5} {met:>3}{extra}")


def main() -> None:
    parser = harness.arguments(__doc__, scale_help="fraction of 100,000 CIs / 300,000 relationships", runs=5)
    args = parser.parse_args()
    name, owner_url, app_url = harness.bench_database("sms_bench")
    n_cis, n_rels = round(MAIN_CIS * args.scale), round(MAIN_RELS * args.scale)
    n_noise, n_noise_rels = round(NOISE_CIS * args.scale), round(NOISE_RELS * args.scale)
    phases = harness.Phases()

    built = False
    if args.reuse:
        built = harness.built_rows(owner_url, "cmdb_configurationitem", MAIN_SLUG) == n_cis
        harness.say("reusing the bench database" if built else "no usable bench database: building one")
    if not built:
        start = time.perf_counter()
        harness.recreate_database(owner_url, name)
        harness.migrate(dict(os.environ))
        phases.done("create and migrate database", start)

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from sms.cmdb.services import ensure_default_ci_types
    from sms.tenancy.models import Tenant
    from sms.tenancy.services import add_member, create_tenant

    # Generated every time (deterministic): --reuse needs the marked CIs' titles too.
    start = time.perf_counter()
    main_graph = build_graph(n_cis, n_rels, seed=9001)
    noise_graph = build_graph(n_noise, n_noise_rels, seed=4242)
    phases.done("generate graphs", start)
    if not built:
        start = time.perf_counter()
        for slug, graph in ((MAIN_SLUG, main_graph), (NOISE_SLUG, noise_graph)):
            tenant = create_tenant(slug, f"CMDB benchmark {slug}")
            user, _ = get_user_model().objects.get_or_create(username=f"{slug}-admin")
            add_member(tenant, user, ["admin"])
            ensure_default_ci_types(tenant)
            load_graph(owner_url, tenant.pk, user.pk, graph)
        harness.vacuum_analyze(owner_url, TABLES)
        phases.done("load (COPY) and VACUUM ANALYZE", start)
    if args.build_only:
        harness.say(f"built {name}; measure with --reuse")
        return
    marks = {label: main_graph.cis[i][1] for label, i in main_graph.marks.items()}
    args.marks = marks

    harness.say(f"measuring as {harness.app_role(app_url)} (medians of {args.runs} runs)")
    start = time.perf_counter()
    rows: list[dict] = []
    measure(args, rows, Tenant.objects.get(slug=MAIN_SLUG).pk)
    phases.done("measure", start)
    harness.print_table(f"{'operation':78} {'rows':>7} {'page':>5} {'queries':>8} {'median ms':>10} {'target':>8}",
                table_lines(rows))
    harness.finish(args, owner_url, name)
    phases.print_run_time()


if __name__ == "__main__":
    main()
