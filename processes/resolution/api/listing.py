"""Loading a page of incidents for the API with few joins.

An incident points at a dozen rows (five people, two parties, a contact, a service, a
category and its parents). Joining them all into the page query makes PostgreSQL's
planner the slowest part of a list request on a large table (tens of milliseconds of
planning for a one-millisecond scan). The page is therefore read with the few joins that
plan cheaply (service, category and its parents), and the people and parties of the whole
page are fetched with one query each and attached to the rows: a fixed number of queries
whatever the page size. The ids of each row's affected CIs come the same way (one query
for the page, attached as ``ATTACHED_CI_IDS``) rather than by prefetching the relation.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from ..models import Incident

LIST_SELECT_RELATED = ("service", "category__parent__parent")
LIST_PREFETCH_RELATED = ("caller",)
ATTACHED_CI_IDS = "_affected_ci_ids"


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
        .prefetch_related(*LIST_PREFETCH_RELATED)
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


def attach_ci_ids(rows) -> None:
    """The ids of each row's affected CIs, in the CIs' order, from one query. The join to
    the CIs' table keeps row-level security (and the tenant filter) on the answer."""
    from sms.cmdb.models import ConfigurationItem
    from sms.tenancy import context

    through = Incident.affected_cis.through
    ordering = [f"{'-' if o.startswith('-') else ''}configurationitem__{o.lstrip('-')}"
                for o in ConfigurationItem._meta.ordering]
    ids: dict[int, list[int]] = {row.pk: [] for row in rows}
    pairs = (
        through.objects.filter(incident_id__in=list(ids), configurationitem__tenant_id=context.require_tenant().pk)
        .order_by(*ordering, "configurationitem_id")
        .values_list("incident_id", "configurationitem_id")
    )
    for incident_id, ci_id in pairs:
        ids[incident_id].append(ci_id)
    for row in rows:
        setattr(row, ATTACHED_CI_IDS, ids[row.pk])


def attach_people_and_parties(rows) -> list:
    """One query for every user the page names, one for every party, one for the ids of
    the affected CIs."""
    from sms.parties.models import Party

    rows = list(rows)
    if rows:
        attach(rows, _fk_names(Incident, get_user_model()), get_user_model().objects.all())
        attach(rows, _fk_names(Incident, Party), Party.objects.all())
        attach_ci_ids(rows)
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
