"""Querysets of a fixed shape, compiled to SQL once and then only given new values.

Turning a queryset into SQL (joins, select list, converters) is most of what a lookup by
id costs in Python: for a hot path such as reading a token, or the service, category and
caller named in an incident body, Django repeats the same work on every request only to
produce the same SQL with one different value. ``LookupCache`` keeps, per key, the SQL
and the compiler of a queryset built around a *sentinel* value; a later lookup copies the
parameters with the real value in the sentinel's place and turns the rows into model
instances with the kept compiler, exactly as iterating the queryset would (select_related
included).

The key must name everything the queryset depends on apart from the looked-up value: a
tenant-scoped manager puts the current tenant's id into the SQL, so such keys include the
tenant (see ``context_key``). The row-level security settings are not part of the SQL;
the database backend applies them to every statement, cached or not.

When the sentinel cannot be found exactly once in the parameters (a queryset that
transforms the value), nothing is cached and the queryset is compiled every time.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db.models.query import QuerySet

from sms.tenancy import context

# Values no real lookup is likely to use: an id near the top of a 32-bit key's range (a
# larger one would make Django drop the condition on a 32-bit key: no SQL to keep), and a
# string no digest matches. Were a real parameter equal, the sentinel would be found twice
# and nothing cached.
INT_SENTINEL = 2_147_418_113
STR_SENTINEL = "\x1fsms-compiled-lookup-sentinel\x1f"


@dataclass(frozen=True)
class Compiled:
    """A queryset's SQL with the position of its one variable parameter."""

    queryset: QuerySet
    compiler: object
    sql: str
    params: tuple
    position: int

    def statement(self, value) -> tuple[str, tuple]:
        params = list(self.params)
        params[self.position] = value
        return self.sql, tuple(params)

    def fresh_compiler(self):
        """A copy of the kept compiler for one result (the copy, not the shared one, is
        pointed at that result's rows)."""
        return copy.copy(self.compiler)


def context_key() -> tuple:
    """What a tenant-scoped queryset depends on: the current tenant and user."""
    return (context.current_tenant_id(), context.current_user_id())


class LookupCache:
    """Compiled querysets by key, least recently used dropped beyond ``size``."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._entries: OrderedDict[Hashable, Compiled | None] = OrderedDict()
        self._lock = threading.Lock()

    def compiled(self, key: Hashable, build: Callable[[object], QuerySet], sentinel) -> Compiled | None:
        """The compiled form of ``build(sentinel)`` under ``key``; None when it cannot be
        kept (the sentinel was not found once, or the queryset matches nothing)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        entry = compile_around(build(sentinel), sentinel)
        with self._lock:
            self._entries[key] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def compile_around(queryset: QuerySet, sentinel) -> Compiled | None:
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    positions = [i for i, p in enumerate(params) if type(p) is type(sentinel) and p == sentinel]
    if len(positions) != 1:
        return None
    # The converters of the select list depend only on it: found once here, not for every
    # result (the copies that ``fresh_compiler`` hands out keep this method).
    converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
    compiler.get_converters = lambda expressions: converters
    return Compiled(queryset, compiler, sql, tuple(params), positions[0])
