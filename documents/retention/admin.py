from django.contrib import admin

from sms.core.admin_base import RecordAdmin, TenantScopedAdmin

from .models import DisposalRun, LegalHold, RetentionRule, Tombstone


@admin.register(RetentionRule)
class RetentionRuleAdmin(TenantScopedAdmin):
    list_display = ("record_kind", "retain_months", "action", "is_active")


@admin.register(LegalHold)
class LegalHoldAdmin(TenantScopedAdmin):
    list_display = ("reference", "record_kind", "created_at", "released_at")


@admin.register(DisposalRun)
class DisposalRunAdmin(RecordAdmin):
    list_display = ("reference", "title", "state", "approved_by", "executed_at")
    readonly_fields = (
        *RecordAdmin.readonly_fields,
        "state",
        "approved_by",
        "approved_at",
        "executed_by",
        "executed_at",
    )


@admin.register(Tombstone)
class TombstoneAdmin(admin.ModelAdmin):
    list_display = ("reference", "record_kind", "action", "executed_at", "executed_by")

    def get_queryset(self, request):
        return Tombstone.objects.all() if request.tenant else Tombstone.unscoped.none()

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
