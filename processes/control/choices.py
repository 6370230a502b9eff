"""Classifications and statuses of change management (clause 9.2), with their colours."""

from django.db import models


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ASSESSMENT = "assessment", "In assessment"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SCHEDULED = "scheduled", "Scheduled"
    IMPLEMENTING = "implementing", "Implementing"
    IMPLEMENTED = "implemented", "Implemented"
    FAILED = "failed", "Failed"
    BACKED_OUT = "backed_out", "Backed out"
    UNDER_REVIEW = "under_review", "Under review"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


CHANGE_STATE_COLOURS = {
    ChangeState.DRAFT: "grey",
    ChangeState.SUBMITTED: "blue",
    ChangeState.ASSESSMENT: "blue",
    ChangeState.AWAITING_APPROVAL: "amber",
    ChangeState.APPROVED: "teal",
    ChangeState.REJECTED: "red",
    ChangeState.SCHEDULED: "teal",
    ChangeState.IMPLEMENTING: "amber",
    ChangeState.IMPLEMENTED: "green",
    ChangeState.FAILED: "red",
    ChangeState.BACKED_OUT: "red",
    ChangeState.UNDER_REVIEW: "blue",
    ChangeState.CLOSED: "grey",
    ChangeState.CANCELLED: "grey",
}
FINISHED_STATES = (ChangeState.CLOSED, ChangeState.REJECTED, ChangeState.CANCELLED)
# While these hold, the request itself (scope, plans, type) may still be edited.
EDITABLE_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.ASSESSMENT)
OPEN_STATES = tuple(s for s in ChangeState.values if s not in FINISHED_STATES)


class ChangeType(models.TextChoices):
    STANDARD = "standard", "Standard (pre-approved template)"
    NORMAL = "normal", "Normal"
    EMERGENCY = "emergency", "Emergency"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


# The risk questionnaire: (key, question, weight). The weights of the questions answered
# "yes" add up to the risk level: 0-1 low, 2-3 medium, 4 or more high.
RISK_QUESTIONS = (
    ("untested", "Has the change not been tried out in a test environment?", 2),
    ("slow_back_out", "Would backing it out take longer than the planned window?", 2),
    ("failed_before", "Has a similar change failed before?", 1),
    ("needs_outage", "Does the service have to stop while the change is made?", 1),
    ("many_users", "Will most of the service's users notice the change?", 1),
    ("new_technology", "Is the technology new to the people making the change?", 1),
)
RISK_THRESHOLDS = ((4, "high"), (2, "medium"), (0, "low"))


def risk_from_answers(answers: dict) -> str:
    score = sum(weight for key, _, weight in RISK_QUESTIONS if answers.get(key))
    return next(level for floor, level in RISK_THRESHOLDS if score >= floor)


RISK_COLOURS = {RiskLevel.LOW: "green", RiskLevel.MEDIUM: "amber", RiskLevel.HIGH: "red"}


class ServiceAction(models.TextChoices):
    """What the change does to the services in its scope. Removing a service and handing
    it over to another party always count as changes with potential major impact."""

    MODIFY = "modify", "Changes existing services or their components"
    NEW = "new", "Introduces a new service"
    REMOVE = "remove", "Removes a service"
    TRANSFER = "transfer", "Transfers a service to another party"


ALWAYS_MAJOR_ACTIONS = (ServiceAction.REMOVE, ServiceAction.TRANSFER)


class Outcome(models.TextChoices):
    SUCCESSFUL = "successful", "Successful"
    FAILED = "failed", "Failed"
    BACKED_OUT = "backed_out", "Failed and backed out"


class ApprovalRuleKind(models.TextChoices):
    ALL = "all", "All approvers"
    ANY = "any", "Any one approver"
    QUORUM = "quorum", "A quorum of approvers"


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


DECISION_COLOURS = {Decision.PENDING: "amber", Decision.APPROVED: "green", Decision.REJECTED: "red"}
