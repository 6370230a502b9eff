"""Demo documents per tenant: the service management policy, the change management policy,
the incident procedure, an SLA and a supplier contract; several versions on some, one
review overdue. Idempotent: a tenant that already has documents is left as it is."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sms.core.workflow import run_transition
from sms.tenancy import context
from sms.tenancy.roles import Role

from . import services
from .models import ApprovalRule, DistributionEntry, Document

SM_POLICY_V1 = """# Service management policy

## Purpose
We run our IT services under a documented service management system so that customers
get the service they agreed to, and we can show that we do.

## Commitments
- Every service has an agreed service level and is reported on monthly.
- Changes to live services are assessed and approved before they are made.
- Incidents are restored first and investigated after.

## Responsibilities
Top management owns this policy and reviews it every year.
"""

SM_POLICY_V2 = SM_POLICY_V1 + """
## Continual improvement
Opportunities for improvement are recorded, prioritised and tracked to a measured result.
"""

CHANGE_POLICY = """# Change management policy

| Change type | Who approves | Lead time |
|---|---|---|
| Standard | Pre-approved model | none |
| Normal | Change advisory board | 5 working days |
| Emergency | Emergency CAB (2 members) | as needed |

Every change has a back-out plan that has been tested, or a written reason why none is possible.
"""

INCIDENT_PROCEDURE = """# Incident procedure

1. Log the incident with the caller's details and the affected service.
2. Classify it and set the priority from the impact and urgency matrix.
3. Restore the service; use known errors and workarounds first.
4. Escalate to second line when the target time is half used.
5. Confirm with the caller before closing.
"""

SLA_TEXT = """# Service level agreement: web shop hosting

- Service hours: 24 x 7
- Availability target: 99.8 % per calendar month
- Priority 1 incidents: response 15 minutes, restoration 4 hours
- Reporting: monthly service report, quarterly service review
"""


def _version(document, author, approver, content, summary, reason, *, issue=True):
    with context.tenant_context(document.tenant, author):
        version = services.create_version(document, by=author, change_summary=summary, reason=reason,
                                          content=content)
        run_transition(version, "submit", by=author)
    with context.tenant_context(document.tenant, approver):
        version = run_transition(version, "approve", by=approver, reason="Reviewed; fit for use.")
        if issue:
            version = run_transition(version, "issue", by=approver)
    return version


def seed_documents(tenant, people) -> None:
    if not Document.objects.exists():
        _seed_documents(tenant, people)
    # From now on the service management policy is approved by top management (4.1.1).
    ApprovalRule.objects.get_or_create(document_type="policy", defaults={"roles": [Role.TOP_MANAGEMENT]})


def _seed_documents(tenant, people) -> None:
    owner, top, admin = people[Role.PROCESS_OWNER], people[Role.TOP_MANAGEMENT], people[Role.ADMIN]
    today = timezone.localdate()
    with transaction.atomic():
        def document(title, doc_type, who, **fields):
            with context.tenant_context(tenant, admin):
                return Document.objects.create(title=title, document_type=doc_type, owner=who, **fields)

        policy = document(
            "Service management policy", "policy", top, classification="public",
            processes=["Service management system"], clauses=["4.1.1"], review_interval_months=12,
            description="Top management's commitment to the SMS and to the services.",
        )
        for role in (Role.AGENT, Role.PROCESS_OWNER, Role.CHANGE_APPROVER):
            DistributionEntry.objects.create(document=policy, role=role)
        _version(policy, admin, owner, SM_POLICY_V1, "First issue.", "Required by clause 4.1.1.")
        _version(policy, admin, owner, SM_POLICY_V2, "Added the improvement commitment.",
                 "Management review asked for it.")

        change = document(
            "Change management policy", "policy", owner, processes=["Change management"], clauses=["9.2"],
            review_interval_months=12,
        )
        DistributionEntry.objects.create(document=change, role=Role.CHANGE_APPROVER)
        _version(change, admin, owner, CHANGE_POLICY.replace("5 working days", "10 working days"),
                 "First issue.", "Clause 9.2 needs a change management policy.")
        _version(change, admin, owner, CHANGE_POLICY, "Normal change lead time cut to 5 days.",
                 "CAB meets twice a week now.")
        _version(change, admin, owner, CHANGE_POLICY + "\nEmergency changes are reviewed at the next CAB.\n",
                 "Review of emergency changes.", "Audit finding.", issue=False)

        incident = document(
            "Incident procedure", "procedure", owner, processes=["Incident and service request management"],
            clauses=["8.1"], review_interval_months=6,
        )
        DistributionEntry.objects.create(document=incident, role=Role.AGENT)
        _version(incident, admin, owner, INCIDENT_PROCEDURE, "First issue.", "Written procedure for 8.1.")
        # This one's review is overdue (shown highlighted on the register).
        with context.tenant_context(tenant, admin):
            incident.refresh_from_db()
            incident.next_review_date = today - dt.timedelta(days=21)
            incident.save(reason="Demo: review overdue")

        sla = document(
            "SLA: web shop hosting for Harbour Retail Group", "sla", owner, classification="confidential",
            processes=["Service level management"], clauses=["6.1"], review_interval_months=12,
        )
        _version(sla, admin, owner, SLA_TEXT, "Agreed with the customer.", "New customer contract.")

        contract = document(
            "Supplier contract: CloudHost Ltd infrastructure", "contract", owner, classification="confidential",
            processes=["Supplier management"], clauses=["7.2"], review_interval_months=12,
            origin="CloudHost Ltd", external_reference="CH-MSA-2024-117", version_received="2.1",
            received_on=today - dt.timedelta(days=200), copy_holders="Supplier manager and finance only.",
        )
        _version(contract, admin, owner,
                 "Summary of the master services agreement with CloudHost Ltd: data centre hosting, "
                 "99.9 % availability, service credits from 5 %, 90 days' notice.",
                 "Contract signed.", "New supplier.")
