"""Statuses and classifications of the management-system records, with their colours."""

from django.db import models


class ImprovementState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_PROGRESS = "in_progress", "In progress"
    IMPLEMENTED = "implemented", "Implemented"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


IMPROVEMENT_STATE_COLOURS = {
    ImprovementState.PROPOSED: "blue",
    ImprovementState.APPROVED: "teal",
    ImprovementState.REJECTED: "grey",
    ImprovementState.IN_PROGRESS: "amber",
    ImprovementState.IMPLEMENTED: "green",
    ImprovementState.CLOSED: "grey",
    ImprovementState.CANCELLED: "grey",
}


class ImprovementType(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective action"
    PREVENTIVE = "preventive", "Preventive action"
    IMPROVEMENT = "improvement", "Improvement opportunity"


class ImprovementSource(models.TextChoices):
    AUDIT = "audit", "Internal or external audit"
    MANAGEMENT_REVIEW = "management_review", "Management review"
    INCIDENT_TREND = "incident_trend", "Incident or problem trend"
    CUSTOMER = "customer", "Customer feedback or complaint"
    SERVICE_REPORT = "service_report", "Service report"
    CHANGE_REVIEW = "change_review", "Failed change or release review"
    STAFF = "staff", "Staff suggestion"
    OTHER = "other", "Other"


class Priority(models.TextChoices):
    P1 = "1", "1 - Critical"
    P2 = "2", "2 - High"
    P3 = "3", "3 - Medium"
    P4 = "4", "4 - Low"


class TargetDimension(models.TextChoices):
    """What an improvement aims to change (clause 4.5.5.2 a)."""

    COST = "cost", "Cost"
    QUALITY = "quality", "Quality"
    PRODUCTIVITY = "productivity", "Productivity"
    VALUE = "value", "Value"
    CAPABILITY = "capability", "Capability"
    RESOURCE_USE = "resource_use", "Resource use"
    RISK_REDUCTION = "risk_reduction", "Risk reduction"
