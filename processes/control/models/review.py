"""Looking back on changes (clause 9.2): the trend analysis made at planned intervals,
its figures kept as a record so that the process owner and management review can
read what was found and what was concluded."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from sms.core.models import TrackedModel


class ChangeTrendReport(TrackedModel):
    """The figures of one analysis of the changes of a period: volumes by type, service
    and outcome, the success rate, the share of emergency changes, and the changes that
    caused incidents. The figures are written once; the conclusions are added by people."""

    period_start = models.DateField(help_text="First day of the period analysed.")
    period_end = models.DateField(help_text="Last day of the period analysed (included).")
    incident_window_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(90)],
        help_text="An incident on a changed CI within this many days after the change was implemented counts as "
        "possibly caused by it.",
    )
    figures = models.JSONField(default=dict, editable=False, help_text="The computed figures.")
    activity = models.ForeignKey(
        "core.PlannedActivity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="The planned activity whose occurrence produced it, if any.",
    )
    conclusions = models.TextField(
        blank=True, help_text="What the process owner concludes from the figures and which actions follow."
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "change trend report"
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["tenant", "-period_end", "-id"], name="control_trend_period_idx")]

    def __str__(self) -> str:
        return f"Change trends {self.period_start:%d %b %Y} - {self.period_end:%d %b %Y}"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "The period ends before it starts."})
        if self.period_start and self.period_end and (self.period_end - self.period_start).days > 3 * 366:
            raise ValidationError({"period_end": "Analyse at most three years at a time."})
