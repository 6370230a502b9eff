from django.db import models


class RetentionAction(models.TextChoices):
    ARCHIVE = "archive", "Archive (export to the archive store, then remove)"
    DISPOSE = "dispose", "Dispose (destroy)"


class DisposalState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    EXECUTED = "executed", "Executed"
    CANCELLED = "cancelled", "Cancelled"


DISPOSAL_STATE_COLOURS = {
    DisposalState.PROPOSED: "blue",
    DisposalState.APPROVED: "amber",
    DisposalState.EXECUTED: "green",
    DisposalState.CANCELLED: "grey",
}


class ItemOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    DISPOSED = "disposed", "Disposed"
    ARCHIVED = "archived", "Archived"
    SKIPPED = "skipped", "Skipped"
