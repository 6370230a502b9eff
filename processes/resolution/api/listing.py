"""Loading a page of incidents for the API: the page's own rows, then everything they point
at in one round trip.

An incident points at a dozen rows (five people, two parties, a contact, a service, a
category and its parents) and at its affected CIs. Joining them into the page query makes
PostgreSQL's planner the slowest part of a list request on a large table (tens of
milliseconds of planning for a one-millisecond scan), and ``select_related`` builds a copy
of the service and of three categories for every row; prefetching the CIs builds a
related manager and a queryset per row. The page is therefore read without joins, and the
rows it names are read by primary key, each distinct row once, in one message
(``sms.core.db.batch.fetch_together``) and cached on the incidents as ``select_related``
would have. The ids of each row's affected CIs come in the same message and are attached
as ``ATTACHED_CI_IDS``. A fixed number of queries whatever the page size.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from sms.core.db.batch import fetch_together
from sms.tenancy import context

from ..models import Category, Incident

ATTACHED_CI_IDS = "_affected_ci_ids"


def _fk_names(model, related_model) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.many_to_one and f.related_model is related_model
    ]


def incident_list_queryset():
    return Incident.objects.with_clock()


def _related_groups() -> list[tuple[list[str], object]]:
    """(foreign keys, queryset of what they point at) for everything a listed row shows."""
    from sms.cmdb.models import Service
    from sms.parties.models import Contact, Party

    user_model = get_user_model()
    return [
        (_fk_names(Incident, user_model), user_model.objects.all()),
        (_fk_names(Incident, Party), Party.objects.all()),
        (["caller"], Contact.objects.all()),
        (["service"], Service.objects.all()),
        (["category"], Category.objects.select_related("parent__parent")),
    ]


def _ci_links(rows):
    """The page's incident-CI links, in the CIs' order. The join to the CIs' table keeps
    row-level security (and the tenant filter) on the answer."""
    from sms.cmdb.models import ConfigurationItem

    ordering = [f"{'-' if o.startswith('-') else ''}configurationitem__{o.lstrip('-')}"
                for o in ConfigurationItem._meta.ordering]
    return (
        Incident.affected_cis.through.objects.filter(
            incident_id__in=[row.pk for row in rows], configurationitem__tenant_id=context.require_tenant().pk
        )
        .order_by(*ordering, "configurationitem_id")
        .only("incident_id", "configurationitem_id")
    )


def attach_related(rows) -> list:
    """Everything the listed ``rows`` point at, read in one round trip and cached on them."""
    rows = list(rows)
    if not rows:
        return rows
    groups = []
    for names, queryset in _related_groups():
        ids = {getattr(row, f"{name}_id") for row in rows for name in names} - {None}
        groups.append((names, queryset.filter(pk__in=ids).order_by()))
    *found, links = fetch_together([qs for _, qs in groups] + [_ci_links(rows)])
    for (names, _), instances in zip(groups, found, strict=True):
        by_pk = {instance.pk: instance for instance in instances}
        for row in rows:
            for name in names:
                pk = getattr(row, f"{name}_id")
                if pk is None or pk in by_pk:
                    Incident._meta.get_field(name).set_cached_value(row, by_pk.get(pk))
    ci_ids: dict[int, list[int]] = {row.pk: [] for row in rows}
    for link in links:
        ci_ids[link.incident_id].append(link.configurationitem_id)
    for row in rows:
        setattr(row, ATTACHED_CI_IDS, ci_ids[row.pk])
    return rows


class IncidentListMixin:
    """For the incident viewset: pages of the list and the console queues are loaded
    through ``incident_list_queryset`` and get what they point at attached."""

    list_actions = ("list", "queue")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and getattr(self, "action", None) in self.list_actions:
            page = attach_related(page)
        return page
