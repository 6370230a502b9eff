"""Several independent SELECTs in one round trip to the database.

A form or API body names a handful of related rows (a service, a category, a caller, a
group...). Fetched one by one they cost a round trip each; with a client-side binding
cursor (Django's default with psycopg 3) the statements can travel as one simple-protocol
message and come back as one result per statement. The querysets are compiled by Django
as usual and their rows become model instances exactly as iterating them would
(select_related included), under the same tenant settings (the row-level security guard
of ``sms.core.db.base`` applies to the message as to any statement).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import ModelIterable, QuerySet

from sms.core.db.compiled import Compiled


def fetch_together(querysets: Sequence[QuerySet]) -> list[list]:
    """The model instances of each queryset, in order, read in one round trip when the
    connection allows it (else one query each). Querysets must yield model instances."""
    if len(querysets) < 2 or len({qs.db for qs in querysets}) != 1:
        return [list(qs) for qs in querysets]
    parts = []
    for qs in querysets:
        compiler = qs.query.get_compiler(using=qs.db)
        try:
            statement = compiler.as_sql()
        except EmptyResultSet:
            statement = None
        parts.append((qs, compiler, statement))
    return _fetch(querysets[0].db, parts)


def fetch_compiled(
    lookups: Sequence[tuple[Compiled, object]], before: Sequence[tuple[str, Sequence]] = ()
) -> list[list]:
    """Like ``fetch_together`` for querysets compiled once (``sms.core.db.compiled``), each
    with the value to look up: no compiling at all. ``before``: statements sent first in
    the same message, whose results are not kept (settings the lookups read). The lookups
    read one database."""
    parts = [(c.queryset, c.fresh_compiler(), c.statement(value)) for c, value in lookups]
    if len({qs.db for qs, _, _ in parts}) > 1:
        raise ValueError("Lookups sent together must read the same database.")
    return _fetch(parts[0][0].db, parts, before) if parts else []


def _rows(db: str, statement) -> list:
    with connections[db].cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchall()


def _fetch(db: str, parts: list, before: Sequence[tuple[str, Sequence]] = ()) -> list[list]:
    """Send the statements of ``parts`` (queryset, compiler, statement or None) as one
    message, after those of ``before``, and turn each result into instances."""
    statements = [statement for _, _, statement in parts]
    with connections[db].cursor() as cursor:
        raw = cursor.cursor
        if not isinstance(raw, psycopg.ClientCursor):
            for statement in before:
                cursor.execute(*statement)
            rows_of = [[] if statement is None else _rows(db, statement) for statement in statements]
        else:
            sent = [*before, *(statement for statement in statements if statement is not None)]
            sql = "; ".join(raw.mogrify(*statement) for statement in sent)
            rows_of = []
            first = True
            if sql:
                cursor.execute(sql)
                for _ in before:  # past their results
                    raw.nextset()
            for statement in statements:
                if statement is None:  # matches nothing: not sent
                    rows_of.append([])
                    continue
                if not first:
                    raw.nextset()
                first = False
                rows_of.append(raw.fetchall())
    return [_instances(qs, compiler, rows) for (qs, compiler, _), rows in zip(parts, rows_of, strict=True)]


class _Source:
    """What ``ModelIterable`` reads of its queryset (``query`` answering ``get_compiler``),
    with a compiler whose result is already fetched: no clone of the queryset per result."""

    __slots__ = ("db", "model", "_known_related_objects", "_compiler")

    def __init__(self, qs: QuerySet, compiler):
        self.db, self.model, self._known_related_objects = qs.db, qs.model, qs._known_related_objects
        self._compiler = compiler

    @property
    def query(self):
        return self

    def get_compiler(self, *args, **kwargs):
        return self._compiler


def _instances(qs: QuerySet, compiler, rows: list) -> list:
    """Rows of a compiled queryset as Django would have turned them into instances."""
    if not rows:
        return []
    compiler.execute_sql = lambda *args, **kwargs: [rows]
    return list(ModelIterable(_Source(qs, compiler)))

