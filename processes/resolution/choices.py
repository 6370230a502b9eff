"""Classifications and statuses of the resolution processes (clause 8), with colours."""

from django.db import models


class Impact(models.IntegerChoices):
    """How much of the business the incident affects."""

    HIGH = 1, "1 - High: many users, a whole service or a critical business function"
    MEDIUM = 2, "2 - Medium: a group of users or part of a service"
    LOW = 3, "3 - Low: one user, a workaround exists"


class Urgency(models.IntegerChoices):
    """How fast the business needs it resolved."""

    HIGH = 1, "1 - High: work has stopped or damage grows quickly"
    MEDIUM = 2, "2 - Medium: work is slowed down"
    LOW = 3, "3 - Low: can wait"


IMPACT_SHORT = {1: "High", 2: "Medium", 3: "Low"}

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
