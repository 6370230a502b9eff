"""How the resolution processes are set up per tenant (clause 8.1): the impact x urgency
matrix and target times, service calendars, the incident classification tree and the
tenant's settings."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from sms.core.models import TrackedModel

from .. import working_time as wt
from ..choices import MATRIX_SIZES, PRIORITY_LEVELS, Impact, Urgency, scale_label

LEVEL_CHOICES = [(n, str(n)) for n in PRIORITY_LEVELS]
MAX_TARGET_MINUTES = 366 * 24 * 60


def current_scale_size() -> int:
    """3 or 5: the current tenant's impact and urgency scale (3 without a tenant)."""
    from sms.tenancy import context

    if context.get_current_tenant() is None:
        return 3
    from .. import services

    return services.scale_size()


def middle_level() -> int:
    """Default impact and urgency of a new record: the middle of the tenant's scale."""
    return (current_scale_size() + 1) // 2


def scale_display(kind: str, value: int | None) -> str:
    """A level's label on the tenant's scale (the display of impact and urgency fields)."""
    return scale_label(kind, value, current_scale_size())


class PriorityLevel(TrackedModel):
    """One priority of the tenant's scheme with its response and resolution targets, in
    minutes of service time (clause 8.1 b: allocation of priority; targets agreed in SLAs)."""

    level = models.PositiveSmallIntegerField(choices=LEVEL_CHOICES)
    name = models.CharField(max_length=60)
    response_minutes = models.PositiveIntegerField(
        "response target (minutes)",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
        help_text="Working minutes of the service's calendar until someone takes the incident on.",
    )
    resolution_minutes = models.PositiveIntegerField(
        "resolution target (minutes)",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
        help_text="Working minutes of the service's calendar until the incident is resolved.",
    )

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["tenant", "level"], name="resolution_level_tenant_uniq")]

    def __str__(self) -> str:
        return f"P{self.level} {self.name}"

    def clean(self) -> None:
        if self.response_minutes and self.resolution_minutes and self.response_minutes > self.resolution_minutes:
            raise ValidationError(
                {"response_minutes": "The response target cannot be longer than the resolution target."}
            )


class PriorityMatrixCell(TrackedModel):
    """The priority given to an incident of one impact and one urgency (clause 8.1: impact
    and urgency are considered when prioritising)."""

    impact = models.PositiveSmallIntegerField(choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(choices=LEVEL_CHOICES)

    def get_impact_display(self) -> str:
        return scale_display("impact", self.impact)

    def get_urgency_display(self) -> str:
        return scale_display("urgency", self.urgency)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "impact", "urgency"], name="resolution_matrix_cell_uniq"),
        ]

    def __str__(self) -> str:
        return f"impact {self.impact} x urgency {self.urgency} -> P{self.priority}"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/London).")


class ServiceCalendar(TrackedModel):
    """Hours of service: the weekly working hours, time zone and holidays in which a
    service's response and resolution targets run (clause 8.1, with the hours agreed in
    the catalogue and SLAs, 6.1)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_24x7 = models.BooleanField("24x7", default=False, help_text="Every minute counts; holidays are ignored.")
    working_hours = models.JSONField(
        default=list,
        blank=True,
        help_text='Periods as [{"day": 0, "start": "08:00", "end": "18:00"}]; day 0 is Monday; an end not '
        "after the start runs into the next day.",
    )
    holidays = models.JSONField(default=list, blank=True, help_text='[{"date": "2026-12-25", "name": "Christmas"}]')

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("name"),
                name="resolution_calendar_name_uniq",
                violation_error_message="A calendar with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.name = (self.name or "").strip()
        if not self.name:
            errors["name"] = "A name is required."
        # The time zone is checked by the field's validator.
        try:
            if not isinstance(self.working_hours, list):
                raise ValueError("Give a list of periods.")
            periods = wt.periods_from_json(self.working_hours)
            if not self.is_24x7 and not periods:
                raise ValueError("Give at least one working period, or mark the calendar 24x7.")
        except (ValueError, KeyError, TypeError) as exc:
            errors["working_hours"] = str(exc) if not isinstance(exc, KeyError) else f"Each period needs {exc}."
        try:
            self.holiday_dates()
        except (ValueError, KeyError, TypeError):
            errors["holidays"] = 'Give holidays as [{"date": "YYYY-MM-DD", "name": "..."}].'
        if errors:
            raise ValidationError(errors)

    def holiday_dates(self) -> frozenset[dt.date]:
        if not isinstance(self.holidays, list):
            raise ValueError("not a list")
        return frozenset(dt.date.fromisoformat(str(h["date"])) for h in self.holidays)

    def working_calendar(self) -> wt.WorkingCalendar:
        if self.is_24x7:
            return wt.WorkingCalendar.twenty_four_seven(self.time_zone)
        return wt.WorkingCalendar(
            time_zone=self.time_zone, periods=wt.periods_from_json(self.working_hours), holidays=self.holiday_dates()
        )

    @property
    def hours_text(self) -> str:
        return "24x7" if self.is_24x7 else wt.format_periods(self.working_hours)


class ServiceHours(TrackedModel):
    """Which calendar a service's targets run in. Kept on the resolution side so that the
    CMDB does not depend on the processes built on it."""

    service = models.ForeignKey("cmdb.Service", on_delete=models.CASCADE, related_name="+")
    calendar = models.ForeignKey(ServiceCalendar, on_delete=models.PROTECT, related_name="services")

    class Meta:
        verbose_name = "service hours"
        verbose_name_plural = "service hours"
        ordering = ["service__title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "service"],
                name="resolution_servicehours_uniq",
                violation_error_message="This service already has a calendar.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "calendar"], name="resolution_svchours_cal_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} in {self.calendar_id}"


class Category(TrackedModel):
    """A node of the tenant's incident classification tree (clause 8.1 c)."""

    MAX_DEPTH = 3

    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "incident category"
        verbose_name_plural = "incident categories"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "parent",
                Lower("name"),
                name="resolution_category_name_uniq",
                nulls_distinct=False,
                violation_error_message="This category already has a child of this name.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "parent", "name"], name="resolution_category_tree_idx")]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names, node, seen = [], self, 0
        while node is not None and seen < self.MAX_DEPTH:
            names.append(node.name)
            node, seen = node.parent, seen + 1
        return " / ".join(reversed(names))

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "A name is required."})
        depth, node = 1, self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": "A category cannot sit under itself."})
            depth, node = depth + 1, node.parent
            if depth > self.MAX_DEPTH:
                raise ValidationError({"parent": f"Categories nest at most {self.MAX_DEPTH} levels deep."})


class ResolutionSettings(TrackedModel):
    """The tenant's settings of incident management (clause 8.1): how long a resolved
    incident may be reopened, the calendar for incidents without a service, and when an
    incident counts as at risk of breaching."""

    reopen_days = models.PositiveSmallIntegerField(
        "reopen window (days)",
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(365)],
        help_text="A resolved incident can be reopened for this many days; after that a new incident is logged.",
    )
    default_calendar = models.ForeignKey(
        ServiceCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Used for incidents whose service has no calendar. Without one, targets run 24x7.",
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        "at risk from (% of target)",
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    # Trend analysis (clause 8.2): when incidents repeat on one CI in one category.
    repeat_count = models.PositiveSmallIntegerField(
        "repeating incidents (N)",
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(100)],
        help_text="This many incidents on the same CI in the same category within the window propose a problem.",
    )
    repeat_days = models.PositiveSmallIntegerField(
        "repeat window (days, D)",
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How many days back the trend check looks for repeating incidents.",
    )

    matrix_size = models.PositiveSmallIntegerField(
        "impact and urgency levels",
        choices=[(n, f"{n} x {n}") for n in MATRIX_SIZES],
        default=3,
        editable=False,
        help_text="Impact and urgency are rated on 3 or 5 levels; change it with the matrix switch, which resets "
        "the matrix to the default of that size.",
    )

    class Meta:
        verbose_name = "resolution settings"
        verbose_name_plural = "resolution settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="resolution_settings_tenant_uniq")]

    def __str__(self) -> str:
        return "Resolution settings"
