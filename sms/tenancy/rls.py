"""Row-level security: the database backstop behind the tenant-scoped managers.

A *tenant table* is any table in the schema with a ``tenant_id`` column; that covers
simple-history's historical tables too, which copy the column. Each gets ENABLE and
FORCE ROW LEVEL SECURITY and a policy comparing ``tenant_id`` with the transaction's
``app.tenant_id``. Memberships also let a user see their own rows in other tenants
(``app.user_id``), which the login and tenant switcher need.

The application's database role is granted DML on every table and owns none, so FORCE
is not even needed for it; FORCE makes the owner obey too, except when the owner is a
superuser or has BYPASSRLS, which is how migrations and system set-up see every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection as default_connection
from psycopg import sql

POLICY = "tenant_isolation"
USER_POLICY = "own_memberships"
TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
USER_EXPR = "NULLIF(current_setting('app.user_id', true), '')::bigint"

# Tables with a tenant_id column that also show a user their own rows across tenants.
USER_VISIBLE_TABLES = {"tenancy_membership"}


@dataclass(frozen=True)
class TableStatus:
    table: str
    enabled: bool
    forced: bool
    has_policy: bool

    @property
    def ok(self) -> bool:
        return self.enabled and self.forced and self.has_policy


def tenant_tables(cursor) -> list[str]:
    cursor.execute(
        """
        SELECT c.relname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """
    )
    return [row[0] for row in cursor.fetchall()]


def table_statuses(cursor) -> list[TableStatus]:
    cursor.execute(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """,
        [POLICY],
    )
    return [TableStatus(*row) for row in cursor.fetchall()]


def unprotected_tables(cursor) -> list[TableStatus]:
    return [status for status in table_statuses(cursor) if not status.ok]


def _policy_exists(cursor, table: str, name: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_policies WHERE schemaname = current_schema() AND tablename = %s AND policyname = %s",
        [table, name],
    )
    return cursor.fetchone() is not None


def protect_table(cursor, table: str) -> None:
    ident = sql.Identifier(table)
    cursor.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident))
    cursor.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(ident))
    if not _policy_exists(cursor, table, POLICY):
        cursor.execute(
            sql.SQL("CREATE POLICY {} ON {} USING (tenant_id = {expr}) WITH CHECK (tenant_id = {expr})").format(
                sql.Identifier(POLICY), ident, expr=sql.SQL(TENANT_EXPR)
            )
        )
    if table in USER_VISIBLE_TABLES and not _policy_exists(cursor, table, USER_POLICY):
        cursor.execute(
            sql.SQL("CREATE POLICY {} ON {} FOR SELECT USING (user_id = {expr})").format(
                sql.Identifier(USER_POLICY), ident, expr=sql.SQL(USER_EXPR)
            )
        )


def ensure_app_role(cursor) -> None:
    """Create the application's role if missing and grant it DML (never ownership)."""
    role = settings.SMS_APP_DB_ROLE
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    cursor.execute("SELECT current_user")
    owner = cursor.fetchone()[0]
    if owner == role:
        # Running migrations as the application role would make it the owner; refuse quietly
        # here and let check_rls report it.
        return
    if row is None:
        password = settings.SMS_APP_DB_PASSWORD
        stmt = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
            sql.Identifier(role)
        )
        if password:
            stmt = stmt + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        cursor.execute(stmt)
    ident = sql.Identifier(role)
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
    cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
        sql.Identifier(cursor.connection.info.dbname), ident))
    cursor.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(ident))
    cursor.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident))


def protect_all(connection=default_connection) -> list[str]:
    with connection.cursor() as cursor:
        tables = tenant_tables(cursor)
        for table in tables:
            protect_table(cursor, table)
        ensure_app_role(cursor)
    return tables


def apply_after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    # Only once per migrate run: the last app to be signalled is enough, but running
    # for each is idempotent and cheap; restrict to our own kernel app to do it once.
    if getattr(sender, "label", None) != "tenancy":
        return
    connection = connections[using]
    if connection.settings_dict.get("USER") == settings.SMS_APP_DB_ROLE:
        # post_migrate also follows a flush (tests) run as the application role, which
        # may not alter tables. Protection is the owner's job, at migrate time.
        return
    protect_all(connection)


def app_role_problems(cursor) -> list[str]:
    """What is wrong with the role the application connects as, if anything."""
    role = settings.SMS_APP_DB_ROLE
    problems = []
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        return [f"application role {role!r} does not exist"]
    if row[0]:
        problems.append(f"application role {role!r} is a superuser")
    if row[1]:
        problems.append(f"application role {role!r} has BYPASSRLS")
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND pg_get_userbyid(c.relowner) = %s
        """,
        [role],
    )
    owned = [r[0] for r in cursor.fetchall()]
    if owned:
        problems.append(f"application role {role!r} owns tables: {', '.join(owned[:10])}")
    return problems
