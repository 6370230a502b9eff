"""Types, classifications and statuses of controlled documents, with their colours."""

from django.db import models


class DocumentType(models.TextChoices):
    POLICY = "policy", "Policy"
    PLAN = "plan", "Plan"
    PROCESS = "process", "Process description"
    PROCEDURE = "procedure", "Procedure"
    WORK_INSTRUCTION = "work_instruction", "Work instruction"
    SLA = "sla", "Service level agreement"
    CONTRACT = "contract", "Contract"
    FORM = "form", "Form or template"
    EXTERNAL = "external", "External document"


class Classification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class DocumentState(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


DOCUMENT_STATE_COLOURS = {
    DocumentState.ACTIVE: "green",
    DocumentState.RETIRED: "grey",
}


class VersionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    ISSUED = "issued", "Issued"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"


VERSION_STATE_COLOURS = {
    VersionState.DRAFT: "blue",
    VersionState.IN_REVIEW: "amber",
    VersionState.APPROVED: "teal",
    VersionState.ISSUED: "green",
    VersionState.SUPERSEDED: "grey",
    VersionState.WITHDRAWN: "red",
}

# Versions that must never be used as the current one (clause 4.3.2 h).
OBSOLETE_STATES = (VersionState.SUPERSEDED, VersionState.WITHDRAWN)


# The processes of an SMS (ISO/IEC 20000-1:2011 clauses 4 to 9), the vocabulary of
# Document.processes; record kinds of the registry add theirs (see ``process_names``).
SMS_PROCESSES = (
    "Service management system",
    "Documentation management",
    "Design and transition of new or changed services",
    "Service level management",
    "Service reporting",
    "Service continuity and availability management",
    "Budgeting and accounting for services",
    "Capacity management",
    "Information security management",
    "Business relationship management",
    "Supplier management",
    "Incident and service request management",
    "Problem management",
    "Configuration management",
    "Change management",
    "Release and deployment management",
    "Improvement",
)


def process_names() -> list[str]:
    from sms.core.registry import kinds

    names = list(SMS_PROCESSES)
    names += sorted({k.process for k in kinds} - set(names))
    return names


def canonical_process(value: str) -> str:
    """The vocabulary's spelling of a process name typed in any case."""
    wanted = value.strip().lower()
    return next((name for name in process_names() if name.lower() == wanted), value.strip())
