"""Administration of problems, problem reviews and known errors (clause 8.2); imported by
``admin.py``. States change only through the workflow, so they are read-only here."""

from django.contrib import admin

from sms.core.admin_base import RecordAdmin, TenantScopedAdmin
from sms.tenancy import context

from .models import KnownError, Problem, ProblemReview


class ProblemReviewInline(admin.StackedInline):
    model = ProblemReview
    extra = 0
    fields = ("reviewed_on", "participants", "lessons_learned", "root_cause_removed", "recurrence_seen", "actions")
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        if context.get_current_tenant() is None:
            return ProblemReview.unscoped.none()
        return ProblemReview.objects.all()

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Problem)
class ProblemAdmin(RecordAdmin):
    list_display = ("reference", "title", "state", "priority", "origin", "assignee", "needs_change", "updated_at")
    list_filter = ("state", "priority", "origin", "needs_change")
    readonly_fields = (
        *RecordAdmin.readonly_fields,
        "state",
        "priority",
        "priority_overridden",
        "priority_override_reason",
        "investigation_started_at",
        "known_error_at",
        "resolved_at",
        "closed_at",
        "trend_ci",
        "trend_category",
    )
    raw_id_fields = ("incidents", "services", "affected_cis", "category", "assignment_group")
    inlines = (ProblemReviewInline,)


@admin.register(ProblemReview)
class ProblemReviewAdmin(TenantScopedAdmin):
    list_display = ("problem", "reviewed_on", "root_cause_removed", "recurrence_seen")
    list_filter = ("root_cause_removed", "recurrence_seen")
    raw_id_fields = ("problem",)


@admin.register(KnownError)
class KnownErrorAdmin(RecordAdmin):
    list_display = ("reference", "title", "state", "category", "problem", "updated_at")
    list_filter = ("state",)
    search_fields = ("reference", "title", "symptoms", "workaround")
    readonly_fields = (*RecordAdmin.readonly_fields, "state", "retired_at")
    raw_id_fields = ("problem", "services", "affected_cis", "category")
