"""Demo data of problem management: problems in several states linked to the demo
incidents (one worked around as a known error, one resolved through a request for
change, reviewed and closed, one under investigation, one new) and a few more known
errors in the database. Idempotent: a tenant that already has problems is left alone."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Q

from sms.core.workflow import run_transition
from sms.tenancy.roles import Role

from . import services_problems as sp
from .models import Category, Incident, KnownError, Problem

# title, incident title fragments, category path, impact, urgency, description, root cause, workaround
PROBLEMS = (
    (
        "Web shop checkout fails at peak load",
        ("Web shop checkout", "Web shop slow", "Duplicate ticket for checkout"),
        "Software / Web shop",
        1,
        1,
        "Checkout returns errors or times out when many customers pay at once.",
        "The payment service's connection pool is too small for peak traffic; requests queue and time out.",
        "Restart the payment connector from the operations console; it clears the queue for about an hour.",
    ),
    (
        "Payroll export rejected by the bank",
        ("Payroll export", "Payroll report", "Payslips"),
        "Software / Payroll application",
        2,
        1,
        "The monthly payroll file is refused by the bank's gateway.",
        "The bank changed its file format; the export template still writes the old header.",
        "Edit the header line of the export by hand before uploading it.",
    ),
    (
        "VPN sessions drop every few minutes",
        ("VPN drops",),
        "Network / VPN",
        2,
        2,
        "Remote users lose the VPN tunnel several times an hour.",
        "",
        "",
    ),
    (
        "Laptops of one model fail to start after the firmware update",
        ("Laptop does not start",),
        "Hardware / Laptop",
        3,
        2,
        "Several laptops show a black screen after the last firmware update.",
        "",
        "",
    ),
)
# title, category path, symptoms, root cause, workaround
KNOWN_ERRORS = (
    (
        "Out-of-office replies not sent for shared mailboxes",
        "Software / E-mail",
        "Automatic replies are configured but senders receive nothing.",
        "Shared mailboxes do not run the automatic-reply rule unless a licence is assigned.",
        "Set up a transport rule that answers for the shared mailbox.",
    ),
    (
        "Printer on floor 3 jams with recycled paper",
        "Hardware / Printer",
        "Paper jams in tray 2, message 'J-13'.",
        "Tray 2 rollers do not grip the lighter recycled paper.",
        "Load recycled paper in tray 1 only.",
    ),
    (
        "Guest Wi-Fi portal does not load on some phones",
        "Network / Wi-Fi",
        "Phones connect to the guest network but the sign-in page never opens.",
        "The captive portal certificate is not trusted by older phones.",
        "Open http://neverssl.com in the browser to trigger the sign-in page.",
    ),
)


@transaction.atomic
def seed_demo(tenant, people) -> None:
    if Problem.objects.exists():
        return
    owner, agent = people[Role.PROCESS_OWNER], people[Role.AGENT]
    categories = {c.path: c for c in Category.objects.select_related("parent__parent")}
    made = []
    for title, fragments, category_path, impact, urgency, description, cause, workaround in PROBLEMS:
        category = categories.get(category_path)
        # The incidents of the story, else the latest of the same category.
        wanted = Q(title__iregex="|".join(re.escape(f) for f in fragments))
        if category is not None:
            wanted |= Q(category=category)
        incidents = list(Incident.objects.filter(wanted).select_related("service").order_by("-created_at")[:8])
        problem = Problem(
            title=title,
            description=description,
            category=category,
            impact=impact,
            urgency=urgency,
            root_cause=cause,
            workaround=workaround,
            owner=owner,
            assignee=agent,
        )
        sp.apply_problem_priority(problem)
        problem._history_user = owner
        problem.save(reason="Raised from repeating incidents")
        problem.incidents.set(incidents)
        problem.services.set({i.service for i in incidents if i.service_id})
        made.append(problem)
    shop, payroll, vpn, _laptops = made

    run_transition(shop, "investigate", by=agent)
    shop = run_transition(shop, "record_known_error", by=agent)
    for incident in shop.incidents.all():
        ke = sp.known_error_from_problem(shop, by=agent)
        sp.link_known_error(incident, ke, by=agent)

    run_transition(payroll, "investigate", by=agent)
    payroll = run_transition(payroll, "record_known_error", by=agent)
    payroll.needs_change = True
    payroll.rfc_reference = "CHG-1"
    payroll.resolution_notes = "The export template was updated to the bank's new format through CHG-1."
    payroll._history_user = owner
    payroll.save(reason="Request for change raised")
    payroll = run_transition(payroll, "resolve", by=owner)
    sp.add_review(
        payroll,
        by=owner,
        participants="Process owner, payroll application team",
        lessons_learned="Bank format changes are announced months ahead; nobody watched the bank's notices.",
        root_cause_removed="yes",
        actions="Subscribe the application team to the bank's technical notices.",
    )
    run_transition(payroll, "close", by=owner)

    run_transition(vpn, "investigate", by=agent)

    for title, category_path, symptoms, cause, workaround in KNOWN_ERRORS:
        ke = KnownError(
            title=title,
            description="Recorded by the service desk from repeated calls.",
            symptoms=symptoms,
            root_cause=cause,
            workaround=workaround,
            category=categories.get(category_path),
            owner=owner,
        )
        ke._history_user = agent
        ke.save(reason="Recorded in the known error database")
