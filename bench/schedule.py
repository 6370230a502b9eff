"""Benchmark: conflict detection in the schedule of change, 50,000 scheduled changes over 100,000 CIs.

Run with ``./dev bench schedule`` (or ``python bench/schedule.py`` with the usual
``DATABASE_OWNER_URL`` / ``DATABASE_URL``). Like the other benches it never touches the
databases those point at: it drops and recreates a dedicated database
(``sms_bench_schedule``, or ``SMS_BENCH_DB``), migrates it as the owner, loads the
fixture as the owner with COPY, and measures as the application role through Django,
with the tenant context set, i.e. under row-level security like a request.

The fixture (main tenant): 100,000 CIs with 200,000 relationships between them, 200
services, and 50,000 changes in the schedule (submitted to being implemented, mostly
approved and scheduled) with planned windows of one to eight hours spread over a year,
each touching one to four CIs and one or two services; 20 blackout windows. A second
tenant gets a fifth of the same as noise.

Measured, for a new request for change recorded through the application (three CIs, one
of them shared with changes already planned, a busy service, a window in the busy part
of the year): conflict detection as the service call the change page and the API use
(``schedule.conflicts_for``) and through ``GET /api/v1/changes/{id}/conflicts/`` (target:
under 100 ms, server side), the blackouts that apply to it, the schedule API for a week,
and the calendar page for a month; medians of ``--runs`` runs, with the queries per call
and EXPLAIN (ANALYZE, BUFFERS) of the conflict query.

Options: ``--scale 0.1`` for a smaller load, ``--reuse`` keeps a built bench database,
``--keep`` leaves it in place, ``--runs N`` timed runs per median, ``--build-only``.

Prints numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

import harness

MAIN_CIS, MAIN_RELS, MAIN_CHANGES = 100_000, 200_000, 50_000
N_SERVICES, N_BLACKOUTS = 200, 20
NOISE_SHARE = 0.2
MAIN_SLUG, NOISE_SLUG = "bench-sched", "bench-sched-noise"
TARGET_MS = 100.0
TABLES = (
    "cmdb_configurationitem",
    "cmdb_relationship",
    "cmdb_service",
    "control_change",
    "control_change_cis",
    "control_change_services",
    "control_blackoutwindow",
    "control_blackoutwindow_services",
    "core_referencecounter",
)
# States of the loaded changes (all hold a place in the schedule) and their shares.
STATES = (
    ("scheduled", 0.55),
    ("approved", 0.2),
    ("awaiting_approval", 0.08),
    ("assessment", 0.07),
    ("submitted", 0.07),
    ("implementing", 0.03),
)
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # fixed, so --reuse finds the same busy week


# --- loading as the owner ---------------------------------------------------------------------
def load(owner_url: str, tenant_id: int, user_id: int, *, n_cis: int, n_rels: int, n_changes: int, seed: int):
    """COPY CIs, relationships, services, changes with their scope and blackout windows
    into the tenant as the owner (who bypasses RLS). Fixture data only: no history rows.
    Reference numbers continue the tenant's counters; columns the loader does not know
    get their type's empty value, so it keeps working as the models grow."""
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with psycopg.connect(owner_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM cmdb_citype WHERE tenant_id = %s ORDER BY code", [tenant_id])
        type_ids = [r[0] for r in cur.fetchall()]

        def copy_rows(table: str, kind: str, prefix: str, count: int, make) -> list[int]:
            first = harness.reserve_numbers(cur, tenant_id, kind, count)
            names, fallback = harness.copy_columns(cur, table, now)
            with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for i in range(count):
                    number = first + i + 1
                    row = {
                        "tenant_id": tenant_id,
                        "created_at": now,
                        "updated_at": now,
                        "number": number,
                        "reference": f"{prefix}-{number}",
                        "owner_id": user_id,
                        "created_by_id": user_id,
                        **make(i),
                    }
                    copy.write_row([row[c] if c in row else fallback[c] for c in names])
            cur.execute(
                f"SELECT id FROM {table} WHERE tenant_id = %s AND number > %s AND number <= %s ORDER BY number",
                [tenant_id, first, first + count],
            )
            return [r[0] for r in cur.fetchall()]

        ci_ids = copy_rows(
            "cmdb_configurationitem",
            "ci",
            "CI",
            n_cis,
            lambda i: {"title": f"bench-ci-{i:06d}", "state": "live", "attributes": "{}",
                       "ci_type_id": type_ids[i % len(type_ids)]},
        )
        rels: set[tuple[int, int]] = set()
        while len(rels) < n_rels:
            a, b = rng.randrange(n_cis), rng.randrange(n_cis)
            if a != b:
                rels.add((a, b))
        with cur.copy(
            "COPY cmdb_relationship (tenant_id, created_at, updated_at, kind, note, source_id, target_id) FROM STDIN"
        ) as copy:
            for a, b in rels:
                copy.write_row((tenant_id, now, now, "depends_on", "", ci_ids[a], ci_ids[b]))
        service_ids = copy_rows(
            "cmdb_service",
            "service",
            "SVC",
            N_SERVICES,
            lambda i: {"title": f"Bench service {i + 1:03d}", "state": "live", "criticality": "3"},
        )
        states, weights = [s for s, _ in STATES], [w for _, w in STATES]

        def change_row(i: int) -> dict:
            start = EPOCH + timedelta(minutes=rng.randrange(365 * 24 * 60))
            start = start.replace(second=0, microsecond=0)
            end = start + timedelta(minutes=rng.randrange(60, 8 * 60 + 1))
            return {
                "title": f"Bench change {i}",
                "state": rng.choices(states, weights)[0],
                "change_type": "normal" if i % 10 else "emergency",
                "risk_level": ("low", "medium", "high")[i % 3],
                "service_action": "modify",
                "risk_answers": "{}",
                "planned_start": start,
                "planned_end": end,
                "requester_id": user_id,
            }

        change_ids = copy_rows("control_change", "change", "CHG", n_changes, change_row)
        # Services are used unevenly (a few busy ones), CIs evenly.
        service_weights = [1.0 / (k + 1) ** 0.6 for k in range(len(service_ids))]
        with cur.copy("COPY control_change_cis (change_id, configurationitem_id) FROM STDIN") as copy:
            for change_id in change_ids:
                for ci in rng.sample(range(n_cis), rng.randint(1, 4)):
                    copy.write_row((change_id, ci_ids[ci]))
        with cur.copy("COPY control_change_services (change_id, service_id) FROM STDIN") as copy:
            for change_id in change_ids:
                chosen = set(rng.choices(range(len(service_ids)), service_weights, k=rng.randint(1, 2)))
                for k in chosen:
                    copy.write_row((change_id, service_ids[k]))
        names, fallback = harness.copy_columns(cur, "control_blackoutwindow", now)
        with cur.copy(f"COPY control_blackoutwindow ({', '.join(names)}) FROM STDIN") as copy:
            for k in range(N_BLACKOUTS):
                start = EPOCH + timedelta(days=18 * k + rng.randrange(5))
                row = {"tenant_id": tenant_id, "created_at": now, "updated_at": now, "name": f"Freeze {k + 1}",
                       "reason": "Bench", "starts_at": start, "ends_at": start + timedelta(hours=rng.choice((8, 48))),
                       "created_by_id": user_id}
                copy.write_row([row[c] if c in row else fallback[c] for c in names])
        cur.execute("SELECT id FROM control_blackoutwindow WHERE tenant_id = %s ORDER BY id", [tenant_id])
        blackout_ids = [r[0] for r in cur.fetchall()]
        with cur.copy("COPY control_blackoutwindow_services (blackoutwindow_id, service_id) FROM STDIN") as copy:
            for k, b in enumerate(blackout_ids):
                if k % 2:  # half apply to every service
                    for s in rng.sample(service_ids, 3):
                        copy.write_row((b, s))
        conn.commit()


def set_up(owner_url: str, slug: str, scale: float, share: float, seed: int) -> None:
    from django.contrib.auth import get_user_model

    from sms.cmdb.services import ensure_default_ci_types
    from sms.tenancy.services import add_member, create_tenant

    tenant = create_tenant(slug, f"Schedule benchmark {slug}")
    user, _ = get_user_model().objects.get_or_create(username=f"{slug}-admin")
    add_member(tenant, user, ["admin"])
    ensure_default_ci_types(tenant)
    load(
        owner_url,
        tenant.pk,
        user.pk,
        n_cis=round(MAIN_CIS * scale * share),
        n_rels=round(MAIN_RELS * scale * share),
        n_changes=round(MAIN_CHANGES * scale * share),
        seed=seed,
    )


# --- measuring as the application role -------------------------------------------------------
def new_rfc(tenant, user):
    """A new request for change, recorded through the application: in the busiest week,
    on a busy service, with a CI already in a change planned then, one of its neighbours
    and one CI nobody plans to touch."""
    from django.db import transaction
    from django.db.models import Count

    from processes.control import services
    from processes.control.models import Change
    from sms.cmdb.models import ConfigurationItem, Relationship, Service
    from sms.tenancy import context

    with context.tenant_context(tenant, user), transaction.atomic():
        busy = (
            Change.services.through.objects.filter(change__tenant=tenant)
            .values("service_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        service = Service.objects.get(pk=busy["service_id"])
        planned = Change.objects.filter(state="scheduled", services=service).order_by("planned_start", "pk")
        anchor = planned.prefetch_related("cis")[planned.count() // 3]
        shared = anchor.cis.all()[0]
        neighbour = Relationship.objects.filter(source=shared).values_list("target_id", flat=True).first()
        spare = ConfigurationItem.objects.exclude(pk__in=[shared.pk, neighbour or 0]).order_by("-number").first()
        change = Change(
            title="Bench: replace the storage controller",
            description="A new request for change checked against the schedule.",
            planned_start=anchor.planned_start - timedelta(minutes=30),
            planned_end=anchor.planned_start + timedelta(hours=3),
            implementation_plan="Swap the controller.",
        )
        cis = [shared, spare] + ([ConfigurationItem.objects.get(pk=neighbour)] if neighbour else [])
        services.save_change(change, by=user, services=[service], cis=cis)
        per_service = busy["n"]
    return change, service, per_service


def measure(args, tenant, user) -> list[dict]:
    from django.db import transaction
    from django.test import Client

    from processes.control import schedule, services
    from processes.control.models import Change
    from sms.tenancy import context

    change, service, per_service = new_rfc(tenant, user)
    api = harness.token_client(tenant, user)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    with context.tenant_context(tenant, user):
        total = Change.objects.count()
    harness.say(
        f"{total} changes in the main tenant; new RFC {change.reference} on {service.reference} "
        f"({per_service} changes touch it), window {change.planned_start:%Y-%m-%d %H:%M}"
    )
    rows: list[dict] = []

    def in_tenant(fn):
        def call():
            with context.tenant_context(tenant, user), transaction.atomic():
                return fn()

        return call

    def fresh():
        return Change.objects.get(pk=change.pk)

    cases = [
        ("conflicts of the new RFC: schedule.conflicts_for (service)", lambda: schedule.conflicts_for(fresh())),
        ("conflicts of the new RFC: services.conflicts (change page, API)", lambda: services.conflicts(fresh())),
        ("blackouts for the new RFC: services.blackouts_for",
         lambda: (lambda c: services.blackouts_for(c, c.planned_start, c.planned_end))(fresh())),
    ]
    for label, fn in cases:
        call = in_tenant(fn)
        queries = len(harness.captured_queries(call))
        ms, result = harness.median_ms(call, args.runs)
        rows.append({"operation": label, "rows": len(result), "queries": queries, "ms": ms, "target": TARGET_MS})

    def get(client, url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            return response

        return call

    week_start = change.planned_start.replace(hour=0, minute=0) - timedelta(days=change.planned_start.weekday())
    week_end = week_start + timedelta(days=7)
    urls = [
        ("GET /api/v1/changes/{id}/conflicts/", api, f"/api/v1/changes/{change.pk}/conflicts/", TARGET_MS,
         lambda r: len(r.json()["changes"])),
        ("GET /api/v1/changes/schedule/ (one week)", api,
         f"/api/v1/changes/schedule/?start={week_start:%Y-%m-%d}&end={week_end:%Y-%m-%d}", None,
         lambda r: r.json()["count"]),
        ("GET /api/v1/changes/schedule/ (one week, one service)", api,
         f"/api/v1/changes/schedule/?start={week_start:%Y-%m-%d}&end={week_end:%Y-%m-%d}&service={service.pk}",
         None, lambda r: r.json()["count"]),
        ("GET calendar page, week (browser)", browser,
         f"/t/{MAIN_SLUG}/changes/calendar/?view=week&date={week_start:%Y-%m-%d}", None,
         lambda r: r.content.count(b'class="cal-change')),
        ("GET calendar page, month, one service (browser)", browser,
         f"/t/{MAIN_SLUG}/changes/calendar/?date={week_start:%Y-%m-%d}&service={service.pk}", None,
         lambda r: r.content.count(b'class="cal-change')),
    ]
    for label, client, url, target, count in urls:
        queries = len(harness.captured_queries(get(client, url)))
        ms, response = harness.median_ms(get(client, url), args.runs)
        rows.append({"operation": label, "rows": count(response), "queries": queries, "ms": ms, "target": target})

    # EXPLAIN of the conflict query for the new RFC, as the app role under RLS.
    with context.tenant_context(tenant, user):
        params = {"tenant": tenant.pk, "ids": [change.pk], "states": list(schedule.HOLDING_STATES)}
        args.explain = harness.explain(schedule._conflict_sql(), params)
    return rows


def table_lines(rows: list[dict]):
    for r in rows:
        target = f"< {r['target']:.0f}" if r["target"] else ""
        met = "" if not r["target"] else ("yes" if r["ms"] < r["target"] else "NO")
        yield f"{r['operation'][:66]:66} {r['rows']:6} {r['queries']:8} {r['ms']:10.1f} {target:>7} {met:>3}"


def main() -> None:
    parser = harness.arguments(__doc__, scale_help="fraction of 100,000 CIs / 50,000 changes", runs=7)
    args = parser.parse_args()
    name, owner_url, app_url = harness.bench_database("sms_bench_schedule")
    phases = harness.Phases()
    n_changes = round(MAIN_CHANGES * args.scale)

    built = False
    if args.reuse:
        built = (harness.built_rows(owner_url, "control_change", MAIN_SLUG) or 0) >= n_changes
        harness.say("reusing the bench database" if built else "no usable bench database: building one")
    if not built:
        start = time.perf_counter()
        harness.recreate_database(owner_url, name)
        harness.migrate(dict(os.environ))
        phases.done("create and migrate database", start)

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from sms.tenancy.models import Tenant

    if not built:
        harness.use_role(owner_url)
        start = time.perf_counter()
        set_up(owner_url, MAIN_SLUG, args.scale, 1.0, seed=2026)
        set_up(owner_url, NOISE_SLUG, args.scale, NOISE_SHARE, seed=4242)
        phases.done("load (COPY)", start)
        start = time.perf_counter()
        harness.vacuum_analyze(owner_url, TABLES)
        phases.done("VACUUM ANALYZE", start)
    harness.use_role(app_url)
    if args.build_only:
        harness.say(f"built {name}; measure with --reuse")
        return
    tenant = Tenant.objects.get(slug=MAIN_SLUG)
    user = get_user_model().objects.get(username=f"{MAIN_SLUG}-admin")
    harness.say(f"measuring as {harness.app_role(app_url)} (medians of {args.runs} runs)")
    start = time.perf_counter()
    rows = measure(args, tenant, user)
    phases.done("measure", start)
    harness.print_table(
        f"{'operation':66} {'rows':>6} {'queries':>8} {'median ms':>10} {'target':>7} met", table_lines(rows)
    )
    if args.explain:
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the conflict query for the new RFC, as the app role under RLS:")
        for line in args.explain:
            print(f"  {line}")
    harness.finish(args, owner_url, name)
    phases.print_run_time()


if __name__ == "__main__":
    main()
