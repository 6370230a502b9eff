"""Benchmark: trend analysis, the trend check and the known error database (clause 8.2).

Run with ``./dev bench problems`` (or ``python bench/problems.py`` with the usual
``DATABASE_OWNER_URL`` / ``DATABASE_URL``). Like the other benches it never touches the
databases those point at: it drops and recreates a dedicated database
(``sms_bench_problems``, or ``SMS_BENCH_DB``), migrates it as the owner, loads incidents
(three years, each on one CI) and known errors as the owner with COPY, and then measures
as the application role through Django with the tenant context set, i.e. under
row-level security. A second tenant gets a fifth of the data as noise.

Measured (median of ``--runs``): the trend aggregates of /api/v1/problems/trends/ over
90 and 365 days (per period, service, CI, category, and the security analysis); the
repeating-incident query of the trend check and one full check; the known error search
(full text, page of 25) and the matching offered while logging an incident; with the
plan of the full-text search (it must use the GIN index).

Options: ``--scale 0.1``, ``--reuse``, ``--keep``, ``--runs N``. Prints numbers only.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

import harness

MAIN_INCIDENTS, MAIN_KES = 300_000, 20_000
NOISE_SHARE = 0.2
MAIN_SLUG, NOISE_SLUG = "bench-prb", "bench-prb-noise"
N_SERVICES, N_CIS, N_CATEGORIES = 40, 400, 30
WORDS = (
    "disk full queue stalls timeout certificate expired password locked printer jam vpn drops mail delayed "
    "database deadlock memory leak backup failed login slow network latency firmware crash driver update "
    "license expired dns resolution proxy error sync conflict report totals wrong export rejected invoice "
    "payment gateway checkout cart session lost cache stale replication lag cpu spike service restart"
).split()


# Real texts mix a few common words with many rarer ones; so does the fixture.
SYLLABLES = "ka lo mi ne ru sa ti vo de fa gi ho ju ke lu ma no pe qu ri so tu va we xi ya zo be co du".split()
RARE = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("r", "n", "l")]


def set_up_tenant(slug: str) -> dict:
    """Tenant, admin, default matrix, services, CIs and a two-level category tree, made
    through the application."""
    from django.contrib.auth import get_user_model

    from processes.resolution import services
    from processes.resolution.models import Category
    from sms.tenancy import context
    from sms.tenancy.services import add_member, create_tenant
    from tests.factories import CITypeFactory, ConfigurationItemFactory, ServiceFactory

    tenant = create_tenant(slug, f"Problem benchmark {slug}", "Europe/London")
    user, _ = get_user_model().objects.get_or_create(username=f"{slug}-admin")
    add_member(tenant, user, ["admin"])
    with context.tenant_context(tenant, user):
        services.ensure_defaults()
        ci_type = CITypeFactory()
        service_ids = [ServiceFactory(title=f"Bench service {n:03d}").pk for n in range(N_SERVICES)]
        ci_ids = [ConfigurationItemFactory(ci_type=ci_type, title=f"bench-ci-{n:04d}").pk for n in range(N_CIS)]
        tops = [Category.objects.create(name=f"Area {n}") for n in range(5)]
        category_ids = [
            Category.objects.create(name=f"Topic {n:02d}", parent=tops[n % len(tops)]).pk for n in range(N_CATEGORIES)
        ]
    return {"tenant": tenant, "user": user, "services": service_ids, "cis": ci_ids, "categories": category_ids}


def load(owner_url: str, setup: dict, n_incidents: int, n_kes: int, seed: int) -> None:
    """COPY incidents (each on one CI, 3% information security) and known errors with
    generated text, as the owner. Bench fixture data only: no history rows."""
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(UTC)
    tenant_id, user_id = setup["tenant"].pk, setup["user"].pk
    # A few hot CIs so that the trend check has clusters to find.
    hot = setup["cis"][:10]
    with psycopg.connect(owner_url) as conn, conn.cursor() as cur:
        first = harness.reserve_numbers(cur, tenant_id, "incident", n_incidents)
        names, fallback = harness.copy_columns(cur, "resolution_incident", now)
        with cur.copy(f"COPY resolution_incident ({', '.join(names)}) FROM STDIN") as copy:
            # Logged in time order, as a live desk does: numbers and dates rise together.
            moments = sorted(rng.randrange(10, 3 * 365 * 24 * 60) for _ in range(n_incidents))
            for i in range(n_incidents):
                number = first + i + 1
                created = now - timedelta(minutes=moments[-1 - i])
                state = rng.choices(("closed", "cancelled", "resolved", "in_progress", "new"), (86, 4, 4, 4, 2))[0]
                row = {
                    "tenant_id": tenant_id,
                    "created_at": created,
                    "updated_at": created,
                    "created_by_id": user_id,
                    "updated_by_id": user_id,
                    "number": number,
                    "reference": f"INC-{number}",
                    "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} on bench incident {number}",
                    "description": "",
                    "owner_id": user_id,
                    "state": state,
                    "service_id": rng.choice(setup["services"]),
                    "category_id": rng.choice(setup["categories"]),
                    "impact": rng.choice((1, 2, 3)),
                    "urgency": rng.choice((1, 2, 3)),
                    "priority": rng.randint(1, 5),
                    "channel": "phone",
                    "is_security": rng.random() < 0.03,
                    "resolved_at": created + timedelta(hours=rng.randint(1, 72))
                    if state in ("closed", "resolved")
                    else None,
                    "response_due_at": created + timedelta(minutes=30),
                    "resolution_due_at": created + timedelta(hours=8),
                    "resolution_breached": rng.random() < 0.05,
                }
                copy.write_row([row[c] if c in row else fallback[c] for c in names])
        cis = setup["cis"]
        cur.execute(
            "INSERT INTO resolution_incident_affected_cis (incident_id, configurationitem_id)"
            " SELECT i.id, CASE WHEN i.number %% 50 = 0 THEN (%s::bigint[])[1 + i.number %% %s]"
            " ELSE (%s::bigint[])[1 + (i.number::bigint * 7919) %% %s] END"
            " FROM resolution_incident i WHERE i.tenant_id = %s",
            [hot, len(hot), cis, len(cis), tenant_id],
        )
        first = harness.reserve_numbers(cur, tenant_id, "knownerror", n_kes)
        names, fallback = harness.copy_columns(cur, "resolution_knownerror", now)
        with cur.copy(f"COPY resolution_knownerror ({', '.join(names)}) FROM STDIN") as copy:
            for i in range(n_kes):
                number = first + i + 1
                text = lambda k: " ".join(  # noqa: E731
                    rng.choice(WORDS) if rng.random() < 0.3 else rng.choice(RARE) for _ in range(k)
                )
                row = {
                    "tenant_id": tenant_id,
                    "created_at": now,
                    "updated_at": now,
                    "created_by_id": user_id,
                    "updated_by_id": user_id,
                    "number": number,
                    "reference": f"KE-{number}",
                    "title": f"{text(4)} {number}",
                    "description": text(12),
                    "owner_id": user_id,
                    "state": "open" if rng.random() < 0.8 else "retired",
                    "symptoms": text(15),
                    "root_cause": text(10),
                    "workaround": text(20),
                    "category_id": rng.choice(setup["categories"]),
                }
                copy.write_row([row[c] if c in row else fallback[c] for c in names])
        cur.execute(
            "INSERT INTO resolution_knownerror_services (knownerror_id, service_id)"
            " SELECT k.id, (%s::bigint[])[1 + k.number %% %s] FROM resolution_knownerror k WHERE k.tenant_id = %s",
            [setup["services"], len(setup["services"]), tenant_id],
        )
        cur.execute(
            "INSERT INTO resolution_knownerror_affected_cis (knownerror_id, configurationitem_id)"
            " SELECT k.id, (%s::bigint[])[1 + (k.number * 31) %% %s] FROM resolution_knownerror k"
            " WHERE k.tenant_id = %s",
            [cis, len(cis), tenant_id],
        )
        conn.commit()


TABLES = (
    "resolution_incident",
    "resolution_incident_affected_cis",
    "resolution_knownerror",
    "resolution_knownerror_services",
    "resolution_knownerror_affected_cis",
    "resolution_problem",
    "cmdb_configurationitem",
    "cmdb_service",
    "resolution_category",
)


def measure(args, tenant, user, setup: dict) -> list[tuple[str, float, str]]:
    from django.db import transaction

    from processes.resolution import services_problems as sp
    from processes.resolution import trends
    from processes.resolution.models import Category, Problem
    from sms.cmdb.models import Service
    from sms.tenancy import context

    rows = []
    with context.tenant_context(tenant, user):
        for days in (90, 365):
            end = datetime.now(UTC).date()
            w = trends.window(end - timedelta(days=days - 1), end, "week")

            def run(w=w):
                return trends.incident_trends(w), trends.security_trends(w)

            queries = len(harness.captured_queries(run))
            ms, (inc, sec) = harness.median_ms(run, args.runs)
            rows.append(
                (
                    f"trend aggregates, {days} days ({inc['totals']['total']} incidents, "
                    f"{sec['totals']['total']} security)",
                    ms,
                    f"{queries} queries",
                )
            )
        ms, clusters = harness.median_ms(lambda: trends.repeating_clusters(count=3, days=14), args.runs)
        rows.append((f"repeating-incident query (N=3, D=14): {len(clusters)} clusters", ms, ""))
        start = time.perf_counter()
        with transaction.atomic():
            proposals = trends.propose_problems(by=user)
            created = sum(p.created for p in proposals)
            rows.append(
                (f"trend check, first run: {created} problems proposed", (time.perf_counter() - start) * 1000, "")
            )
            start = time.perf_counter()
            again = trends.propose_problems(by=user)
            rows.append(
                (
                    f"trend check, second run: {sum(p.created for p in again)} proposed",
                    (time.perf_counter() - start) * 1000,
                    "",
                )
            )
            assert Problem.objects.count() == created
            transaction.set_rollback(True)

        for q in ("disk full", '"queue stalls" -printer', "certificate"):
            ms, found = harness.median_ms(lambda q=q: list(sp.search_known_errors(q, state="open")[:25]), args.runs)
            total = sp.search_known_errors(q, state="open").count()
            rows.append((f"known error search {q!r}: page of {len(found)} of {total}", ms, ""))
        service = Service.objects.get(pk=setup["services"][0])
        category = Category.objects.get(pk=setup["categories"][0])
        ms, matches = harness.median_ms(
            lambda: sp.match_known_errors(
                title="Mail delayed, queue stalls after certificate expired",
                description="Users see timeouts.",
                service=service,
                category=category,
                cis=setup["cis"][:2],
            ),
            args.runs,
        )
        rows.append((f"known error matching while logging: {len(matches)} offered", ms, ""))
        qs = sp.search_known_errors("disk full", state="open")[:25]
        plan = harness.explain(*qs.query.sql_with_params(), options="ANALYZE")
        args.plan = [line for line in plan if "Index" in line or "Execution Time" in line][:6]
    return rows


def main() -> None:
    args = harness.arguments(
        __doc__,
        scale_help="fraction of 300,000 incidents / 20,000 known errors",
        runs=5,
        build_only=False,
        helps=False,
    ).parse_args()
    name, owner_url, app_url = harness.bench_database("sms_bench_problems")
    n_inc, n_kes = round(MAIN_INCIDENTS * args.scale), round(MAIN_KES * args.scale)

    built = args.reuse and (harness.built_rows(owner_url, "resolution_incident", MAIN_SLUG) or 0) >= n_inc
    if not built:
        start = time.perf_counter()
        harness.recreate_database(owner_url, name)
        harness.migrate(dict(os.environ))
        harness.say(f"database created and migrated in {time.perf_counter() - start:.1f} s")

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from sms.tenancy.models import Tenant

    if not built:
        harness.use_role(owner_url)
        start = time.perf_counter()
        setups = {MAIN_SLUG: set_up_tenant(MAIN_SLUG), NOISE_SLUG: set_up_tenant(NOISE_SLUG)}
        load(owner_url, setups[MAIN_SLUG], n_inc, n_kes, seed=2026)
        load(owner_url, setups[NOISE_SLUG], round(n_inc * NOISE_SHARE), round(n_kes * NOISE_SHARE), seed=7)
        harness.vacuum_analyze(owner_url, TABLES)
        harness.say(
            f"loaded {n_inc} incidents and {n_kes} known errors (+{NOISE_SHARE:.0%} noise) in "
            f"{time.perf_counter() - start:.1f} s"
        )
    harness.use_role(app_url)
    tenant = Tenant.objects.get(slug=MAIN_SLUG)
    user = get_user_model().objects.get(username=f"{MAIN_SLUG}-admin")
    from processes.resolution.models import Category
    from sms.cmdb.models import ConfigurationItem, Service
    from sms.tenancy import context

    with context.tenant_context(tenant, user):
        setup = {
            "services": list(Service.objects.order_by("pk").values_list("pk", flat=True)),
            "cis": list(ConfigurationItem.objects.order_by("pk").values_list("pk", flat=True)),
            "categories": list(
                Category.objects.filter(parent__isnull=False).order_by("pk").values_list("pk", flat=True)
            ),
        }
    rows = measure(args, tenant, user, setup)
    print()
    for label, ms, note in rows:
        print(f"{label:90} {ms:9.1f} ms  {note}")
    print("\nknown error search plan:")
    for line in args.plan:
        print("  " + line.strip())
    if harness.finish(args, owner_url, name):
        harness.say(f"dropped {name}")


if __name__ == "__main__":
    main()
