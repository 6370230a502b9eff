"""Loading a page of incidents for the API with few joins.

An incident points at a dozen rows (five people, two parties, a contact, a service, a
category and its parents). Joining them all into the page query makes PostgreSQL's
planner the slowest part of a list request on a large table (tens of milliseconds of
planning for a one-millisecond scan). The page is therefore read with the few joins that
plan cheaply (service, category and its parents), and the people and parties of the whole
page are fetched with one query each and attached to the rows: a fixed number of queries
whatever the page size.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from ..models import Incident

LIST_SELECT_RELATED = ("service", "category__parent__parent")


def _fk_names(model, related_model) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.many_to_one and f.related_model is related_model
    ]


def incident_list_queryset():
    return (
        Incident.objects.with_clock()
        .select_related(*LIST_SELECT_RELATED)
        .prefetch_related("affected_cis", "caller")
    )


def attach(rows, names: list[str], queryset) -> None:
    """Fetch the rows that ``names`` (foreign keys) point at in one query and cache them
    on ``rows``, as ``select_related`` would have."""
    ids = {getattr(row, f"{name}_id") for row in rows for name in names} - {None}
    found = queryset.in_bulk(ids) if ids else {}
    for row in rows:
        for name in names:
            pk = getattr(row, f"{name}_id")
            if pk is None or pk in found:
                Incident._meta.get_field(name).set_cached_value(row, found.get(pk))


def attach_people_and_parties(rows) -> list:
    """One query for every user the page names, one for every party."""
    from sms.parties.models import Party

    rows = list(rows)
    if rows:
        attach(rows, _fk_names(Incident, get_user_model()), get_user_model().objects.all())
        attach(rows, _fk_names(Incident, Party), Party.objects.all())
    return rows


class IncidentListMixin:
    """For the incident viewset: pages of the list and the console queues are loaded
    through ``incident_list_queryset`` and get their people and parties attached."""

    list_actions = ("list", "queue")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and getattr(self, "action", None) in self.list_actions:
            page = attach_people_and_parties(page)
        return page
