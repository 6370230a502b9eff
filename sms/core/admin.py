from django.contrib import admin

from .admin_base import TenantScopedAdmin
from .models import Attachment, FeedToken, JournalEntry, OutboundMessage, PlannedActivity, RecordLink


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


@admin.register(OutboundMessage)
class OutboundMessageAdmin(TenantScopedAdmin):
    list_display = ("created_at", "recipient", "subject", "topic", "status", "attempts", "sent_at")
    list_filter = ("status", "topic")
    search_fields = ("recipient", "subject")
    readonly_fields = ("recipient", "subject", "body", "topic", "content_type", "object_id", "status", "attempts",
                       "last_error", "next_attempt_at", "created_at", "updated_at", "sent_at")
    actions = ["retry_messages"]

    def has_add_permission(self, request) -> bool:
        return False  # messages are written by the events they report

    @admin.action(description="Queue the selected messages again")
    def retry_messages(self, request, queryset):
        from .outbox import retry

        for message in queryset:
            retry(message)


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    """Calendar feed keys: seen and deleted (revoked) here, made by their member only."""

    list_display = ("prefix", "user", "membership", "created_at", "last_used_at")
    readonly_fields = ("prefix", "digest", "user", "membership", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # the secret is shown once, to its member, on the schedule of change page

    def has_change_permission(self, request, obj=None) -> bool:
        return False
