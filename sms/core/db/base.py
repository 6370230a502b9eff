"""PostgreSQL backend that carries the tenant context into every transaction.

Row-level security policies read ``app.tenant_id`` and ``app.user_id``. They are set
with ``set_config(..., true)``, i.e. for the current transaction only, so a pooled
connection never carries one tenant's setting into another's work.

- Inside a transaction the settings are applied before the first query, and again
  whenever the context changes or a savepoint rollback may have undone them.
- In autocommit mode a query that runs under a tenant context travels in one message with
  the settings, which PostgreSQL runs as one implicit transaction; where that is not
  possible it is wrapped in its own short transaction. Either way the setting and the
  query share a transaction.
- The settings travel with the statement that needs them: a client-side binding cursor
  (Django's default with psycopg 3) sends ``SELECT set_config(...); <statement>`` in one
  simple-protocol message and moves on to the statement's result, so applying the
  context costs no round trip of its own. Other cursors and ``executemany`` send it first.
"""

import datetime

import psycopg
from django.db import transaction
from django.db.backends.postgresql import base
from psycopg.pq import Format

from sms.tenancy import context

_UNSET = object()
_SET_SQL = "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)"
# Savepoint statements read no rows, and ROLLBACK TO may run in an aborted transaction.
_NO_ROWS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
_SET_SQL_INLINE = "SELECT set_config('app.tenant_id', '{}', true), set_config('app.user_id', '{}', true); "


_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# psycopg's own loader of timestamptz text: compiled when psycopg[binary] is installed.
_NATIVE_TZ_LOADER = psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


def _wanted() -> tuple[str, str]:
    tenant_id = context.current_tenant_id()
    user_id = context.current_user_id()
    return ("" if tenant_id is None else str(tenant_id), "" if user_id is None else str(user_id))


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rls_applied = _UNSET
        # Changes whenever a transaction begins or ends: lets per-transaction memos (the
        # incident set-up cache) tell one transaction from the next.
        self.transaction_serial = 0
        self.savepoint_rollbacks = 0  # likewise, for what a rolled-back savepoint undid
        self.execute_wrappers.append(self._rls_guard)

    def create_cursor(self, name=None):
        """Django reads every timestamptz through a Python subclass of psycopg's loader that
        re-attaches its time zone to each value; that costs several microseconds a value,
        8 % of logging an incident. When the session's time zone is UTC (Django sets it so
        with USE_TZ) psycopg's compiled loader gives the very same values: UTC-aware
        datetimes. So a plain cursor reads with that one."""
        cursor = super().create_cursor(name)
        if (
            name is None
            and self.timezone is datetime.UTC
            and self.connection.info.parameter_status("TimeZone") == "UTC"
        ):
            cursor.adapters.register_loader(_TIMESTAMPTZ, _NATIVE_TZ_LOADER)
        return cursor

    def rls_settings_changed(self) -> None:
        """A statement set the tenant settings itself: apply the context's again before
        the next statement."""
        self._rls_applied = _UNSET

    def _apply_rls(self, wanted: tuple[str, str]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(_SET_SQL, wanted)
        self._rls_applied = wanted

    @staticmethod
    def _inline_cursor(wanted, sql, many, ctx):
        """The raw client-side cursor when ``sql`` can carry the settings in its own message
        (the values are digits or empty: safe to inline), else None."""
        raw = getattr(ctx.get("cursor"), "cursor", None)
        if isinstance(sql, str) and isinstance(raw, psycopg.ClientCursor) and not many:
            if all(v.isdigit() or not v for v in wanted):
                return raw
        return None

    def _execute_inline(self, raw, wanted, execute, sql, params, many, ctx):
        result = execute(_SET_SQL_INLINE.format(*wanted) + sql, params, many, ctx)
        raw.nextset()  # past set_config's row, to the statement's own result
        return result

    def _execute_applying(self, wanted, execute, sql, params, many, ctx):
        """Run the statement with ``wanted`` applied first, in the same round trip when the
        cursor allows it."""
        raw = self._inline_cursor(wanted, sql, many, ctx)
        if raw is None:
            self._apply_rls(wanted)
            return execute(sql, params, many, ctx)
        self._rls_applied = wanted
        return self._execute_inline(raw, wanted, execute, sql, params, many, ctx)

    def _rls_guard(self, execute, sql, params, many, ctx):
        wanted = _wanted()
        if self.in_atomic_block:
            if self._rls_applied != wanted and not (isinstance(sql, str) and sql.startswith(_NO_ROWS)):
                return self._execute_applying(wanted, execute, sql, params, many, ctx)
            return execute(sql, params, many, ctx)
        if wanted == ("", ""):
            # Autocommit with no context: the previous transaction's settings are gone.
            return execute(sql, params, many, ctx)
        raw = self._inline_cursor(wanted, sql, many, ctx)
        if raw is not None:
            # Autocommit: PostgreSQL runs the statements of one simple-query message as one
            # implicit transaction, so the settings hold for the statement and end with it;
            # no BEGIN and COMMIT round trips around it.
            return self._execute_inline(raw, wanted, execute, sql, params, many, ctx)
        with transaction.atomic(using=self.alias):
            return self._execute_applying(wanted, execute, sql, params, many, ctx)

    # A transaction's end (or a rolled-back savepoint) discards what set_config did.
    def _commit(self):
        self._rls_applied = _UNSET
        self.transaction_serial += 1
        return super()._commit()

    def _rollback(self):
        self._rls_applied = _UNSET
        self.transaction_serial += 1
        return super()._rollback()

    def _savepoint_rollback(self, sid):
        # ROLLBACK TO SAVEPOINT itself passes through the guard: reset only afterwards,
        # or the guard would try set_config inside the aborted transaction.
        try:
            return super()._savepoint_rollback(sid)
        finally:
            self._rls_applied = _UNSET
            self.savepoint_rollbacks += 1

    def _set_autocommit(self, autocommit):
        self._rls_applied = _UNSET
        self.transaction_serial += 1
        return super()._set_autocommit(autocommit)

    def close(self):
        self._rls_applied = _UNSET
        return super().close()
