"""Shared harness of the database benchmarks (bench/cmdb.py, bench/incidents.py, bench/problems.py).

Not a benchmark itself. Each benchmark imports it as ``harness``: run as a file
(``python bench/NAME.py`` or ``./dev bench NAME``), Python puts bench/ first on sys.path.
Importing it puts the project root on sys.path too, for Django and the product's apps.

What is here: progress lines timed from the start (``say``), the dedicated bench database
(pointing both URLs at it, recreating, migrating as the owner, dropping it at the end),
switching Django's connections between the owner and the application role, the common
options, phase timings, COPY helpers (reference numbers, the columns of a table and their
empty values), VACUUM ANALYZE, median timing, query capture, EXPLAIN, and the table frame.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T0 = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {message}", flush=True)


# --- options and environment -----------------------------------------------------------------
def arguments(
    doc: str, *, scale_help: str, runs: int, build_only: bool = True, helps: bool = True
) -> argparse.ArgumentParser:
    """The options every bench has (--reuse, --keep, --scale, --runs and, unless
    build_only=False, --build-only); the caller adds its own and parses."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--reuse", action="store_true", help="keep an existing bench database as it is" if helps else None
    )
    parser.add_argument(
        "--keep", action="store_true", help="do not drop the bench database at the end" if helps else None
    )
    parser.add_argument("--scale", type=float, default=1.0, help=scale_help)
    parser.add_argument("--runs", type=int, default=runs, help="timed runs per median" if helps else None)
    if build_only:
        parser.add_argument("--build-only", action="store_true", help="build the bench database and stop (keeps it)")
    return parser


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def app_role(url: str) -> str:
    return urlsplit(url).username or ""


def bench_database(default_name: str) -> tuple[str, str, str]:
    """Point DATABASE_OWNER_URL and DATABASE_URL at the bench database (``SMS_BENCH_DB``
    or ``default_name``, on the owner's server) and set up Django's environment; returns
    the database name and the two URLs. Exits when either URL is missing."""
    owner_url, app_url = os.environ.get("DATABASE_OWNER_URL", ""), os.environ.get("DATABASE_URL", "")
    if not owner_url or not app_url:
        sys.exit("Set DATABASE_OWNER_URL (a role that may create databases) and DATABASE_URL (the app role).")
    name = os.environ.get("SMS_BENCH_DB", default_name)
    owner_url, app_url = with_database(owner_url, name), with_database(app_url, name)
    os.environ.update(DATABASE_OWNER_URL=owner_url, DATABASE_URL=app_url)
    os.environ.pop("SMS_DB_OWNER", None)
    os.environ.setdefault("SMS_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms.settings")
    return name, owner_url, app_url


class Phases(dict[str, float]):
    """Seconds per phase of the run, said as each ends and summed up at the end."""

    def done(self, label: str, start: float) -> None:
        self[label] = time.perf_counter() - start
        say(f"{label}: {self[label]:.1f} s")

    def print_run_time(self) -> None:
        print(
            f"\nBench run time: {time.perf_counter() - T0:.1f} s ("
            + ", ".join(f"{k} {v:.1f} s" for k, v in self.items())
            + ")"
        )


# --- the bench database, as the owner ----------------------------------------------------------
def recreate_database(owner_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(with_database(owner_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(owner_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(with_database(owner_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env={**env, "SMS_DB_OWNER": "1"},
        check=True,
    )


def built_rows(owner_url: str, table: str, slug: str) -> int | None:
    """Rows of ``table`` in the tenant ``slug`` of an already built bench database (for
    --reuse), or None when there is no such database or table."""
    import psycopg

    try:
        with psycopg.connect(owner_url) as conn:
            return conn.execute(
                f"SELECT count(*) FROM {table} x JOIN tenancy_tenant t ON t.id = x.tenant_id WHERE t.slug = %s",
                [slug],
            ).fetchone()[0]
    except psycopg.Error:
        return None


def finish(args, owner_url: str, name: str) -> bool:
    """Close Django's connections and drop the bench database unless --keep or --reuse
    was given; True when it was dropped."""
    from django.db import connections

    connections.close_all()
    if args.keep or args.reuse:
        return False
    drop_database(owner_url, name)
    return True


def use_role(role_url: str) -> None:
    """Reconnect Django's connections as the role of ``role_url`` (the owner for set-up
    through the application, the application role for measuring)."""
    from django.db import connections

    parts = urlsplit(role_url)
    for conn in connections.all():
        conn.close()
        conn.settings_dict["USER"] = parts.username
        conn.settings_dict["PASSWORD"] = parts.password or ""


# --- loading with COPY -------------------------------------------------------------------------
def reserve_numbers(cur, tenant_id: int, kind: str, n: int) -> int:
    """Take ``n`` reference numbers of ``kind`` from the tenant's counter; numbers
    first+1 .. first+n are the caller's, first is returned."""
    cur.execute(
        """
        INSERT INTO core_referencecounter (tenant_id, kind, last_number) VALUES (%s, %s, %s)
        ON CONFLICT (tenant_id, kind) DO UPDATE
           SET last_number = core_referencecounter.last_number + EXCLUDED.last_number
        RETURNING last_number
        """,
        [tenant_id, kind, n],
    )
    return cur.fetchone()[0] - n


def copy_columns(cur, table: str, now) -> tuple[list[str], dict[str, object]]:
    """The columns of ``table`` a COPY fills (all but id and generated ones) and, for each,
    the value of a column the loader does not know: NULL, or its type's empty value. So
    the loaders keep working as the models grow."""
    cur.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = %s AND column_name <> 'id' AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [table],
    )
    columns = cur.fetchall()
    empty = {
        "boolean": False,
        "integer": 0,
        "smallint": 0,
        "bigint": 0,
        "jsonb": "{}",
        "text": "",
        "character varying": "",
        "timestamp with time zone": now,
        "date": now.date(),
    }
    names = [c for c, _, _ in columns]
    return names, {c: (None if nullable == "YES" else empty.get(kind, "")) for c, kind, nullable in columns}


def vacuum_analyze(owner_url: str, tables: Iterable[str]) -> None:
    import psycopg

    with psycopg.connect(owner_url, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


# --- measuring -------------------------------------------------------------------------------
def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median milliseconds of ``runs`` calls after one warm-up call (plans, caches), and
    the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def captured_queries(fn: Callable[[], object]) -> list[dict]:
    """The queries one call of ``fn`` makes."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log is a bounded deque: start each capture from empty
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return list(ctx.captured_queries)


_NOT_PLANNABLE = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ")


# The tenant settings the backend sends ahead of a statement, in its message.
_SETTINGS_PREFIX = re.compile(r"^(\s*SELECT set_config\([^;]*;\s*)+")


def slowest_queries(captured: list[dict], n: int = 2) -> list[dict]:
    """The ``n`` slowest captured statements that EXPLAIN can plan: Django also logs
    BEGIN, COMMIT and savepoints, which at a small scale can be among the slowest; the
    tenant settings sent ahead of a statement are left off, and messages of several
    statements (lookups sent together) are skipped."""
    plannable = []
    for q in captured:
        sql = _SETTINGS_PREFIX.sub("", q["sql"])
        if sql.lstrip().upper().startswith(_NOT_PLANNABLE) or "; SELECT" in sql:
            continue
        plannable.append({**q, "sql": sql})
    return sorted(plannable, key=lambda q: -float(q["time"]))[:n]


def token_client(tenant, user):
    """An API client authenticated with a new token of ``user`` in ``tenant``. Also stops
    Django from clearing the query log when a request starts, which would empty the
    capture of a test-client request (the benches count queries per request)."""
    from django.core.signals import request_started
    from django.db import reset_queries
    from rest_framework.test import APIClient

    from sms.tenancy import context
    from sms.tenancy.models import ApiToken, Membership

    request_started.disconnect(reset_queries)
    with context.tenant_context(tenant, user):
        _, key = ApiToken.issue(Membership.objects.get(user=user), name="bench")
    api = APIClient(HTTP_HOST="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def explain(sql: str, params=None, options: str = "ANALYZE, BUFFERS") -> list[str]:
    """The plan lines of EXPLAIN (options) of one statement, in a transaction on Django's
    connection (as its role; enter the tenant context first for row-level security)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def timing_lines(lines: list[str]) -> list[str]:
    """The Planning Time and Execution Time lines of a plan."""
    return [line.strip() for line in lines if line.startswith(("Planning Time", "Execution Time"))]


def print_table(header: str, lines: Iterable[str]) -> None:
    print()
    print(header)
    print("-" * len(header))
    for line in lines:
        print(line)
