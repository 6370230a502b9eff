"""Demo parties: customers, suppliers, internal groups and interested parties."""

from __future__ import annotations

from django.db import transaction

from sms.tenancy.roles import Role

from .choices import PartyType
from .models import Contact, Party

T = PartyType

PARTIES = (
    (
        T.CUSTOMER,
        "Harbour Retail Group",
        "Chain of 140 shops; buys the web shop, payroll and e-mail services.",
        Role.PROCESS_OWNER,
        [("Mia Hartley", "Head of IT", True), ("Omar Reyes", "Finance controller", False)],
    ),
    (
        T.CUSTOMER,
        "Lakeside Health Trust",
        "Regional healthcare provider; e-mail and payroll services.",
        Role.PROCESS_OWNER,
        [("Dr. Ines Novak", "Chief information officer", True)],
    ),
    (
        T.CUSTOMER,
        "Internal business units",
        "Own staff as users of the provider's internal services.",
        Role.TOP_MANAGEMENT,
        [("Jon Baker", "Operations director", True)],
    ),
    (
        T.SUPPLIER,
        "CloudHost Ltd",
        "Infrastructure as a service: data centre, virtual machines, storage.",
        Role.PROCESS_OWNER,
        [("Leah Kim", "Account manager", True), ("NOC 24x7", "Network operations centre", False)],
    ),
    (
        T.SUPPLIER,
        "NetLink Carrier",
        "WAN and internet connectivity for both data centres.",
        Role.PROCESS_OWNER,
        [("Paul Grant", "Service delivery manager", True)],
    ),
    (
        T.SUPPLIER,
        "PayCalc Software",
        "Vendor of the payroll application; third-line support.",
        Role.PROCESS_OWNER,
        [("Sara Lindqvist", "Support lead", True)],
    ),
    (
        T.INTERNAL_GROUP,
        "Network team",
        "Runs the LAN, WAN edge, firewalls and load balancers.",
        None,
        [("Ravi Patel", "Team lead", True)],
    ),
    (
        T.INTERNAL_GROUP,
        "Database administration",
        "Runs the database servers and backups.",
        None,
        [("Eva Schmidt", "Lead DBA", True)],
    ),
    (
        T.INTERESTED_PARTY,
        "Data protection authority",
        "Regulator to be informed of personal data breaches.",
        None,
        [("Breach notification desk", "", True)],
    ),
)


@transaction.atomic
def seed_parties(tenant, people) -> None:
    if Party.objects.exists():
        return
    for party_type, name, description, manager_role, contacts in PARTIES:
        party = Party.objects.create(
            name=name,
            party_type=party_type,
            description=description,
            relationship_manager=people[manager_role] if manager_role else None,
            email=f"contact@{name.split()[0].lower()}.example",
        )
        for contact_name, title, primary in contacts:
            Contact.objects.create(
                party=party,
                name=contact_name,
                job_title=title,
                is_primary=primary,
                email=f"{contact_name.split()[-1].lower()}@{name.split()[0].lower()}.example",
            )
