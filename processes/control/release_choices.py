"""Classifications and statuses of release and deployment management (clause 9.3)."""

from django.db import models


class ReleaseState(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_BUILD = "in_build", "In build"
    IN_TEST = "in_test", "In test"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    DEPLOYING = "deploying", "Deploying"
    DEPLOYED = "deployed", "Deployed"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    UNDER_REVIEW = "under_review", "Under review"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


RELEASE_STATE_COLOURS = {
    ReleaseState.PLANNED: "grey",
    ReleaseState.IN_BUILD: "blue",
    ReleaseState.IN_TEST: "blue",
    ReleaseState.AWAITING_APPROVAL: "amber",
    ReleaseState.APPROVED: "teal",
    ReleaseState.DEPLOYING: "amber",
    ReleaseState.DEPLOYED: "green",
    ReleaseState.FAILED: "red",
    ReleaseState.ROLLED_BACK: "red",
    ReleaseState.UNDER_REVIEW: "blue",
    ReleaseState.CLOSED: "grey",
    ReleaseState.CANCELLED: "grey",
}
RELEASE_FINISHED_STATES = (ReleaseState.CLOSED, ReleaseState.CANCELLED)
# Until the build is handed to its approvers, the release itself (scope, plans, criteria) may change.
RELEASE_EDITABLE_STATES = (ReleaseState.PLANNED, ReleaseState.IN_BUILD, ReleaseState.IN_TEST)
# From the start of deployment on, a release always has its configuration baseline.
RELEASE_DEPLOYMENT_STATES = (
    ReleaseState.DEPLOYING,
    ReleaseState.DEPLOYED,
    ReleaseState.FAILED,
    ReleaseState.ROLLED_BACK,
    ReleaseState.UNDER_REVIEW,
    ReleaseState.CLOSED,
)
# Releases still to come on the calendar (planned dates ahead of them).
RELEASE_UPCOMING_STATES = (
    ReleaseState.PLANNED,
    ReleaseState.IN_BUILD,
    ReleaseState.IN_TEST,
    ReleaseState.AWAITING_APPROVAL,
    ReleaseState.APPROVED,
    ReleaseState.DEPLOYING,
)


class ReleaseType(models.TextChoices):
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
    EMERGENCY = "emergency", "Emergency"


class DeploymentMethod(models.TextChoices):
    BIG_BANG = "big_bang", "All at once"
    PHASED = "phased", "Phased, group by group"
    PILOT = "pilot", "Pilot group first, then everyone"
    PARALLEL = "parallel", "In parallel with the old version, then switch over"
    AUTOMATED = "automated", "Automated pipeline"


class ReleaseOutcome(models.TextChoices):
    SUCCESSFUL = "successful", "Successful"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Failed and rolled back"


OUTCOME_COLOURS = {
    ReleaseOutcome.SUCCESSFUL: "green",
    ReleaseOutcome.FAILED: "red",
    ReleaseOutcome.ROLLED_BACK: "red",
}


class CriterionResult(models.TextChoices):
    UNTESTED = "untested", "Not tested yet"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


RESULT_COLOURS = {CriterionResult.UNTESTED: "amber", CriterionResult.PASSED: "green", CriterionResult.FAILED: "red"}
