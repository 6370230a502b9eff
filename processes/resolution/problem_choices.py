"""Statuses of problem management and the known error database (clause 8.2), with colours."""

from django.db import models


class ProblemState(models.TextChoices):
    NEW = "new", "New"
    UNDER_INVESTIGATION = "under_investigation", "Under investigation"
    KNOWN_ERROR = "known_error", "Known error"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


PROBLEM_STATE_COLOURS = {
    ProblemState.NEW: "blue",
    ProblemState.UNDER_INVESTIGATION: "amber",
    ProblemState.KNOWN_ERROR: "purple",
    ProblemState.RESOLVED: "green",
    ProblemState.CLOSED: "grey",
    ProblemState.CANCELLED: "grey",
}
# A problem in these is still being worked on; the trend check attaches new repeats to it.
OPEN_PROBLEM_STATES = (ProblemState.NEW, ProblemState.UNDER_INVESTIGATION, ProblemState.KNOWN_ERROR)
FINISHED_PROBLEM_STATES = (ProblemState.CLOSED, ProblemState.CANCELLED)


class ProblemOrigin(models.TextChoices):
    MANUAL = "manual", "Raised by a person"
    TREND = "trend", "Proposed by the trend check"
    MAJOR_INCIDENT = "major_incident", "Raised from a major incident"
    SUPPLIER = "supplier", "Reported by a supplier"


class RootCauseRemoved(models.TextChoices):
    YES = "yes", "Yes: the cause is gone"
    PARTLY = "partly", "Partly: the impact is reduced"
    NO = "no", "No: the cause is still there"


class KnownErrorState(models.TextChoices):
    OPEN = "open", "Open"
    RETIRED = "retired", "Retired"


KNOWN_ERROR_STATE_COLOURS = {KnownErrorState.OPEN: "purple", KnownErrorState.RETIRED: "grey"}
