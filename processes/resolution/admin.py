from django.contrib import admin

from sms.core.admin_base import RecordAdmin, TenantScopedAdmin

from .models import (
    Category,
    GroupMember,
    Incident,
    PriorityLevel,
    PriorityMatrixCell,
    ResolutionSettings,
    ServiceCalendar,
    ServiceHours,
)


@admin.register(Incident)
class IncidentAdmin(RecordAdmin):
    list_display = (
        "reference",
        "title",
        "state",
        "priority",
        "service",
        "assignee",
        "resolution_due_at",
        "resolution_breached",
    )
    list_filter = ("state", "priority", "is_security", "resolution_breached")
    readonly_fields = (
        *RecordAdmin.readonly_fields,
        "state",
        "priority",
        "priority_overridden",
        "priority_override_reason",
        "responded_at",
        "resolved_at",
        "closed_at",
        "paused_since",
        "paused_minutes",
        "response_due_at",
        "resolution_due_at",
        "response_breached",
        "resolution_breached",
    )
    raw_id_fields = ("affected_cis", "caller", "service")


@admin.register(PriorityLevel)
class PriorityLevelAdmin(TenantScopedAdmin):
    list_display = ("level", "name", "response_minutes", "resolution_minutes")


@admin.register(PriorityMatrixCell)
class PriorityMatrixCellAdmin(TenantScopedAdmin):
    list_display = ("impact", "urgency", "priority")


@admin.register(ServiceCalendar)
class ServiceCalendarAdmin(TenantScopedAdmin):
    list_display = ("name", "time_zone", "is_24x7")


@admin.register(ServiceHours)
class ServiceHoursAdmin(TenantScopedAdmin):
    list_display = ("service", "calendar")


@admin.register(Category)
class CategoryAdmin(TenantScopedAdmin):
    list_display = ("name", "parent", "is_active")


@admin.register(ResolutionSettings)
class ResolutionSettingsAdmin(TenantScopedAdmin):
    list_display = ("reopen_days", "default_calendar", "at_risk_percent", "matrix_size")
    # Switched on the set-up page or through the API, which also rebuild the matrix.
    readonly_fields = ("matrix_size",)


@admin.register(GroupMember)
class GroupMemberAdmin(TenantScopedAdmin):
    list_display = ("group", "user", "created_at")
    raw_id_fields = ("user",)


# --- service requests (8.1) ---------------------------------------------------------------------
from .models import CatalogueItem, FulfilmentTask, RequestDecision, ServiceRequest  # noqa: E402


class RequestDecisionInline(admin.TabularInline):
    model = RequestDecision
    extra = 0
    can_delete = False
    fields = ("decision", "rationale", "decided_by", "decided_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class FulfilmentTaskInline(admin.TabularInline):
    model = FulfilmentTask
    extra = 0
    can_delete = False
    fields = ("position", "title", "state", "assignee", "done_at", "done_by", "notes")
    readonly_fields = ("position", "title", "state", "done_at", "done_by")
    raw_id_fields = ("assignee",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(RecordAdmin):
    list_display = (
        "reference",
        "title",
        "state",
        "priority",
        "catalogue_item",
        "requester",
        "assignee",
        "fulfilment_due_at",
        "fulfilment_breached",
    )
    list_filter = ("state", "priority", "needs_approval", "fulfilment_breached")
    readonly_fields = (
        *RecordAdmin.readonly_fields,
        "state",
        "catalogue_item",
        "requester",
        "questions",
        "answers",
        "needs_approval",
        "priority",
        "responded_at",
        "decided_at",
        "fulfilled_at",
        "closed_at",
        "paused_since",
        "paused_minutes",
        "response_due_at",
        "fulfilment_due_at",
        "response_breached",
        "fulfilment_breached",
    )
    raw_id_fields = ("service", "customer", "assignment_group", "assignee")
    inlines = (RequestDecisionInline, FulfilmentTaskInline)


@admin.register(CatalogueItem)
class CatalogueItemAdmin(TenantScopedAdmin):
    list_display = ("name", "service", "approval", "approver_role", "priority", "fulfilment_minutes", "is_active")
    list_filter = ("approval", "is_active", "priority")
    search_fields = ("name", "description")
    raw_id_fields = ("service",)
    filter_horizontal = ("approvers",)


# --- escalation and major incidents -------------------------------------------------------------
from .models import Escalation, EscalationRule, MajorIncidentDefinition, MajorIncidentReview  # noqa: E402


@admin.register(EscalationRule)
class EscalationRuleAdmin(TenantScopedAdmin):
    list_display = ("name", "target", "percent", "action", "is_active")
    list_filter = ("target", "action", "is_active")
    search_fields = ("name",)


@admin.register(Escalation)
class EscalationAdmin(TenantScopedAdmin):
    list_display = ("created_at", "incident", "rule_name", "action", "target", "percent")
    list_filter = ("action", "target")
    raw_id_fields = ("incident",)
    readonly_fields = ("incident", "rule", "rule_name", "target", "percent", "action", "detail", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # escalations are taken by the rules, not typed in


@admin.register(MajorIncidentDefinition)
class MajorIncidentDefinitionAdmin(TenantScopedAdmin):
    list_display = ("__str__", "auto_declare", "max_priority", "service_criticality")


@admin.register(MajorIncidentReview)
class MajorIncidentReviewAdmin(TenantScopedAdmin):
    list_display = ("incident", "held_on", "created_at")
    raw_id_fields = ("incident",)


# Problems, problem reviews and known errors (8.2).
from . import admin_problems  # noqa: E402, F401
