"""Major incidents (clause 8.1): the tenant's agreed definition, the guards on a major
incident's workflow, and the review recorded before it is closed.

The flag itself and the major incident manager live on ``Incident`` (``is_major``,
``major_manager``) so that queues and the console can filter on them cheaply.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sms.core.models import TrackedModel
from sms.core.workflow import condition

from ..choices import PRIORITY_LEVELS

CRITICALITY_CHOICES = [("1", "1 - Critical"), ("2", "2 - High"), ("3", "3 - Medium"), ("4", "4 - Low")]


class MajorIncidentDefinition(TrackedModel):
    """What the tenant has agreed with its customers to treat as a major incident: the
    definition in words, and a rule that declares matching incidents automatically."""

    definition = models.TextField(
        blank=True,
        help_text="The definition agreed with the customers, in words: what makes an incident a major one.",
    )
    auto_declare = models.BooleanField(
        "declare automatically",
        default=True,
        help_text="Declare an incident major as soon as it matches the rule below.",
    )
    max_priority = models.PositiveSmallIntegerField(
        "priority up to",
        default=1,
        validators=[MinValueValidator(min(PRIORITY_LEVELS)), MaxValueValidator(max(PRIORITY_LEVELS))],
        help_text="Incidents of this priority or a more urgent one (1 is the most urgent) match.",
    )
    service_criticality = models.CharField(
        "on services of criticality up to",
        max_length=1,
        choices=CRITICALITY_CHOICES,
        blank=True,
        default="1",
        help_text="Only incidents on a service this critical or more match; empty: any service, or none.",
    )

    class Meta:
        verbose_name = "major incident definition"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="resolution_majordef_tenant_uniq")]

    def __str__(self) -> str:
        return "Major incident definition"

    @property
    def rule_text(self) -> str:
        if not self.auto_declare:
            return "Declared by hand only."
        where = (
            f"on a service of criticality {self.get_service_criticality_display()} or higher"
            if self.service_criticality
            else "on any service"
        )
        return f"Priority P{self.max_priority} or higher {where}."


class MajorIncidentReview(TrackedModel):
    """The review held after a major incident (clause 8.1): what happened, when, why, and
    what the organisation will do better. The incident cannot be closed without it."""

    incident = models.OneToOneField("resolution.Incident", on_delete=models.PROTECT, related_name="major_review")
    what_happened = models.TextField(help_text="The course of the incident and its effect on the customers.")
    timeline = models.TextField(help_text="The main moments: detection, declaration, workaround, restoration.")
    causes = models.TextField(help_text="Why it happened: the causes found, and what is still unknown.")
    improvements = models.TextField(
        "opportunities for improvement",
        help_text="What to change so that it does not happen again, or is handled better.",
    )
    held_on = models.DateField(null=True, blank=True, help_text="When the review took place.")
    participants = models.TextField(blank=True, help_text="Who took part.")

    class Meta:
        verbose_name = "major incident review"
        indexes = [models.Index(fields=["tenant", "-created_at"], name="resolution_mirev_created_idx")]

    def __str__(self) -> str:
        return f"Review of {self.incident.reference}"

    @property
    def is_complete(self) -> bool:
        return all(getattr(self, f).strip() for f in ("what_happened", "timeline", "causes", "improvements"))


class MajorIncidentFields(models.Model):
    """Fields of ``Incident`` that make it a major incident (mixed into the model)."""

    is_major = models.BooleanField(
        "major incident",
        default=False,
        editable=False,
        help_text="Declared major (by the tenant's rule or by hand); see the declaration reason.",
    )
    major_declared_at = models.DateTimeField(null=True, blank=True, editable=False)
    major_declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    major_reason = models.CharField("reason for declaring it major", max_length=500, blank=True, editable=False)
    major_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="major incident manager",
        help_text="Leads the response to a major incident; required before work on it starts.",
    )

    class Meta:
        abstract = True


@condition("A major incident needs a designated major incident manager first.", field="major_manager")
def has_major_manager(inc) -> bool:
    return inc.state != "new" or not inc.is_major or inc.major_manager_id is not None


@condition("Record the major incident review (what happened, timeline, causes, improvements) before closing.")
def has_major_review(inc) -> bool:
    if not inc.is_major:
        return True
    review = MajorIncidentReview.objects.filter(incident_id=inc.pk).first()
    return review is not None and review.is_complete
