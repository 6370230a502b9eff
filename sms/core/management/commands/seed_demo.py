"""Demo data: two tenants, a user per role in each, and realistic records.

Idempotent: users and memberships are ensured on every run; records are created once
per tenant (a tenant that already has improvements is left as it is). Later apps add
their own demo data through ``sms.core.demo.register``.
"""

from __future__ import annotations

import datetime as dt
import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from sms.core import demo, outbox
from sms.core.models import IntervalUnit, PlannedActivity, Visibility
from sms.core.services import add_journal_entry
from sms.core.workflow import run_transition
from sms.tenancy import context
from sms.tenancy.roles import Role
from sms.tenancy.services import add_member, create_tenant

TENANTS = (
    ("northwind", "Northwind IT Services", "Europe/London"),
    ("contoso", "Contoso Managed Services", "Europe/Berlin"),
)
NAMES = {
    Role.AGENT: ("Sam", "Desk"),
    Role.PROCESS_OWNER: ("Priya", "Owner"),
    Role.CHANGE_APPROVER: ("Carl", "Approver"),
    Role.TOP_MANAGEMENT: ("Tess", "Director"),
    Role.AUDITOR: ("Alex", "Auditor"),
    Role.ADMIN: ("Ada", "Admin"),
}


def demo_password() -> str:
    return os.environ.get("SMS_DEMO_PASSWORD", "sms-demo-2026")


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenants northwind and contoso with users and records."

    def handle(self, *args, **options):
        User = get_user_model()
        password = demo_password()
        logins: list[tuple[str, str, str]] = []
        # Notices the demo's events would send are kept as held: none goes out at start-up.
        with transaction.atomic(), outbox.held():
            for slug, name, tz in TENANTS:
                tenant = create_tenant(slug, name, tz)
                people = {}
                for role in Role:
                    username = f"{slug}-{role.value}"
                    first, last = NAMES[role]
                    user, created = User.objects.get_or_create(
                        username=username,
                        defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
                    )
                    if created or not user.check_password(password):
                        user.set_password(password)
                        user.save()
                    add_member(tenant, user, [role.value])
                    people[role.value] = user
                    logins.append((username, slug, role.label))
                # Consultant with a different role in each tenant: shows the tenant switcher.
                consultant, created = User.objects.get_or_create(
                    username="consultant",
                    defaults={"first_name": "Casey", "last_name": "Consultant", "email": "consultant@example.com"},
                )
                if created or not consultant.check_password(password):
                    consultant.set_password(password)
                    consultant.save()
                add_member(tenant, consultant, [Role.PROCESS_OWNER if slug == "northwind" else Role.AUDITOR])
                with context.tenant_context(tenant, people[Role.ADMIN]):
                    seed_kernel(tenant, people)
                    for seeder in demo.seeders():
                        seeder(tenant, people)
        logins.append(("consultant", "northwind, contoso", "process owner / auditor"))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password for all: {password}):")
        for username, tenant, role in logins:
            self.stdout.write(f"  {username:28} {tenant:20} {role}")


def seed_kernel(tenant, people) -> None:
    """Planned activities and improvements of the management system."""
    from governance.models import Improvement

    if Improvement.objects.exists():
        return
    today = timezone.localdate()
    owner, top, agent, auditor = (people[Role.PROCESS_OWNER], people[Role.TOP_MANAGEMENT],
                                  people[Role.AGENT], people[Role.AUDITOR])
    for kind, title, due, count, unit, who in (
        ("management_review", "Half-yearly management review", today + dt.timedelta(days=12), 6,
         IntervalUnit.MONTHS, top),
        ("internal_audit", "Internal audit of the SMS", today - dt.timedelta(days=9), 12, IntervalUnit.MONTHS,
         auditor),
        ("objectives_review", "Review of service management objectives", today + dt.timedelta(days=75), 12,
         IntervalUnit.MONTHS, owner),
        ("risk_assessment", "Annual service risk assessment", today + dt.timedelta(days=140), 1,
         IntervalUnit.YEARS, owner),
    ):
        PlannedActivity.objects.create(
            kind=kind, title=title, next_due=due, interval_count=count, interval_unit=unit, owner=who,
            description=f"Planned {kind.replace('_', ' ')} for {tenant.name}.",
        )

    def improvement(title, by, **fields):
        with context.tenant_context(tenant, by):
            return Improvement.objects.create(title=title, owner=fields.pop("owner", by), **fields)

    improvement(
        "Publish a self-service password reset article", agent, source="incident_trend", priority="3",
        description="Password resets are 18% of incidents; most could be solved by the caller.",
    )
    imp = improvement(
        "Automate monthly availability reporting", owner, source="service_report", priority="2",
        dimension="productivity", due_date=today + dt.timedelta(days=45),
        target="Report produced in under 1 hour instead of 2 days (baseline: 2 days of manual work).",
        description="Service reports are compiled by hand from three tools.",
    )
    with context.tenant_context(tenant, top):
        run_transition(imp, "approve", by=top, reason="Clear benefit; fits the reporting objective.")
        add_journal_entry(imp, by=top, body="Approved at the monthly service review.", visibility=Visibility.PUBLIC)
    with context.tenant_context(tenant, owner):
        imp.refresh_from_db()
        run_transition(imp, "start", by=owner)
    closed = improvement(
        "Corrective action: change records missing back-out plans", auditor, improvement_type="corrective",
        source="audit", priority="1", dimension="risk_reduction", owner=owner,
        due_date=today - dt.timedelta(days=20),
        target="No normal change approved without a tested back-out plan (baseline: 4 of 30 sampled).",
    )
    with context.tenant_context(tenant, top):
        run_transition(closed, "approve", by=top, reason="Audit finding; must be corrected.")
    with context.tenant_context(tenant, owner):
        for name in ("start", "implement"):
            closed.refresh_from_db()
            run_transition(closed, name, by=owner)
        closed.refresh_from_db()
        closed.result = "Re-sample of 30 changes: 30 of 30 had a tested back-out plan."
        closed.save(reason="Result measured")
        run_transition(closed, "close", by=owner, reason="Target met.")
