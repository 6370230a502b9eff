"""Planned activities: everything ISO/IEC 20000-1 asks for "at planned intervals".

One table holds management reviews, internal audits, service and supplier reviews,
continuity tests, CMDB audits, document reviews, service reports, trend analyses...
The dispatcher (``sms.core.tasks.dispatch_planned_activities``) runs every minute,
claims occurrences that have fallen due and hands them to their kind's handler.
Completing the occurrence (the review is held, the report produced) advances
``next_due`` by the interval; until then an occurrence past ``next_due`` is overdue.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from .base import TenantManager, TrackedModel

MAX_LEAD_DAYS = 90


class IntervalUnit(models.TextChoices):
    DAYS = "days", "days"
    WEEKS = "weeks", "weeks"
    MONTHS = "months", "months"
    YEARS = "years", "years"


def add_interval(start: dt.date, count: int, unit: str) -> dt.date:
    if unit == IntervalUnit.DAYS:
        return start + dt.timedelta(days=count)
    if unit == IntervalUnit.WEEKS:
        return start + dt.timedelta(weeks=count)
    months = count * (12 if unit == IntervalUnit.YEARS else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


class PlannedActivityQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def overdue(self, today: dt.date | None = None):
        return self.active().filter(next_due__lt=today or timezone.localdate())

    def due_within(self, days: int, today: dt.date | None = None):
        today = today or timezone.localdate()
        return self.active().filter(next_due__gte=today, next_due__lte=today + dt.timedelta(days=days))


class PlannedActivity(TrackedModel):
    """An activity the SMS performs at planned intervals (clause 4.5.4, 6.1, 7.1, ...)."""

    kind = models.CharField(max_length=40, help_text="What sort of activity (see the activity kinds).")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    subject_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    interval_count = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1)])
    interval_unit = models.CharField(max_length=10, choices=IntervalUnit.choices, default=IntervalUnit.MONTHS)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_due = models.DateField(help_text="Due date of the current occurrence.")
    lead_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_LEAD_DAYS)],
        help_text="Dispatch this many days before the due date (e.g. to prepare a review).",
    )
    last_done_at = models.DateTimeField(null=True, blank=True)
    dispatched_for = models.DateField(
        null=True, blank=True, editable=False,
        help_text="The occurrence (due date) the dispatcher last handled; stops double dispatch.",
    )
    is_active = models.BooleanField(default=True)

    objects = TenantManager.from_queryset(PlannedActivityQuerySet)()

    class Meta:
        ordering = ["next_due", "id"]
        verbose_name_plural = "planned activities"
        indexes = [
            # Due/overdue lists and the dispatcher's claim, per tenant.
            models.Index(fields=["tenant", "is_active", "next_due"], name="core_planned_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (due {self.next_due:%Y-%m-%d})"

    def clean(self):
        from sms.core.registry import activity_kinds

        if self.kind and activity_kinds.get(self.kind) is None:
            raise ValidationError({"kind": f"Unknown activity kind {self.kind!r}."})

    @property
    def kind_info(self):
        from sms.core.registry import activity_kinds

        return activity_kinds.get(self.kind)

    @property
    def is_overdue(self) -> bool:
        return self.is_active and self.next_due < timezone.localdate()

    @property
    def dispatch_date(self) -> dt.date:
        return self.next_due - dt.timedelta(days=self.lead_days)

    def complete(self, done_at: dt.datetime | None = None, reason: str = "") -> None:
        """Mark the current occurrence done and schedule the next one."""
        kind = self.kind_info
        if kind is not None and kind.on_complete is not None and self.subject_id is not None:
            kind.on_complete(self, by=getattr(self, "_history_user", None), note=reason)
            self.refresh_from_db()
            return
        done_at = done_at or timezone.now()
        self.last_done_at = done_at
        # Keep the planned cadence; an occurrence done very late does not leave the
        # next one already overdue.
        next_due = add_interval(self.next_due, self.interval_count, self.interval_unit)
        while next_due <= timezone.localdate(done_at):
            next_due = add_interval(next_due, self.interval_count, self.interval_unit)
        self.next_due = next_due
        self.save(reason=reason or "Occurrence completed")
