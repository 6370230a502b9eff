"""PostgreSQL backend that carries the tenant context into every transaction.

Row-level security policies read ``app.tenant_id`` and ``app.user_id``. They are set
with ``set_config(..., true)``, i.e. for the current transaction only, so a pooled
connection never carries one tenant's setting into another's work.

- Inside a transaction the settings are applied before the first query, and again
  whenever the context changes or a savepoint rollback may have undone them.
- In autocommit mode a query that runs under a tenant context is wrapped in its own
  short transaction, so the setting and the query share it.
"""

from django.db import transaction
from django.db.backends.postgresql import base

from sms.tenancy import context

_UNSET = object()
_SET_SQL = "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)"


def _wanted() -> tuple[str, str]:
    tenant_id = context.current_tenant_id()
    user_id = context.current_user_id()
    return ("" if tenant_id is None else str(tenant_id), "" if user_id is None else str(user_id))


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rls_applied = _UNSET
        self.execute_wrappers.append(self._rls_guard)

    def _apply_rls(self, wanted: tuple[str, str]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(_SET_SQL, wanted)
        self._rls_applied = wanted

    def _rls_guard(self, execute, sql, params, many, ctx):
        wanted = _wanted()
        if self.in_atomic_block:
            if self._rls_applied != wanted:
                self._apply_rls(wanted)
            return execute(sql, params, many, ctx)
        if wanted == ("", ""):
            # Autocommit with no context: the previous transaction's settings are gone.
            return execute(sql, params, many, ctx)
        with transaction.atomic(using=self.alias):
            self._apply_rls(wanted)
            return execute(sql, params, many, ctx)

    # A transaction's end (or a rolled-back savepoint) discards what set_config did.
    def _commit(self):
        self._rls_applied = _UNSET
        return super()._commit()

    def _rollback(self):
        self._rls_applied = _UNSET
        return super()._rollback()

    def _savepoint_rollback(self, sid):
        # ROLLBACK TO SAVEPOINT itself passes through the guard: reset only afterwards,
        # or the guard would try set_config inside the aborted transaction.
        try:
            return super()._savepoint_rollback(sid)
        finally:
            self._rls_applied = _UNSET

    def _set_autocommit(self, autocommit):
        self._rls_applied = _UNSET
        return super()._set_autocommit(autocommit)

    def close(self):
        self._rls_applied = _UNSET
        return super().close()
