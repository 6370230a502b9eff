"""Classifications and statuses of the resolution processes (clause 8), with colours."""

from django.db import models

# --- impact and urgency scales -----------------------------------------------------------------
# A tenant rates impact and urgency on 3 or 5 levels (its matrix is 3x3 or 5x5); level 1 is
# always the most severe. The columns accept 1 to 5; the tenant's scale is checked by
# ``services.computed_priority`` and the labels depend on the scale.
MATRIX_SIZES = (3, 5)
SCALE_LEVELS = (1, 2, 3, 4, 5)


class Impact(models.IntegerChoices):
    """How much of the business the incident affects: 1 (most) to 3 or 5. The meaning of a
    level depends on the tenant's scale (``IMPACT_SCALES``)."""

    LEVEL_1 = 1, "1"
    LEVEL_2 = 2, "2"
    LEVEL_3 = 3, "3"
    LEVEL_4 = 4, "4"
    LEVEL_5 = 5, "5"


class Urgency(models.IntegerChoices):
    """How fast the business needs it resolved: 1 (fastest) to 3 or 5 (``URGENCY_SCALES``)."""

    LEVEL_1 = 1, "1"
    LEVEL_2 = 2, "2"
    LEVEL_3 = 3, "3"
    LEVEL_4 = 4, "4"
    LEVEL_5 = 5, "5"


IMPACT_SCALES = {
    3: {
        1: "High: many users, a whole service or a critical business function",
        2: "Medium: a group of users or part of a service",
        3: "Low: one user, a workaround exists",
    },
    5: {
        1: "Extensive: most users, or a critical business function stopped",
        2: "Significant: a whole service or a department",
        3: "Moderate: a group of users or part of a service",
        4: "Minor: a few users, or a workaround exists",
        5: "Minimal: one user, hardly any effect on their work",
    },
}
URGENCY_SCALES = {
    3: {
        1: "High: work has stopped or damage grows quickly",
        2: "Medium: work is slowed down",
        3: "Low: can wait",
    },
    5: {
        1: "Critical: damage grows by the minute",
        2: "High: work has stopped",
        3: "Medium: work is slowed down",
        4: "Low: a nuisance that can wait a day or two",
        5: "Planned: can wait for an agreed date",
    },
}
SCALE_SHORT = {
    3: {1: "High", 2: "Medium", 3: "Low"},
    5: {1: "Very high", 2: "High", 3: "Medium", 4: "Low", 5: "Very low"},
}


def scale_choices(kind: str, size: int) -> list[tuple[int, str]]:
    """The ``(level, label)`` choices of impact or urgency on a 3- or 5-level scale."""
    labels = (IMPACT_SCALES if kind == "impact" else URGENCY_SCALES)[size]
    return [(n, f"{n} - {text}") for n, text in labels.items()]


def scale_label(kind: str, value: int | None, size: int) -> str:
    """The label of a level; a level off the scale (kept from a former one) says so."""
    if value is None:
        return ""
    labels = (IMPACT_SCALES if kind == "impact" else URGENCY_SCALES)[size]
    text = labels.get(int(value))
    return f"{value} - {text}" if text else f"{value} (not on the current {size}-level scale)"


def short_label(value: int, size: int) -> str:
    return SCALE_SHORT[size].get(int(value), str(value))


# Levels 1 (most urgent) to 5; the default matrix and targets (service-time minutes).
PRIORITY_LEVELS = (1, 2, 3, 4, 5)
DEFAULT_LEVELS = {
    1: ("Critical", 15, 4 * 60),
    2: ("High", 30, 8 * 60),
    3: ("Medium", 2 * 60, 3 * 8 * 60),
    4: ("Low", 4 * 60, 5 * 8 * 60),
    5: ("Planning", 8 * 60, 10 * 8 * 60),
}
# (impact, urgency) -> level
DEFAULT_MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 5,
}
# The 5x5 default: the sum of impact and urgency sets the level (2-3: P1 ... 10: P5), so a
# step on either scale weighs the same.
DEFAULT_MATRIX_5 = {(i, u): min(5, (i + u) // 2) for i in range(1, 6) for u in range(1, 6)}


def default_matrix(size: int) -> dict[tuple[int, int], int]:
    return DEFAULT_MATRIX_5 if size == 5 else DEFAULT_MATRIX


PRIORITY_COLOURS = {1: "red", 2: "amber", 3: "blue", 4: "teal", 5: "grey"}


class IncidentState(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


INCIDENT_STATE_COLOURS = {
    IncidentState.NEW: "blue",
    IncidentState.ASSIGNED: "teal",
    IncidentState.IN_PROGRESS: "amber",
    IncidentState.ON_HOLD: "purple",
    IncidentState.RESOLVED: "green",
    IncidentState.CLOSED: "grey",
    IncidentState.CANCELLED: "grey",
}
# The clock runs in these; on hold pauses it; resolved, closed and cancelled stop it.
RUNNING_STATES = (IncidentState.NEW, IncidentState.ASSIGNED, IncidentState.IN_PROGRESS)
OPEN_STATES = (*RUNNING_STATES, IncidentState.ON_HOLD)


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    PORTAL = "portal", "Self-service portal"
    CHAT = "chat", "Chat"
    WALK_IN = "walk_in", "In person"
    MONITORING = "monitoring", "Monitoring tool"


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", "Fixed"
    WORKAROUND = "workaround", "Workaround applied"
    KNOWN_ERROR = "known_error", "Known error workaround"
    CHANGE = "change", "Resolved by a change"
    SUPPLIER = "supplier", "Resolved by the supplier"
    USER_ERROR = "user_error", "Advice given (no fault)"
    NOT_REPRODUCIBLE = "not_reproducible", "Could not be reproduced"
    DUPLICATE = "duplicate", "Duplicate of another incident"


# --- service requests (8.1) --------------------------------------------------------------------
class RequestState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_FULFILMENT = "in_fulfilment", "In fulfilment"
    FULFILLED = "fulfilled", "Fulfilled"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


REQUEST_STATE_COLOURS = {
    RequestState.SUBMITTED: "blue",
    RequestState.AWAITING_APPROVAL: "purple",
    RequestState.APPROVED: "teal",
    RequestState.REJECTED: "red",
    RequestState.IN_FULFILMENT: "amber",
    RequestState.FULFILLED: "green",
    RequestState.CLOSED: "grey",
    RequestState.CANCELLED: "grey",
}
# The fulfilment clock runs in these; waiting for approval pauses it; the rest stop it.
REQUEST_RUNNING_STATES = (RequestState.SUBMITTED, RequestState.APPROVED, RequestState.IN_FULFILMENT)
REQUEST_OPEN_STATES = (*REQUEST_RUNNING_STATES, RequestState.AWAITING_APPROVAL)
REQUEST_FINISHED_STATES = (
    RequestState.REJECTED,
    RequestState.FULFILLED,
    RequestState.CLOSED,
    RequestState.CANCELLED,
)


class ApprovalMode(models.TextChoices):
    NONE = "none", "No approval needed"
    ROLE = "role", "Anyone holding a role"
    NAMED = "named", "Named approvers"


class FieldType(models.TextChoices):
    """Types of the questions a catalogue item asks."""

    TEXT = "text", "Short text"
    TEXTAREA = "textarea", "Long text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes/no"
    CHOICE = "choice", "One of a list"
    EMAIL = "email", "E-mail address"


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    NOT_NEEDED = "not_needed", "Not needed"


TASK_STATE_COLOURS = {TaskState.OPEN: "amber", TaskState.DONE: "green", TaskState.NOT_NEEDED: "grey"}


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
