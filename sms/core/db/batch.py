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


def fetch_together(querysets: Sequence[QuerySet]) -> list[list]:
    """The model instances of each queryset, in order, read in one round trip when the
    connection allows it (else one query each). Querysets must yield model instances."""
    if len(querysets) < 2 or len({qs.db for qs in querysets}) != 1:
        return [list(qs) for qs in querysets]
    db = querysets[0].db
    compilers, statements = [], []
    for qs in querysets:
        compiler = qs.query.get_compiler(using=db)
        try:
            statements.append(compiler.as_sql())
        except EmptyResultSet:
            statements.append(None)
        compilers.append(compiler)
    with connections[db].cursor() as cursor:
        raw = cursor.cursor
        if not isinstance(raw, psycopg.ClientCursor):
            return [list(qs) for qs in querysets]
        sql = "; ".join(raw.mogrify(*statement) for statement in statements if statement is not None)
        rows_of: list[list] = []
        first = True
        if sql:
            cursor.execute(sql)
        for statement in statements:
            if statement is None:  # matches nothing: not sent
                rows_of.append([])
                continue
            if not first:
                raw.nextset()
            first = False
            rows_of.append(raw.fetchall())
    return [_instances(qs, compiler, rows) for qs, compiler, rows in zip(querysets, compilers, rows_of, strict=True)]


def _instances(qs: QuerySet, compiler, rows: list) -> list:
    """Rows of a compiled queryset as Django would have turned them into instances."""
    if not rows:
        return []
    clone = qs._chain()
    compiler.execute_sql = lambda *args, **kwargs: [rows]
    clone.query.get_compiler = lambda *args, **kwargs: compiler
    return list(ModelIterable(clone))
