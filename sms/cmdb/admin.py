from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from sms.core.admin_base import RecordAdmin

from .models import AuditedCI, Baseline, CIType, CMDBAudit, ConfigurationItem, Relationship, Service, ServiceComponent


@admin.register(CIType)
class CITypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "under_change_control", "master_copy", "is_active"]
    list_filter = ["under_change_control", "master_copy", "is_active"]
    search_fields = ["name", "code", "description"]


class OutgoingInline(admin.TabularInline):
    model = Relationship
    fk_name = "source"
    extra = 0
    raw_id_fields = ["target"]
    fields = ["kind", "target", "note"]
    verbose_name = "relationship"


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "ci_type", "state", "version", "location", "owner"]
    list_filter = ["state", "ci_type"]
    search_fields = ["reference", "title", "asset_tag", "serial_number"]
    list_select_related = ["ci_type", "owner"]
    raw_id_fields = ["owner", "supplier"]
    readonly_fields = ["reference", "state"]
    inlines = [OutgoingInline]


@admin.register(Relationship)
class RelationshipAdmin(SimpleHistoryAdmin):
    list_display = ["source", "kind", "target"]
    list_filter = ["kind"]
    raw_id_fields = ["source", "target"]
    list_select_related = ["source", "target"]


class ComponentInline(admin.TabularInline):
    model = ServiceComponent
    extra = 0
    raw_id_fields = ["ci"]


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "state", "criticality", "owner"]
    list_filter = ["state", "criticality"]
    search_fields = ["reference", "title"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["reference", "state"]
    inlines = [ComponentInline]


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    """Read-only: a baseline never changes once taken."""

    list_display = ["name", "taken_at", "taken_by", "item_count"]
    readonly_fields = ["name", "description", "taken_at", "taken_by", "scope", "item_count", "sha256", "items"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedCIInline(admin.TabularInline):
    model = AuditedCI
    extra = 0
    raw_id_fields = ["ci"]
    fields = ["ci", "result", "note"]


@admin.register(CMDBAudit)
class CMDBAuditAdmin(RecordAdmin):
    list_display = ["reference", "title", "state", "planned_for", "auditor"]
    list_filter = ["state"]
    list_select_related = ["auditor"]
    raw_id_fields = ["owner", "auditor"]
    readonly_fields = [*RecordAdmin.readonly_fields, "state", "area_owner", "results", "checked_at", "completed_at"]
    inlines = [AuditedCIInline]
