from django.contrib import admin

from sms.core.admin_base import RecordAdmin, TenantScopedAdmin

from .models import (
    ApprovalRule,
    BlackoutWindow,
    Change,
    ChangeApproval,
    ChangePolicy,
    ChangeTrendReport,
    StandardChangeTemplate,
)


class ChangeApprovalInline(admin.TabularInline):
    model = ChangeApproval
    extra = 0
    fields = ("approver", "decision", "rationale", "decided_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Change)
class ChangeAdmin(RecordAdmin):
    list_display = ("reference", "title", "state", "change_type", "risk_level", "is_major", "planned_start")
    list_filter = ("state", "change_type", "risk_level", "is_major")
    readonly_fields = (
        *RecordAdmin.readonly_fields,
        "state",
        "is_major",
        "approval_rule",
        "approval_quorum",
        "implementation_result",
        "submitted_at",
        "approval_requested_at",
        "approved_at",
        "implementation_started_at",
        "implementation_ended_at",
        "closed_at",
        "investigation_findings",
        "investigated_at",
        "investigated_by",
    )
    raw_id_fields = ("owner", "requester", "template")
    filter_horizontal = ("services", "cis")
    inlines = [ChangeApprovalInline]


@admin.register(ChangePolicy)
class ChangePolicyAdmin(TenantScopedAdmin):
    list_display = ("__str__", "major_service_criticality", "major_min_services", "updated_at")


@admin.register(StandardChangeTemplate)
class StandardChangeTemplateAdmin(TenantScopedAdmin):
    list_display = ("name", "risk_level", "is_active", "approved_at", "approved_by")
    list_filter = ("is_active", "risk_level")
    search_fields = ("name",)
    readonly_fields = ("approved_by", "approved_at", "approval_rationale")


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(TenantScopedAdmin):
    list_display = ("change_type", "risk_level", "rule", "quorum", "approver_role")
    list_filter = ("change_type", "risk_level", "rule")
    filter_horizontal = ("approvers",)


@admin.register(ChangeApproval)
class ChangeApprovalAdmin(TenantScopedAdmin):
    list_display = ("change", "approver", "decision", "decided_at")
    list_filter = ("decision",)
    readonly_fields = ("change", "approver", "decision", "rationale", "decided_at")
    list_select_related = ("change", "approver")


@admin.register(BlackoutWindow)
class BlackoutWindowAdmin(TenantScopedAdmin):
    list_display = ("name", "starts_at", "ends_at")
    search_fields = ("name",)
    filter_horizontal = ("services",)


@admin.register(ChangeTrendReport)
class ChangeTrendReportAdmin(TenantScopedAdmin):
    list_display = ("__str__", "period_start", "period_end", "reviewed_at", "created_at")
    readonly_fields = ("figures", "activity", "reviewed_by", "reviewed_at")


# --- release and deployment management (clause 9.3) -------------------------------------------
from .models import AcceptanceCriterion, Release, ReleasePolicy  # noqa: E402


class AcceptanceCriterionInline(admin.TabularInline):
    model = AcceptanceCriterion
    extra = 0
    fields = ("position", "description", "agreed_with", "result", "environment", "tested_at", "tested_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Release)
class ReleaseAdmin(RecordAdmin):
    list_display = ("reference", "title", "state", "release_type", "planned_start", "outcome")
    list_filter = ("state", "release_type", "outcome")
    readonly_fields = (
        *RecordAdmin.readonly_fields,
        "state",
        "baseline",
        "approved_by",
        "approved_at",
        "deployment_started_at",
        "deployment_ended_at",
        "outcome",
        "deployment_result",
        "follow_up",
        "incident_window_days",
        "incident_period_end",
        "closed_at",
    )
    raw_id_fields = ("owner", "release_manager")
    filter_horizontal = ("services", "cis", "changes", "problems", "known_errors")
    inlines = [AcceptanceCriterionInline]


@admin.register(ReleasePolicy)
class ReleasePolicyAdmin(TenantScopedAdmin):
    list_display = ("__str__", "release_types", "incident_window_days", "updated_at")
    list_select_related = ("service",)


@admin.register(AcceptanceCriterion)
class AcceptanceCriterionAdmin(TenantScopedAdmin):
    list_display = ("release", "position", "result", "environment", "tested_at")
    list_filter = ("result",)
    readonly_fields = ("release", "result", "result_notes", "environment", "tested_at", "tested_by")
    list_select_related = ("release",)
