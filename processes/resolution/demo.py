"""Demo data of incident management: the default matrix, a 24x7 and a business-hours
calendar, a classification tree, and about twenty incidents in every state, linked to
the demo services, CIs, customers' contacts and internal groups. Idempotent: a tenant
that already has incidents is left as it is."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sms.core.workflow import run_transition
from sms.tenancy.roles import Role

from . import services
from .models import Category, Incident, ServiceCalendar, ServiceHours

CATEGORIES = {
    "Hardware": ["Laptop", "Printer", "Server"],
    "Software": ["E-mail", "Payroll application", "Web shop"],
    "Network": ["Wi-Fi", "VPN", "Internet access"],
    "Access": ["Password reset", "Permissions"],
    "Security": ["Phishing", "Malware"],
}
UK_HOLIDAYS = [
    ("2026-01-01", "New Year's Day"),
    ("2026-04-03", "Good Friday"),
    ("2026-04-06", "Easter Monday"),
    ("2026-05-04", "Early May bank holiday"),
    ("2026-05-25", "Spring bank holiday"),
    ("2026-08-31", "Summer bank holiday"),
    ("2026-12-25", "Christmas Day"),
    ("2026-12-28", "Boxing Day"),
]

# title, service title fragment, category path, impact, urgency, channel, path of transitions, days ago, security
INCIDENTS = (
    ("Web shop checkout returns an error", "Web shop", "Software / Web shop", 1, 1, "monitoring", [], 0, False),
    ("Mail from outside arrives late", "E-mail", "Software / E-mail", 2, 2, "phone", ["assign"], 0, False),
    (
        "Payroll report totals are wrong",
        "Payroll",
        "Software / Payroll application",
        2,
        1,
        "email",
        ["assign", "start"],
        1,
        False,
    ),
    ("VPN drops every few minutes", "", "Network / VPN", 2, 2, "portal", ["start"], 1, False),
    ("Laptop does not start", "", "Hardware / Laptop", 3, 2, "walk_in", ["start", "hold"], 2, False),
    ("Printer on floor 3 jams", "", "Hardware / Printer", 3, 3, "portal", [], 2, False),
    (
        "Suspicious e-mail with invoice attachment",
        "E-mail",
        "Security / Phishing",
        2,
        1,
        "email",
        ["assign", "start", "resolve"],
        3,
        True,
    ),
    (
        "Password expired for finance clerk",
        "",
        "Access / Password reset",
        3,
        2,
        "phone",
        ["start", "resolve", "close"],
        6,
        False,
    ),
    (
        "Web shop slow at peak time",
        "Web shop",
        "Software / Web shop",
        2,
        2,
        "monitoring",
        ["assign", "start", "hold"],
        3,
        False,
    ),
    ("Guest Wi-Fi not reachable", "", "Network / Wi-Fi", 3, 3, "chat", ["assign"], 4, False),
    (
        "Payroll export to bank rejected",
        "Payroll",
        "Software / Payroll application",
        1,
        1,
        "phone",
        ["assign", "start", "resolve", "close"],
        12,
        False,
    ),
    (
        "Shared mailbox missing for sales",
        "E-mail",
        "Access / Permissions",
        3,
        2,
        "portal",
        ["start", "resolve"],
        1,
        False,
    ),
    (
        "Malware alert on reception PC",
        "",
        "Security / Malware",
        1,
        2,
        "monitoring",
        ["assign", "start", "resolve", "close"],
        20,
        True,
    ),
    ("Duplicate ticket for checkout error", "Web shop", "Software / Web shop", 1, 1, "email", ["cancel"], 0, False),
    (
        "Internet access down in branch office",
        "",
        "Network / Internet access",
        1,
        2,
        "phone",
        ["assign", "start"],
        0,
        False,
    ),
    ("Database server disk nearly full", "", "Hardware / Server", 2, 2, "monitoring", ["assign"], 5, False),
    ("Out-of-office replies not sent", "E-mail", "Software / E-mail", 3, 3, "email", [], 8, False),
    (
        "Web shop images missing",
        "Web shop",
        "Software / Web shop",
        3,
        2,
        "portal",
        ["start", "resolve", "reopen"],
        2,
        False,
    ),
    (
        "Payslips show last month's date",
        "Payroll",
        "Software / Payroll application",
        2,
        3,
        "email",
        ["start", "hold", "resume"],
        4,
        False,
    ),
    ("New starter cannot log in", "", "Access / Permissions", 3, 1, "phone", ["assign", "start", "resolve"], 0, False),
)
REASONS = {
    "hold": "Waiting for the customer to confirm a time for a remote session.",
    "cancel": "Logged twice; the first record is being worked on.",
    "reopen": "The customer reports the problem is back.",
}


@transaction.atomic
def seed_demo(tenant, people) -> None:
    from sms.cmdb.models import ConfigurationItem, Service
    from sms.parties.models import Contact, Party

    settings_row = services.ensure_defaults()
    always, _ = ServiceCalendar.objects.get_or_create(
        name="24x7",
        defaults={
            "time_zone": tenant.time_zone,
            "is_24x7": True,
            "description": "Round-the-clock support for customer-facing services.",
        },
    )
    office, _ = ServiceCalendar.objects.get_or_create(
        name="Business hours",
        defaults={
            "time_zone": tenant.time_zone,
            "description": "Service desk opening hours on working days.",
            "working_hours": [{"day": d, "start": "08:00", "end": "18:00"} for d in range(5)],
            "holidays": [{"date": d, "name": n} for d, n in UK_HOLIDAYS],
        },
    )
    if settings_row.default_calendar_id is None:
        settings_row.default_calendar = office
        settings_row.save(reason="Demo set-up")
    svc = {s.title: s for s in Service.objects.all()}
    for title, service in svc.items():
        if not ServiceHours.objects.filter(service=service).exists():
            calendar = always if "shop" in title.lower() else office
            ServiceHours(service=service, calendar=calendar).save(reason="Demo set-up")
    paths: dict[str, Category] = {}
    for top, children in CATEGORIES.items():
        parent, _ = Category.objects.get_or_create(name=top, parent=None)
        paths[top] = parent
        for child in children:
            paths[f"{top} / {child}"], _ = Category.objects.get_or_create(name=child, parent=parent)
    if Incident.objects.exists():
        return

    agent, owner = people[Role.AGENT], people[Role.PROCESS_OWNER]
    contacts = list(Contact.objects.filter(party__party_type="customer").select_related("party").order_by("pk"))
    groups = list(Party.objects.filter(party_type="internal_group").order_by("pk"))
    now = timezone.now()
    for n, (title, service_part, category, impact, urgency, channel, steps, days_ago, security) in enumerate(INCIDENTS):
        service = next((s for t, s in svc.items() if service_part and service_part.lower() in t.lower()), None)
        caller = contacts[n % len(contacts)] if contacts else None
        incident = Incident(
            title=title,
            description=f"Reported by {caller.name if caller else 'a user'} via {channel.replace('_', ' ')}.",
            service=service,
            category=paths.get(category),
            impact=impact,
            urgency=urgency,
            channel=channel,
            is_security=security,
            caller=caller,
            customer=caller.party if caller else None,
            assignment_group=groups[n % len(groups)] if groups and "assign" in steps else None,
            assignee=agent if steps and steps != ["cancel"] else None,
            owner=agent,
        )
        services.apply_priority(incident)
        incident._history_user = agent
        incident.save(reason="Logged at the service desk")
        # Backdate the logging so that the demo has old, late and fresh incidents.
        Incident.objects.filter(pk=incident.pk).update(created_at=now - dt.timedelta(days=days_ago, hours=n % 5))
        incident.refresh_from_db()
        services.schedule(incident)
        incident.save(
            update_fields=["response_due_at", "resolution_due_at", "response_breached", "resolution_breached"],
            reason="Targets computed",
        )
        if service is not None:
            incident.affected_cis.set(ConfigurationItem.objects.filter(services=service).order_by("pk")[:2])
        for step in steps:
            if step == "resolve":
                incident.resolution_code = "workaround" if security else "fixed"
                incident.resolution_notes = "Service restored and the caller confirmed it works."
                incident._history_user = agent
                incident.save(reason="Resolution recorded")
            who = owner if step == "close" else agent
            incident = run_transition(incident, step, by=who, reason=REASONS.get(step, ""))
