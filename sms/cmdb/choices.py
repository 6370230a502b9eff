"""Statuses and classifications of the CMDB, with their colours (one source of truth)."""

from django.db import models


class CIState(models.TextChoices):
    """Lifecycle of a configuration item (clause 9.1 d: status)."""

    PLANNED = "planned", "Planned"
    IN_BUILD = "in_build", "In build"
    LIVE = "live", "Live"
    MAINTENANCE = "maintenance", "In maintenance"
    RETIRED = "retired", "Retired"
    DISPOSED = "disposed", "Disposed"


CI_STATE_COLOURS = {
    CIState.PLANNED: "blue",
    CIState.IN_BUILD: "teal",
    CIState.LIVE: "green",
    CIState.MAINTENANCE: "amber",
    CIState.RETIRED: "grey",
    CIState.DISPOSED: "grey",
}

# A CI may be registered in one of these states: existing infrastructure is recorded
# as live, not walked through the build.
CI_INITIAL_STATES = (CIState.PLANNED, CIState.IN_BUILD, CIState.LIVE)


class ServiceState(models.TextChoices):
    """Where a service stands in the catalogue (clause 6.1, and 5 for new services)."""

    PIPELINE = "pipeline", "Pipeline"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


SERVICE_STATE_COLOURS = {
    ServiceState.PIPELINE: "blue",
    ServiceState.LIVE: "green",
    ServiceState.RETIRED: "grey",
}


class Criticality(models.TextChoices):
    CRITICAL = "1", "1 - Critical"
    HIGH = "2", "2 - High"
    MEDIUM = "3", "3 - Medium"
    LOW = "4", "4 - Low"


CRITICALITY_COLOURS = {
    Criticality.CRITICAL: "red",
    Criticality.HIGH: "amber",
    Criticality.MEDIUM: "blue",
    Criticality.LOW: "grey",
}


class RelationshipKind(models.TextChoices):
    """Kinds of directed relationship between two CIs, read "source <kind> target"."""

    DEPENDS_ON = "depends_on", "depends on"
    RUNS_ON = "runs_on", "runs on"
    HOSTED_ON = "hosted_on", "is hosted on"
    CONNECTED_TO = "connected_to", "is connected to"
    PART_OF = "part_of", "is part of"
    USES = "uses", "uses"
    LICENSED_BY = "licensed_by", "is licensed by"


RELATIONSHIP_INVERSE_LABELS = {
    RelationshipKind.DEPENDS_ON: "is needed by",
    RelationshipKind.RUNS_ON: "runs",
    RelationshipKind.HOSTED_ON: "hosts",
    RelationshipKind.CONNECTED_TO: "is connected to",
    RelationshipKind.PART_OF: "contains",
    RelationshipKind.USES: "is used by",
    RelationshipKind.LICENSED_BY: "licenses",
}

# For impact analysis every relationship is read as "dependant needs dependency". For
# all kinds but one the source is the dependant (an application that runs on a server
# fails with it); for "part of" it is the other way round: the whole fails with a part.
REVERSED_DEPENDENCY_KINDS = (RelationshipKind.PART_OF,)


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    INTEGER = "integer", "Whole number"
    BOOLEAN = "boolean", "Yes / no"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice from a list"


class MasterCopyPolicy(models.TextChoices):
    """Whether CIs of a type reference a master copy in a secure library (clause 9.1:
    at least documentation, licence information and software, and hardware
    configuration images where available)."""

    NONE = "none", "No master copy"
    OPTIONAL = "optional", "Master copy where available"
    REQUIRED = "required", "Master copy required"


class ImpactDirection(models.TextChoices):
    DOWN = "down", "Downstream: what depends on it"
    UP = "up", "Upstream: what it depends on"
    BOTH = "both", "Both"


class AuditState(models.TextChoices):
    """Lifecycle of a CMDB audit (clause 9.1: the CMDB is audited at planned intervals)."""

    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


AUDIT_STATE_COLOURS = {
    AuditState.PLANNED: "blue",
    AuditState.IN_PROGRESS: "amber",
    AuditState.COMPLETED: "green",
    AuditState.CANCELLED: "grey",
}


class VerificationResult(models.TextChoices):
    """What an auditor found when checking a CI's record against reality."""

    OK = "ok", "Record is accurate"
    DEFICIENT = "deficient", "Record is deficient"


VERIFICATION_COLOURS = {VerificationResult.OK: "green", VerificationResult.DEFICIENT: "red"}
