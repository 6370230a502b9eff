"""Benchmark: incident creation through the API and the incident list on 1,000,000 incidents.

Run with ``./dev bench incidents`` (or ``python bench/incidents.py`` with the usual
``DATABASE_OWNER_URL`` / ``DATABASE_URL``). Like ``bench/cmdb.py`` it never touches the
databases those point at: it drops and recreates a dedicated database
(``sms_bench_incidents``, or ``SMS_BENCH_DB``), migrates it as the owner, loads the
incidents as the owner with COPY, and then measures as the application role through
Django, with the tenant set by token authentication, i.e. under row-level security.

Measured:

- creation throughput: incidents per second through the whole stack (DRF, token
  authentication, tenancy, priority from the matrix, due times in the service's calendar,
  reference allocation, history), against a bare DRF endpoint creating a minimal model
  in the same run (a table and view that exist only in this script, never in the
  product's URLs); printed as a ratio (target: at least 0.5). The same bare view behind
  the product's token authentication and tenant transaction is measured too, so that
  the ratio to it shows what the incident itself costs;
- the incident list API (filtered by status and service, sorted by due time) at page
  sizes 10, 50 and 100: server-side median time and queries per request (targets: under
  50 ms, and the same number of queries at every page size);
- the service desk console page and two of its queue pages, as the tenant's
  administrator (who holds every in-progress incident: the fullest "my work" queue).

Options: ``--scale 0.1`` for a smaller load (100,000 incidents), ``--reuse`` keeps a
built bench database, ``--keep`` leaves it in place, ``--runs N`` timed runs per median,
``--creates N`` POSTs per creation measurement, ``--build-only``.

Prints numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import types
from datetime import UTC, datetime, timedelta

import harness

MAIN_INCIDENTS, NOISE_INCIDENTS = 1_000_000, 200_000
MAIN_SLUG, NOISE_SLUG = "bench-inc", "bench-inc-noise"
N_SERVICES, N_GROUPS = 60, 12
TARGET_LIST_MS, TARGET_RATIO = 50.0, 0.5
BARE_TABLE = "bench_bare_note"
TABLES = ("resolution_incident", "core_referencecounter", "cmdb_service", "parties_party")

# Share of incidents per state (a desk with three years of history: most are closed).
STATES = (
    ("closed", 0.86),
    ("cancelled", 0.04),
    ("resolved", 0.03),
    ("in_progress", 0.03),
    ("assigned", 0.015),
    ("on_hold", 0.01),
    ("new", 0.015),
)


# --- database set-up as the owner -----------------------------------------------------------
def create_bare_table(owner_url: str, app_user: str) -> None:
    """The bare endpoint's table: no tenant, no history, no RLS; bench only."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY, title varchar(200) NOT NULL,"
            " body text NOT NULL DEFAULT '', created_at timestamptz NOT NULL)"
        )
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(sql.Identifier(BARE_TABLE), sql.Identifier(app_user))
        )
        conn.execute(
            sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
                sql.Identifier(f"{BARE_TABLE}_id_seq"), sql.Identifier(app_user)
            )
        )


def set_up_tenant(slug: str) -> dict:
    """Tenant, admin member, default matrix, calendars, services, groups, categories and a
    caller, made through the application (as the owner connection, tenant context set)."""
    from django.contrib.auth import get_user_model

    from processes.resolution import services
    from processes.resolution.models import Category, ServiceCalendar, ServiceHours
    from sms.cmdb.models import Service
    from sms.parties.models import Contact, Party
    from sms.tenancy import context
    from sms.tenancy.services import add_member, create_tenant

    tenant = create_tenant(slug, f"Incident benchmark {slug}", "Europe/London")
    user, _ = get_user_model().objects.get_or_create(username=f"{slug}-admin")
    add_member(tenant, user, ["admin"])
    with context.tenant_context(tenant, user):
        settings_row = services.ensure_defaults()
        office = ServiceCalendar.objects.create(
            name="Business hours",
            time_zone="Europe/London",
            working_hours=[{"day": d, "start": "08:00", "end": "18:00"} for d in range(5)],
            holidays=[{"date": "2026-12-25", "name": "Christmas Day"}],
        )
        always = ServiceCalendar.objects.create(name="24x7", time_zone="Europe/London", is_24x7=True)
        settings_row.default_calendar = office
        settings_row.save(reason="Bench set-up")
        service_ids = []
        for n in range(N_SERVICES):
            service = Service.objects.create(title=f"Bench service {n + 1:03d}", owner=user)
            ServiceHours.objects.create(service=service, calendar=always if n % 3 == 0 else office)
            service_ids.append(service.pk)
        group_ids = [
            Party.objects.create(name=f"Support group {n + 1:02d}", party_type="internal_group").pk
            for n in range(N_GROUPS)
        ]
        customer = Party.objects.create(name="Bench customer", party_type="customer")
        caller = Contact.objects.create(party=customer, name="Bench caller")
        top = Category.objects.create(name="Software")
        category_ids = [Category.objects.create(name=f"Application {n + 1:02d}", parent=top).pk for n in range(20)]
    return {
        "tenant": tenant,
        "user": user,
        "services": service_ids,
        "groups": group_ids,
        "categories": category_ids,
        "caller": caller.pk,
        "customer": customer.pk,
    }


def load_incidents(owner_url: str, setup: dict, n: int, seed: int) -> None:
    """COPY ``n`` incidents into the tenant as the owner (who bypasses RLS).

    Bench fixture data only: no history rows, no CI links. Columns the bench does not
    know (added by later features) get their type's empty value, so the loader keeps
    working as the model grows. Numbers continue the tenant's reference counter."""
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(UTC)
    tenant_id, user_id = setup["tenant"].pk, setup["user"].pk
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    resolution_minutes = {1: 240, 2: 480, 3: 1440, 4: 2400, 5: 4800}
    matrix = {(1, 1): 1, (1, 2): 2, (1, 3): 3, (2, 1): 2, (2, 2): 3, (2, 3): 4, (3, 1): 3, (3, 2): 4, (3, 3): 5}
    with psycopg.connect(owner_url) as conn, conn.cursor() as cur:
        first = harness.reserve_numbers(cur, tenant_id, "incident", n)
        names, fallback = harness.copy_columns(cur, "resolution_incident", now)
        with cur.copy(f"COPY resolution_incident ({', '.join(names)}) FROM STDIN") as copy:
            for i in range(n):
                number = first + i + 1
                created = now - timedelta(minutes=rng.randrange(10, 3 * 365 * 24 * 60))
                impact, urgency = rng.choice((1, 2, 2, 3, 3, 3)), rng.choice((1, 2, 2, 3, 3))
                priority = matrix[(impact, urgency)]
                state = rng.choices(states, weights)[0]
                due = created + timedelta(minutes=resolution_minutes[priority] * rng.uniform(1.0, 3.0))
                finished = state in ("resolved", "closed", "cancelled")
                row = {
                    "tenant_id": tenant_id,
                    "created_at": created,
                    "updated_at": created,
                    "created_by_id": user_id,
                    "updated_by_id": user_id,
                    "number": number,
                    "reference": f"INC-{number}",
                    "title": f"Bench incident {number}",
                    "description": "",
                    "owner_id": user_id,
                    "state": state,
                    "caller_id": setup["caller"] if i % 4 == 0 else None,
                    "customer_id": setup["customer"] if i % 4 == 0 else None,
                    "service_id": rng.choice(setup["services"]),
                    "category_id": rng.choice(setup["categories"]),
                    "impact": impact,
                    "urgency": urgency,
                    "priority": priority,
                    "assignment_group_id": rng.choice(setup["groups"]) if state != "new" else None,
                    "assignee_id": user_id if state in ("in_progress", "on_hold") else None,
                    "channel": "monitoring" if i % 3 == 0 else "phone",
                    "responded_at": created + timedelta(minutes=20) if state != "new" else None,
                    "resolved_at": due - timedelta(minutes=30) if state in ("resolved", "closed") else None,
                    "closed_at": due if state in ("closed", "cancelled") else None,
                    "paused_since": created + timedelta(hours=1) if state == "on_hold" else None,
                    "response_due_at": created + timedelta(minutes=30),
                    "resolution_due_at": due,
                    "response_breached": False,
                    "resolution_breached": (not finished) and due < now,
                }
                copy.write_row([row[c] if c in row else fallback[c] for c in names])
        conn.commit()


# --- the bare endpoint (bench only) -----------------------------------------------------------
def bare_urlconf():
    """A URLconf with the product's URLs plus ``/bench/bare-notes/``: a DRF create view of a
    minimal unmanaged model, with no authentication, tenancy or history (the target's
    reference); and ``/bench/bare-notes-authenticated/``, the same view behind the product's
    token authentication and tenant transaction (shows what the incident itself costs)."""
    from django.db import models
    from django.urls import include, path
    from rest_framework import generics, permissions, serializers

    class BareNote(models.Model):
        title = models.CharField(max_length=200)
        body = models.TextField(blank=True, default="")
        created_at = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "core"
            managed = False
            db_table = BARE_TABLE

        def __str__(self) -> str:
            return self.title

    class BareNoteSerializer(serializers.ModelSerializer):
        class Meta:
            model = BareNote
            fields = ["id", "title", "body", "created_at"]

    class BareNoteCreate(generics.CreateAPIView):
        authentication_classes: list = []
        permission_classes = [permissions.AllowAny]
        serializer_class = BareNoteSerializer
        queryset = BareNote.objects.all()

    class BareNoteSameStack(generics.CreateAPIView):
        """The same view with the product's API defaults left in place (token
        authentication, a membership required, the request's tenant transaction)."""

        serializer_class = BareNoteSerializer
        queryset = BareNote.objects.all()

    module = types.ModuleType("bench_incidents_urls")
    module.urlpatterns = [
        path("bench/bare-notes/", BareNoteCreate.as_view()),
        path("bench/bare-notes-authenticated/", BareNoteSameStack.as_view()),
        path("", include("sms.urls")),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


# --- measuring as the application role ---------------------------------------------------------
def measure(args, setup: dict) -> list[dict]:
    from django.db.models import Count
    from django.test import override_settings
    from rest_framework.test import APIClient

    from processes.resolution.models import Incident
    from sms.tenancy import context

    tenant, user = setup["tenant"], setup["user"]
    api = harness.token_client(tenant, user)
    bare = APIClient(HTTP_HOST="localhost")
    rows: list[dict] = []

    # --- creation throughput -------------------------------------------------------------
    rng = random.Random(7)
    service_ids, group_ids, category_ids = setup["services"], setup["groups"], setup["categories"]

    def incident_body(i: int) -> dict:
        return {
            "title": f"Alert {i}: disk above 90% on db-{i % 40:02d}",
            "description": "Raised by the monitoring tool.",
            "impact": rng.choice((1, 2, 3)),
            "urgency": rng.choice((1, 2, 3)),
            "channel": "monitoring",
            "service": rng.choice(service_ids),
            "category": rng.choice(category_ids),
            "assignment_group": rng.choice(group_ids),
            "caller": setup["caller"],
        }

    def post_incident(i: int):
        response = api.post("/api/v1/incidents/", incident_body(i), format="json")
        assert response.status_code == 201, (response.status_code, response.content[:500])

    def post_bare(i: int):
        response = bare.post("/bench/bare-notes/", {"title": f"Note {i}", "body": "x"}, format="json")
        assert response.status_code == 201, (response.status_code, response.content[:500])

    def post_bare_authenticated(i: int):
        response = api.post("/bench/bare-notes-authenticated/", {"title": f"Note {i}", "body": "x"}, format="json")
        assert response.status_code == 201, (response.status_code, response.content[:500])

    def throughput(fn, n: int) -> float:
        for i in range(10):  # warm-up
            fn(10_000_000 + i)
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        return n / (time.perf_counter() - start)

    with override_settings(ROOT_URLCONF=bare_urlconf()):
        # Interleaved rounds, so both see the same machine load; the medians are compared.
        full_rates, bare_rates, same_stack_rates = [], [], []
        per_round = max(1, args.creates // 3)
        for _ in range(3):
            bare_rates.append(throughput(post_bare, per_round))
            same_stack_rates.append(throughput(post_bare_authenticated, per_round))
            full_rates.append(throughput(post_incident, per_round))
        full_queries = len(harness.captured_queries(lambda: post_incident(20_000_000)))
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda: [post_incident(21_000_000 + i) for i in range(20)])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                r"processes|sms/|rest_framework/(serializers|fields|relations)", 45
            )
            for q in harness.captured_queries(lambda: post_incident(22_000_000)):
                print(f"    {q['time']}  {q['sql'][:150]}")
        bare_queries = len(harness.captured_queries(lambda: post_bare(20_000_000)))
        same_stack_queries = len(harness.captured_queries(lambda: post_bare_authenticated(20_000_000)))
        # Idempotent creation (a monitoring tool sending a key): first POST and a retry.
        keyed = incident_body(30_000_000)

        def post_keyed(i: int):
            key = f"bench-{os.getpid()}-{i}"
            response = api.post("/api/v1/incidents/", keyed, format="json", HTTP_IDEMPOTENCY_KEY=key)
            assert response.status_code == 201, response.content[:300]

        keyed_rate = throughput(post_keyed, per_round)
        replay_ms, _ = harness.median_ms(lambda: post_keyed(0), args.runs)
    full_rate, bare_rate = statistics.median(full_rates), statistics.median(bare_rates)
    same_stack_rate = statistics.median(same_stack_rates)
    rows.append(
        {
            "operation": "POST bare DRF endpoint (minimal model, no auth/tenancy/history)",
            "page": "",
            "queries": bare_queries,
            "value": bare_rate,
            "unit": "per s",
            "target": "",
        }
    )
    rows.append(
        {
            "operation": "POST the same bare endpoint behind token auth and tenancy",
            "page": "",
            "queries": same_stack_queries,
            "value": same_stack_rate,
            "unit": "per s",
            "target": "",
        }
    )
    rows.append(
        {
            "operation": "POST /api/v1/incidents/ (full stack)",
            "page": "",
            "queries": full_queries,
            "value": full_rate,
            "unit": "per s",
            "target": f">= {TARGET_RATIO * bare_rate:.0f}",
            "met": full_rate >= TARGET_RATIO * bare_rate,
        }
    )
    rows.append(
        {
            "operation": "POST /api/v1/incidents/ with a new Idempotency-Key",
            "page": "",
            "queries": "",
            "value": keyed_rate,
            "unit": "per s",
            "target": "",
        }
    )
    rows.append(
        {
            "operation": "POST retry with the same Idempotency-Key (replay)",
            "page": "",
            "queries": "",
            "value": replay_ms,
            "unit": "ms",
            "target": "",
        }
    )
    args.ratio = full_rate / bare_rate
    args.same_stack_ratio = full_rate / same_stack_rate

    # --- the list ------------------------------------------------------------------------
    with context.tenant_context(tenant, user):
        busiest = (
            Incident.objects.filter(state="in_progress")
            .values("service_id")
            .order_by()
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        closed_n = Incident.objects.filter(state="closed", service_id=busiest["service_id"]).count()
        total = Incident.objects.count()
    harness.say(
        f"{total} incidents in the main tenant; busiest service has {busiest['n']} in progress, {closed_n} closed"
    )
    slowest: list = []
    for state, n_rows in (("in_progress", busiest["n"]), ("closed", closed_n)):
        for page in (10, 50, 100):
            url = (
                f"/api/v1/incidents/?state={state}&service={busiest['service_id']}"
                f"&ordering=resolution_due_at&page_size={page}"
            )

            def get(url=url):
                response = api.get(url)
                assert response.status_code == 200, (response.status_code, response.content[:300])
                return response

            captured = harness.captured_queries(get)
            queries = len(captured)
            if args.profile and page == 50:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.runcall(get)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            ms, response = harness.median_ms(get, args.runs)
            assert len(response.json()["results"]) == min(page, n_rows)
            rows.append(
                {
                    "operation": f"GET incidents ?state={state}&service=&ordering=resolution_due_at",
                    "page": page,
                    "queries": queries,
                    "value": ms,
                    "unit": "ms",
                    "target": f"< {TARGET_LIST_MS:.0f}",
                    "met": ms < TARGET_LIST_MS,
                    "rows": n_rows,
                }
            )
            if page == 50:
                slowest += harness.slowest_queries(captured)
    args.explain = slowest

    # --- the service desk console (browser): counts and first rows of every queue ---------
    from django.test import Client

    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    for label, url in (
        ("GET service desk console (browser, all queues)", f"/t/{tenant.slug}/desk/"),
        ("GET console queue 'unassigned', first page (browser)", f"/t/{tenant.slug}/desk/queues/unassigned/"),
        ("GET console queue 'breaching soon', first page (browser)", f"/t/{tenant.slug}/desk/queues/breaching/"),
    ):

        def page(url=url):
            response = browser.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        queries = len(harness.captured_queries(page))
        ms, _ = harness.median_ms(page, args.runs)
        rows.append({"operation": label, "page": "", "queries": queries, "value": ms, "unit": "ms", "target": ""})
    return rows


def explain_plan(sql: str, tenant, user) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement in the tenant: the first six plan lines
    and planning/execution time."""
    from sms.tenancy import context

    with context.tenant_context(tenant, user):
        lines = harness.explain(sql)
    return [line.strip() for line in lines[:6]] + harness.timing_lines(lines)


def table_lines(rows: list[dict]):
    for r in rows:
        met = "" if "met" not in r else ("yes" if r["met"] else "NO")
        yield (
            f"{r['operation'][:70]:70} {r.get('rows', ''):>7} {r['page']!s:>5} {r['queries']!s:>8} "
            f"{r['value']:10.1f} {r['unit']:>6} {r['target']:>9} {met}"
        )


def main() -> None:
    parser = harness.arguments(__doc__, scale_help="fraction of 1,000,000 / 200,000 incidents", runs=7)
    parser.add_argument("--creates", type=int, default=300, help="POSTs per creation measurement")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one list request")
    args = parser.parse_args()
    name, owner_url, app_url = harness.bench_database("sms_bench_incidents")
    n_main, n_noise = round(MAIN_INCIDENTS * args.scale), round(NOISE_INCIDENTS * args.scale)
    phases = harness.Phases()

    built = False
    if args.reuse:
        built = (harness.built_rows(owner_url, "resolution_incident", MAIN_SLUG) or 0) >= n_main
        harness.say("reusing the bench database" if built else "no usable bench database: building one")
    if not built:
        start = time.perf_counter()
        harness.recreate_database(owner_url, name)
        harness.migrate(dict(os.environ))
        create_bare_table(owner_url, harness.app_role(app_url))
        phases.done("create and migrate database", start)

    # Set-up through the application runs as the owner (it creates tenants and members);
    # measuring switches to the application role afterwards.
    import django
    from django.conf import settings

    django.setup()
    from django.db import connections

    app_settings = dict(connections["default"].settings_dict)
    from django.contrib.auth import get_user_model

    from sms.tenancy.models import Tenant

    if not built:
        harness.use_role(owner_url)
        start = time.perf_counter()
        setups = {MAIN_SLUG: set_up_tenant(MAIN_SLUG), NOISE_SLUG: set_up_tenant(NOISE_SLUG)}
        phases.done("tenants, services, calendars, groups, categories", start)
        start = time.perf_counter()
        load_incidents(owner_url, setups[MAIN_SLUG], n_main, seed=2026)
        load_incidents(owner_url, setups[NOISE_SLUG], n_noise, seed=4242)
        phases.done(f"COPY {n_main} + {n_noise} incidents", start)
        start = time.perf_counter()
        harness.vacuum_analyze(owner_url, TABLES)
        phases.done("VACUUM ANALYZE", start)
        harness.use_role(app_url)
    if args.build_only:
        harness.say(f"built {name}; measure with --reuse")
        return
    assert connections["default"].settings_dict["USER"] == app_settings["USER"]
    tenant = Tenant.objects.get(slug=MAIN_SLUG)
    user = get_user_model().objects.get(username=f"{MAIN_SLUG}-admin")
    from processes.resolution.models import Category, Incident
    from sms.cmdb.models import Service
    from sms.parties.models import Contact, Party
    from sms.tenancy import context

    with context.tenant_context(tenant, user):
        setup = {
            "tenant": tenant,
            "user": user,
            "services": list(Service.objects.filter(title__startswith="Bench service").values_list("pk", flat=True)),
            "groups": list(Party.objects.filter(party_type="internal_group").values_list("pk", flat=True)),
            "categories": list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True)),
            "caller": Contact.objects.get(name="Bench caller").pk,
        }
        before = Incident.objects.count()
    harness.say(
        f"measuring as {settings.DATABASES['default']['USER']} (medians of {args.runs} runs, "
        f"{args.creates} POSTs per creation measurement)"
    )
    start = time.perf_counter()
    rows = measure(args, setup)
    phases.done("measure", start)
    harness.print_table(
        f"{'operation':70} {'rows':>7} {'page':>5} {'queries':>8} {'value':>10} {'unit':>6} {'target':>9} met",
        table_lines(rows),
    )
    print(f"\nCreation: full stack / bare endpoint = {args.ratio:.2f} (target >= {TARGET_RATIO})")
    print(f"          full stack / bare endpoint behind the same auth and tenancy = {args.same_stack_ratio:.2f}")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the slowest list queries (page of 50), as the app role under RLS:")
    for q in args.explain:
        print(f"  {q['sql'][:110]}...")
        for line in explain_plan(q["sql"], tenant, user):
            print(f"      {line}")
    with context.tenant_context(tenant, user):
        harness.say(f"{Incident.objects.count() - before} incidents created during the run")

    harness.finish(args, owner_url, name)
    phases.print_run_time()


if __name__ == "__main__":
    main()
