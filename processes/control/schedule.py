"""The schedule of change (clause 9.2): the approved and pending changes by their planned
windows, with the conflicts between them and with blackout windows, worked out in SQL
for a whole range at once; moving a change in the schedule; and telling the interested
parties of the affected services when a change is scheduled or moved.

The calendar page, the ICS feed and the schedule API all read ``schedule()``; the
change page and ``/changes/{id}/conflicts/`` read ``conflicts_for()``. Both make a
fixed number of queries whatever the number of changes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from sms.tenancy import context

from .choices import ChangeState, ChangeType
from .models import BlackoutWindow, Change
from .services import SCHEDULED_STATES

S = ChangeState
# Changes that hold (or may soon hold) a place in the schedule: only these conflict.
HOLDING_STATES = SCHEDULED_STATES
# What the calendar and the feed show unless a state is asked for: everything with a
# window except drafts and requests that were turned down or withdrawn.
SHOWN_STATES = tuple(s for s in S.values if s not in (S.DRAFT, S.REJECTED, S.CANCELLED))
# A change's planned window may be moved (and is then announced) in these states.
MOVABLE_STATES = (S.APPROVED, S.SCHEDULED)
MAX_RANGE_DAYS = 400
# What the calendar, the feed and the API show of a change: loading only these keeps a
# busy week (a thousand changes) cheap to build.
SCHEDULE_FIELDS = (
    "id",
    "tenant_id",
    "number",
    "reference",
    "title",
    "state",
    "change_type",
    "risk_level",
    "is_major",
    "planned_start",
    "planned_end",
    "updated_at",
)

TOPIC_SCHEDULE = "change_schedule"


# --- conflicts in SQL ----------------------------------------------------------------------------
def _conflict_sql(many: bool = False) -> str:
    """Pairs (change, other change, how they meet, CI or service id) for the changes whose
    ids are given: the other change holds a place in the schedule, its window overlaps,
    and it touches the same CI, a CI directly related to one of the change's CIs (a
    parent or child in the CMDB) or the same service.

    A CI is in few changes, a busy service in thousands. So shared services are found
    from time: the changes that hold a place between the earliest start and the latest
    end of those given, with their services. Shared and related CIs are found from the
    change's CIs through the join table's index for one change or a few
    (``many=False``), and from the same changes by time for a whole range (``many=True``,
    the calendar), where going through the CIs would meet the same changes again and
    again."""
    cis = Change.cis.through._meta
    svc = Change.services.through._meta
    ci_table, ci_col = cis.db_table, cis.get_field("configurationitem").column
    svc_table, svc_col = svc.db_table, svc.get_field("service").column
    # The planner's estimates here are rough (how many changes share a CI or a service),
    # and a hash join over a whole table costs far more than the few hundred index
    # look-ups really needed; ``LATERAL (... OFFSET 0)`` keeps those look-ups per row.
    # Every row carries its change's window, so each pairing is cut by time at once.
    # Other changes by time: those holding a place between the earliest start and the
    # latest end of the changes given (the planned_start index; cheap for one window).
    others = f"""
    , cand AS MATERIALIZED (
        SELECT id, planned_start, planned_end, number FROM control_change
         WHERE tenant_id = %(tenant)s AND state = ANY(%(states)s)
           AND planned_start < (SELECT max(planned_end) FROM v) AND planned_end > (SELECT min(planned_start) FROM v)
    ), osv AS MATERIALIZED (
        SELECT cand.id AS change_id, x.service_id, cand.planned_start AS os, cand.planned_end AS oe, cand.number
          FROM cand CROSS JOIN LATERAL (
            SELECT os.{svc_col} AS service_id FROM {svc_table} os WHERE os.change_id = cand.id OFFSET 0) x
    )"""
    if many:
        others += f"""
    , oci AS MATERIALIZED (
        SELECT cand.id AS change_id, x.ci_id, cand.planned_start AS os, cand.planned_end AS oe, cand.number
          FROM cand CROSS JOIN LATERAL (
            SELECT oc.{ci_col} AS ci_id FROM {ci_table} oc WHERE oc.change_id = cand.id OFFSET 0) x
    )"""
    else:
        # A CI is in few changes: from the change's CIs through the join table's index.
        others += f"""
    , oci AS NOT MATERIALIZED (
        SELECT x.change_id, x.{ci_col} AS ci_id, c.planned_start AS os, c.planned_end AS oe, c.number
          FROM {ci_table} x JOIN control_change c ON c.id = x.change_id
         WHERE c.tenant_id = %(tenant)s AND c.state = ANY(%(states)s)
    )"""
    return f"""
    WITH v AS MATERIALIZED (
        SELECT id, planned_start, planned_end FROM control_change
         WHERE tenant_id = %(tenant)s AND id = ANY(%(ids)s)
           AND planned_start IS NOT NULL AND planned_end IS NOT NULL
    ), vci AS MATERIALIZED (
        SELECT vc.change_id, vc.{ci_col} AS ci_id, v.planned_start AS vs, v.planned_end AS ve
          FROM {ci_table} vc JOIN v ON v.id = vc.change_id
    ), vsv AS MATERIALIZED (
        SELECT x.change_id, x.{svc_col} AS service_id, v.planned_start AS vs, v.planned_end AS ve
          FROM {svc_table} x JOIN v ON v.id = x.change_id
    ), near AS MATERIALIZED (
        SELECT vci.change_id, n.ci_id, vci.vs, vci.ve FROM vci CROSS JOIN LATERAL (
            SELECT r.target_id AS ci_id FROM cmdb_relationship r
             WHERE r.tenant_id = %(tenant)s AND r.source_id = vci.ci_id
            UNION ALL
            SELECT r.source_id FROM cmdb_relationship r
             WHERE r.tenant_id = %(tenant)s AND r.target_id = vci.ci_id
            OFFSET 0) n
    ){others}
    , hits AS (
        SELECT vci.change_id, oci.change_id AS other_id, 'ci' AS kind, oci.ci_id AS item_id, oci.os, oci.number
          FROM vci JOIN oci ON oci.ci_id = vci.ci_id AND oci.change_id <> vci.change_id
                            AND oci.os < vci.ve AND oci.oe > vci.vs
        UNION ALL
        SELECT near.change_id, oci.change_id, 'related', oci.ci_id, oci.os, oci.number
          FROM near JOIN oci ON oci.ci_id = near.ci_id AND oci.change_id <> near.change_id
                            AND oci.os < near.ve AND oci.oe > near.vs
        UNION ALL
        SELECT vsv.change_id, osv.change_id, 'service', osv.service_id, osv.os, osv.number
          FROM vsv JOIN osv ON osv.service_id = vsv.service_id AND osv.change_id <> vsv.change_id
                            AND osv.os < vsv.ve AND osv.oe > vsv.vs
    )
    SELECT change_id, other_id, kind, item_id FROM hits
     WHERE NOT (kind = 'related' AND (change_id, item_id) IN (SELECT change_id, ci_id FROM vci))
     ORDER BY os, number, kind, item_id
    """


def _blackout_sql() -> str:
    """Pairs (change, blackout window) for the given changes: the blackout overlaps the
    change's window and applies to every service or to one of the change's services."""
    bs = BlackoutWindow.services.through._meta
    cs = Change.services.through._meta
    b_table, b_col = bs.db_table, bs.get_field("blackoutwindow").column
    b_svc, c_svc = bs.get_field("service").column, cs.get_field("service").column
    return f"""
    SELECT c.id, b.id
      FROM control_change c
      JOIN control_blackoutwindow b ON b.tenant_id = %(tenant)s
           AND b.starts_at < c.planned_end AND b.ends_at > c.planned_start
     WHERE c.tenant_id = %(tenant)s AND c.id = ANY(%(ids)s)
       AND (NOT EXISTS (SELECT 1 FROM {b_table} x WHERE x.{b_col} = b.id)
            OR EXISTS (SELECT 1 FROM {b_table} x JOIN {cs.db_table} y ON y.{c_svc} = x.{b_svc}
                        WHERE x.{b_col} = b.id AND y.change_id = c.id))
     ORDER BY b.starts_at, b.id
    """


def conflict_pairs(change_ids, *, many: bool = False) -> dict[int, list[tuple[int, str, int]]]:
    """``{change id: [(other id, kind, CI or service id), ...]}`` in one query (``many``:
    the plan for a whole range of changes, see ``_conflict_sql``)."""
    ids = list(change_ids)
    result: dict[int, list] = defaultdict(list)
    if not ids:
        return result
    params = {"tenant": context.require_tenant().pk, "ids": ids, "states": list(HOLDING_STATES)}
    with nullcontext() if connection.in_atomic_block else transaction.atomic(), connection.cursor() as cursor:
        if many:
            # Over a range the estimates are high enough for PostgreSQL to compile the
            # query (JIT), which costs seconds where running it costs milliseconds.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(_conflict_sql(many), params)
        for change_id, other_id, kind, item_id in cursor.fetchall():
            result[change_id].append((other_id, kind, item_id))
    return result


def blackout_pairs(change_ids) -> dict[int, list[int]]:
    """``{change id: [blackout id, ...]}`` in one query."""
    ids = list(change_ids)
    result: dict[int, list] = defaultdict(list)
    if not ids:
        return result
    with connection.cursor() as cursor:
        cursor.execute(_blackout_sql(), {"tenant": context.require_tenant().pk, "ids": ids})
        for change_id, blackout_id in cursor.fetchall():
            result[change_id].append(blackout_id)
    return result


def _shares(pairs, cis: dict, services: dict) -> dict[int, list[str]]:
    """What each other change shares, in words, in the order found."""
    shares: dict[int, list[str]] = {}
    for other_id, kind, item_id in pairs:
        said = shares.setdefault(other_id, [])
        if kind == "ci":
            text = f"the same CI {cis[item_id]}"
        elif kind == "related":
            text = f"{cis[item_id]}, related to a CI of this change"
        else:
            text = f"the service {services[item_id]}"
        if text not in said:
            said.append(text)
    return shares


def _names(pairs_by_change) -> tuple[dict, dict]:
    from sms.cmdb.models import ConfigurationItem, Service

    ci_ids = {i for pairs in pairs_by_change for _, k, i in pairs if k != "service"}
    svc_ids = {i for pairs in pairs_by_change for _, k, i in pairs if k == "service"}
    cis = dict(ConfigurationItem.objects.filter(pk__in=ci_ids).values_list("pk", "reference")) if ci_ids else {}
    services = dict(Service.objects.filter(pk__in=svc_ids).values_list("pk", "title")) if svc_ids else {}
    return cis, services


def conflicts_for(change: Change) -> list[dict]:
    """Other changes in conflict with ``change`` in the schedule, each with what they share
    (``[{"change": Change, "shares": [str]}]``, by planned start). Four queries at most."""
    if change.pk is None or change.planned_start is None or change.planned_end is None:
        return []
    pairs = conflict_pairs([change.pk]).get(change.pk, [])
    if not pairs:
        return []
    cis, services = _names([pairs])
    shares = _shares(pairs, cis, services)
    others = Change.objects.in_bulk(list(shares))
    return [{"change": others[pk], "shares": said} for pk, said in shares.items() if pk in others]


# --- the schedule ---------------------------------------------------------------------------------
@dataclass
class Entry:
    """One change in the schedule with what it conflicts with."""

    change: Change
    conflicts: list[dict] = field(default_factory=list)  # {"id", "reference", "title", "shares"}
    blackouts: list[BlackoutWindow] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.conflicts or self.blackouts)


@dataclass
class Schedule:
    start: dt.datetime
    end: dt.datetime
    entries: list[Entry]
    blackouts: list[BlackoutWindow]

    @property
    def flagged(self) -> int:
        return sum(1 for e in self.entries if e.flagged)


def parse_range(start, end) -> tuple[dt.datetime, dt.datetime]:
    """Check a requested range: both given, end after start, at most MAX_RANGE_DAYS."""
    errors = {}
    if start is None:
        errors["start"] = "Give the start of the range."
    if end is None:
        errors["end"] = "Give the end of the range."
    if not errors and end <= start:
        errors["end"] = "The end of the range must be after its start."
    if not errors and (end - start).days > MAX_RANGE_DAYS:
        errors["end"] = f"Ask for at most {MAX_RANGE_DAYS} days at a time."
    if errors:
        raise ValidationError(errors)
    return start, end


def schedule_queryset(start, end, *, service=None, change_type: str = "", states=None):
    """Changes whose planned window overlaps [start, end), filtered; by planned start."""
    qs = Change.objects.filter(
        planned_start__isnull=False,
        planned_end__isnull=False,
        planned_start__lt=end,
        planned_end__gt=start,
        state__in=list(states) if states else list(SHOWN_STATES),
    )
    if service is not None:
        from sms.cmdb.models import ServiceComponent

        service_id = getattr(service, "pk", service)
        qs = qs.filter(
            Q(pk__in=Change.services.through.objects.filter(service_id=service_id).values("change_id"))
            | Q(
                pk__in=Change.cis.through.objects.filter(
                    configurationitem_id__in=ServiceComponent.objects.filter(service_id=service_id).values("ci_id")
                ).values("change_id")
            )
        )
    if change_type:
        qs = qs.filter(change_type=change_type)
    return qs.only(*SCHEDULE_FIELDS).order_by("planned_start", "number")


def schedule(start, end, *, service=None, change_type: str = "", states=None, limit: int | None = None) -> Schedule:
    """The schedule of change for [start, end): the changes (filtered by service, type and
    state), the conflicts of each with other changes and with blackout windows, and the
    blackout windows in the range. A fixed number of queries: the changes, the conflict
    pairs, the blackout pairs, the names of what the conflicts share, the conflicting
    changes, and the blackouts (with their services)."""
    qs = schedule_queryset(start, end, service=service, change_type=change_type, states=states)
    if limit is not None:
        qs = qs[:limit]
    changes = list(qs)
    holding = [c.pk for c in changes if c.state in HOLDING_STATES]
    pairs = conflict_pairs(holding, many=True)
    b_pairs = blackout_pairs(holding)
    cis, services = _names(pairs.values())
    others = {c.pk: c for c in changes}  # most conflicting changes are in view already
    missing = {o for ps in pairs.values() for o, _, _ in ps} - set(others)
    if missing:
        others.update((c.pk, c) for c in Change.objects.filter(pk__in=missing).only(*SCHEDULE_FIELDS))
    windows = list(
        BlackoutWindow.objects.filter(
            Q(starts_at__lt=end, ends_at__gt=start) | Q(pk__in={b for bs in b_pairs.values() for b in bs})
        )
        .prefetch_related("services")
        .order_by("starts_at", "id")
    )
    by_id = {w.pk: w for w in windows}
    entries = []
    for change in changes:
        shares = _shares(pairs.get(change.pk, []), cis, services)
        entries.append(
            Entry(
                change=change,
                conflicts=[
                    {
                        "id": pk,
                        "reference": others[pk].reference,
                        "title": others[pk].title,
                        "state": others[pk].state,
                        "shares": said,
                    }
                    for pk, said in shares.items()
                    if pk in others
                ],
                blackouts=[by_id[b] for b in b_pairs.get(change.pk, []) if b in by_id],
            )
        )
    in_range = [w for w in windows if w.starts_at < end and w.ends_at > start]
    return Schedule(start=start, end=end, entries=entries, blackouts=in_range)


# --- moving a change ------------------------------------------------------------------------------
@transaction.atomic
def reschedule(change: Change, *, by, planned_start, planned_end, reason: str) -> Change:
    """Move the planned window of an approved or scheduled change (the request itself can
    no longer be edited then). The reason is kept in the history, and the interested
    parties of the affected services are told once. Moving it to where it already is
    changes nothing and tells nobody."""
    locked = Change.objects.select_for_update().get(pk=change.pk)
    reason = (reason or "").strip()
    errors = {}
    if locked.state not in MOVABLE_STATES:
        errors["detail"] = (
            f"{locked.reference} is {locked.get_state_display().lower()}: only an approved or scheduled change is "
            "moved this way (edit the request itself while it is being prepared)."
        )
    if planned_start is None:
        errors["planned_start"] = "Give the new planned start."
    if planned_end is None:
        errors["planned_end"] = "Give the new planned end."
    if planned_start and planned_end and planned_end <= planned_start:
        errors["planned_end"] = "The planned end must be after the planned start."
    if not reason:
        errors["reason"] = "Say why the change moves."
    if errors:
        raise ValidationError(errors)
    if (locked.planned_start, locked.planned_end) == (planned_start, planned_end):
        return locked
    previous = (locked.planned_start, locked.planned_end)
    locked.planned_start, locked.planned_end = planned_start, planned_end
    locked._history_user = by
    locked.save(reason=f"Moved in the schedule: {reason}")
    # Giving an approved change its first window is not news yet: the schedule
    # transition announces it. A window that existed and moves is.
    if previous[0] is not None and previous[1] is not None:
        notify_schedule(locked, "moved", previous=previous, reason=reason)
    return locked


# --- telling the interested parties ---------------------------------------------------------------
def affected_services(change: Change):
    """The services in the change's scope and those its CIs are components of."""
    from sms.cmdb.models import Service, ServiceComponent

    return Service.objects.filter(
        Q(pk__in=Change.services.through.objects.filter(change_id=change.pk).values("service_id"))
        | Q(
            pk__in=ServiceComponent.objects.filter(
                ci_id__in=Change.cis.through.objects.filter(change_id=change.pk).values("configurationitem_id")
            ).values("service_id")
        )
    ).order_by("title")


def interested_addresses(services) -> list[str]:
    """Who is told about the schedule of these services: each service's owner, and for
    each of its customers the party's address, its primary contacts and the member of
    staff responsible for the relationship."""
    from sms.parties.models import Contact, Party

    ids = [s.pk for s in services]
    addresses = {s.owner.email for s in services if s.owner_id and s.owner.email}
    customers = list(Party.objects.filter(services__in=ids, is_active=True).select_related("relationship_manager"))
    for party in customers:
        addresses.add(party.email)
        if party.relationship_manager_id:
            addresses.add(party.relationship_manager.email)
    addresses.update(
        Contact.objects.filter(party__in=[p.pk for p in customers], is_primary=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted(a for a in addresses if a)


def _when(value) -> str:
    local = timezone.localtime(value, _tenant_zone())
    return local.strftime("%a %d %b %Y %H:%M %Z")


def _tenant_zone():
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(context.require_tenant().time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def notify_schedule(change: Change, event: str, *, previous=None, reason: str = "") -> list:
    """Queue one message per interested party of the affected services: ``event`` is
    "scheduled" or "moved" (with the ``previous`` window)."""
    from sms.core.outbox import queue_mail

    services = list(affected_services(change).select_related("owner"))
    recipients = interested_addresses(services)
    if not recipients:
        return []
    tenant = context.require_tenant().name
    window = f"{_when(change.planned_start)} to {_when(change.planned_end)}"
    if event == "moved":
        subject = f"[{tenant}] Change {change.reference} moved: {change.title}"
        lines = [f"The change {change.reference} \u201c{change.title}\u201d has moved in the schedule of change."]
        if previous and previous[0] and previous[1]:
            lines.append(f"It was planned for {_when(previous[0])} to {_when(previous[1])}.")
        lines.append(f"It is now planned for {window}.")
    else:
        subject = f"[{tenant}] Change {change.reference} scheduled: {change.title}"
        lines = [
            f"The change {change.reference} \u201c{change.title}\u201d is in the schedule of change.",
            f"It is planned for {window}.",
        ]
    if reason:
        lines.append(f"Reason: {reason}")
    lines.append("Services affected: " + ", ".join(f"{s.reference} {s.title}" for s in services) + ".")
    lines.append(
        f"Type: {ChangeType(change.change_type).label}. State: {change.get_state_display()}."
        + (" It may have a major impact." if change.is_major else "")
    )
    lines.append("Tell the change manager if this time does not suit you.")
    return queue_mail(recipients, subject, "\n\n".join(lines), record=change, topic=TOPIC_SCHEDULE)


def on_transition(sender, instance, name, source, target, **kwargs) -> None:
    """Receiver of django-fsm's post_transition: a change entering the schedule is
    announced once (the transition runs once under its row lock)."""
    if kwargs.get("exception") is not None or not isinstance(instance, Change):
        return
    if name == "schedule" and str(target) == S.SCHEDULED:
        reason = (kwargs.get("method_kwargs") or {}).get("reason", "")
        notify_schedule(instance, "scheduled", reason=reason)


def connect() -> None:
    from django_fsm.signals import post_transition

    post_transition.connect(on_transition, dispatch_uid="control-schedule-notify")
