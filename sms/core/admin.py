from django.contrib import admin

from .admin_base import TenantScopedAdmin
from .models import Attachment, JournalEntry, PlannedActivity, RecordLink


@admin.register(PlannedActivity)
class PlannedActivityAdmin(TenantScopedAdmin):
    list_display = ("title", "kind", "next_due", "owner", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("title",)
    raw_id_fields = ("owner",)
    readonly_fields = ("dispatched_for", "last_done_at")


@admin.register(JournalEntry)
class JournalEntryAdmin(TenantScopedAdmin):
    list_display = ("record", "visibility", "author", "created_at")
    list_filter = ("visibility",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the journal is a record of what was said: no edits


@admin.register(Attachment)
class AttachmentAdmin(TenantScopedAdmin):
    list_display = ("filename", "size", "sha256", "uploaded_by", "created_at")
    readonly_fields = ("sha256",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecordLink)
class RecordLinkAdmin(TenantScopedAdmin):
    list_display = ("source", "link_type", "target", "created_at")
    list_filter = ("link_type",)
