"""Demo data volume: a few hundred incidents over the last 90 days for each demo tenant,
spread over the services, their CIs, the categories, callers and groups, most closed,
some late, a queue of open work; plus who works in which support group.

Fast: the incidents, their CI links and their history are written with bulk inserts
(references reserved in one statement), the due times computed with the same working-time
maths as the application in the service's calendar. Each incident gets two history rows,
"logged" and its current state, so its record page and timeline show what happened.
Idempotent: a tenant that already has the volume is left as it is.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection, transaction
from django.utils import timezone

from sms.core.models import ReferenceCounter
from sms.tenancy.roles import Role

from . import services
from . import working_time as wt
from .choices import IncidentState
from .models import Category, GroupMember, Incident, PriorityLevel, ServiceHours

S = IncidentState
VOLUME = 300
DAYS = 90
# Leaf category name -> titles an agent would write.
TITLES = {
    "Laptop": ["Laptop will not boot", "Laptop battery drains in an hour", "Docking station not detected"],
    "Printer": ["Printer shows paper jam", "Print jobs stuck in the queue", "Scanner sends blank pages"],
    "Server": ["Server disk above 90%", "Backup job failed overnight", "Server unreachable after patching"],
    "E-mail": ["Mail delivery delayed", "Cannot open shared mailbox", "Calendar invites not received"],
    "Payroll application": ["Payroll run aborts", "Payslip PDF empty", "Payroll login refused"],
    "Web shop": ["Checkout returns an error", "Product images not loading", "Web shop slow at peak"],
    "Wi-Fi": ["Wi-Fi drops in meeting rooms", "Guest Wi-Fi portal not shown", "Weak Wi-Fi on floor 2"],
    "VPN": ["VPN disconnects every few minutes", "VPN login loops", "VPN slow from home"],
    "Internet access": ["No internet in branch office", "Websites time out", "Proxy blocks a business site"],
    "Password reset": ["Password expired", "Account locked after failed logins", "MFA device lost"],
    "Permissions": ["No access to project folder", "Needs rights on the finance share", "Role missing in CRM"],
    "Phishing": ["Suspicious invoice e-mail", "User entered password on a fake page", "Spoofed CEO e-mail"],
    "Malware": ["Antivirus alert on a PC", "Ransomware note on a file share", "Browser redirects to adverts"],
}
RESOLUTION_NOTES = {
    "fixed": "Fault corrected and the caller confirmed the service works again.",
    "workaround": "Workaround in place; the cause is followed up separately.",
    "user_error": "Explained how to do it; no fault found.",
    "supplier": "The supplier corrected the fault on their side.",
}


def _reserve_numbers(tenant_id: int, n: int) -> int:
    """Reserve ``n`` incident numbers in one statement; returns the last number before them."""
    table = ReferenceCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (tenant_id, kind, last_number) VALUES (%s, 'incident', %s)
            ON CONFLICT (tenant_id, kind) DO UPDATE SET last_number = {table}.last_number + EXCLUDED.last_number
            RETURNING last_number
            """,
            [tenant_id, n],
        )
        return cursor.fetchone()[0] - n


@transaction.atomic
def seed_incident_volume(tenant, people) -> None:
    from sms.cmdb.models import ConfigurationItem, Service
    from sms.parties.models import Contact, Party

    agent, owner = people[Role.AGENT], people[Role.PROCESS_OWNER]
    groups = list(Party.objects.filter(party_type="internal_group").order_by("pk"))
    if groups:
        GroupMember.objects.get_or_create(group=groups[0], user=agent)
        for group in groups[1:3]:
            GroupMember.objects.get_or_create(group=group, user=owner)
    if Incident.objects.count() >= VOLUME:
        return

    rng = random.Random(f"incidents-{tenant.slug}")
    now = timezone.now()
    settings_row = services.ensure_defaults()
    matrix = services.matrix()
    targets = {p.level: (p.response_minutes, p.resolution_minutes) for p in PriorityLevel.objects.all()}
    default_cal = (
        settings_row.default_calendar.working_calendar()
        if settings_row.default_calendar_id
        else wt.WorkingCalendar.twenty_four_seven(tenant.time_zone or "UTC")
    )
    calendars = {
        link.service_id: link.calendar.working_calendar() for link in ServiceHours.objects.select_related("calendar")
    }
    svc = list(Service.objects.order_by("pk"))
    cis_of = {s.pk: [] for s in svc}
    for ci_id, service_id in ConfigurationItem.objects.filter(services__in=svc).values_list("pk", "services"):
        cis_of[service_id].append(ci_id)
    leaves = [c for c in Category.objects.filter(parent__isnull=False).select_related("parent") if c.name in TITLES]
    contacts = list(Contact.objects.filter(party__party_type="customer").select_related("party").order_by("pk"))
    members = [people[r] for r in (Role.AGENT, Role.PROCESS_OWNER)]
    if not leaves:
        return

    first = _reserve_numbers(tenant.pk, VOLUME)
    incidents, when_created, cis = [], [], []
    for i in range(VOLUME):
        age = dt.timedelta(minutes=rng.randrange(30, DAYS * 24 * 60))
        created = now - age
        leaf = rng.choice(leaves)
        service = rng.choice(svc) if svc and rng.random() < 0.8 else None
        impact = rng.choices((1, 2, 3), weights=(1, 3, 6))[0]
        urgency = rng.choices((1, 2, 3), weights=(2, 4, 4))[0]
        priority = matrix[(impact, urgency)]
        response, resolution = targets[priority]
        cal = calendars.get(service.pk, default_cal) if service else default_cal
        try:
            response_due = wt.add_working_minutes(cal, created, response)
            resolution_due = wt.add_working_minutes(cal, created, resolution)
        except wt.NoWorkingTime:
            response_due = resolution_due = None
        caller = rng.choice(contacts) if contacts else None
        group = rng.choice(groups) if groups else None
        # Older incidents are mostly finished; the last days hold the open queue.
        roll = rng.random()
        if age > dt.timedelta(days=5):
            state = S.CLOSED if roll < 0.86 else S.RESOLVED if roll < 0.92 else S.CANCELLED
            if age < dt.timedelta(days=12) and roll > 0.97:
                state = S.ON_HOLD
        else:
            state = rng.choice([S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CLOSED])
        assigned = state != S.NEW and not (state == S.CANCELLED and roll > 0.99)
        inc = Incident(
            tenant_id=tenant.pk,
            number=first + i + 1,
            reference=f"INC-{first + i + 1}",
            title=rng.choice(TITLES[leaf.name]),
            description=f"Reported by {caller.name if caller else 'a user'}.",
            owner=agent,
            created_by=agent,
            updated_by=agent,
            caller=caller,
            customer=caller.party if caller else None,
            service=service,
            category=leaf,
            impact=impact,
            urgency=urgency,
            priority=priority,
            channel=rng.choice(["phone", "phone", "email", "portal", "monitoring", "chat"]),
            is_security=leaf.parent.name == "Security",
            assignment_group=group if assigned else None,
            assignee=rng.choice(members) if assigned and state != S.ASSIGNED else None,
            response_due_at=response_due,
            resolution_due_at=resolution_due,
            state=state,
        )
        span = (resolution_due - created) if resolution_due else dt.timedelta(hours=8)
        last_event = created
        if state != S.NEW:
            waited = (response_due - created) * rng.uniform(0.1, 1.12) if response_due else dt.timedelta(0)
            inc.responded_at = min(now, created + waited)
            last_event = inc.responded_at
        if state in (S.RESOLVED, S.CLOSED):
            resolved = created + span * rng.uniform(0.15, 1.1)
            if resolved >= now:
                resolved = now - dt.timedelta(minutes=rng.randrange(5, 120))
            inc.resolved_at = max(resolved, inc.responded_at or created)
            inc.resolution_code = rng.choice(list(RESOLUTION_NOTES))
            inc.resolution_notes = RESOLUTION_NOTES[inc.resolution_code]
            last_event = inc.resolved_at
            if state == S.CLOSED:
                inc.closed_at = min(now, inc.resolved_at + dt.timedelta(days=rng.uniform(0.5, 3)))
                last_event = inc.closed_at
        elif state == S.CANCELLED:
            inc.closed_at = min(now, created + dt.timedelta(hours=rng.uniform(1, 30)))
            last_event = inc.closed_at
        elif state == S.ON_HOLD:
            inc.paused_since = min(now, created + span * rng.uniform(0.1, 0.6))
            last_event = inc.paused_since
        # Breach flags as the application sets them (services.refresh_breaches).
        services.refresh_breaches(inc, now=now)
        incidents.append(inc)
        when_created.append((created, last_event))
        if service is not None and cis_of.get(service.pk):
            cis.extend((i, ci) for ci in rng.sample(cis_of[service.pk], min(len(cis_of[service.pk]), 2)))

    Incident.objects.bulk_create(incidents, batch_size=500)
    # bulk_create stamps created_at/updated_at with now (auto_now_add): put the real times back.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Incident._meta.db_table} AS i SET created_at = v.created, updated_at = v.updated
            FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, created, updated)
            WHERE i.id = v.id AND i.tenant_id = %s
            """,
            [
                [inc.pk for inc in incidents],
                [c for c, _ in when_created],
                [u for _, u in when_created],
                tenant.pk,
            ],
        )
    through = Incident.affected_cis.through
    through.objects.bulk_create(
        [through(incident_id=incidents[i].pk, configurationitem_id=ci) for i, ci in cis], batch_size=1000
    )
    history_model = Incident.history.model
    tracked = [f.attname for f in history_model.tracked_fields]
    rows = []
    for inc, (created, last_event) in zip(incidents, when_created, strict=True):
        data = {name: getattr(inc, name) for name in tracked}
        data.update(created_at=created, updated_at=last_event)
        logged = {
            **data,
            "state": S.NEW,
            "responded_at": None,
            "resolved_at": None,
            "closed_at": None,
            "paused_since": None,
            "resolution_code": "",
            "resolution_notes": "",
            "response_breached": False,
            "resolution_breached": False,
            "updated_at": created,
        }
        rows.append(
            history_model(
                **logged,
                history_date=created,
                history_type="+",
                history_user_id=agent.pk,
                history_change_reason="Logged at the service desk",
            )
        )
        if inc.state != S.NEW:
            rows.append(
                history_model(
                    **data,
                    history_date=last_event,
                    history_type="~",
                    history_user_id=(inc.assignee_id or agent.pk),
                    history_change_reason=f"{inc.get_state_display()} (worked on before the demo started)",
                )
            )
    history_model.objects.bulk_create(rows, batch_size=1000)
