from django.contrib import admin

from sms.core.admin_base import RecordAdmin, TenantScopedAdmin

from .models import Acknowledgement, DistributionEntry, Document, DocumentVersion


@admin.register(Document)
class DocumentAdmin(RecordAdmin):
    list_display = ("reference", "title", "document_type", "state", "classification", "owner", "next_review_date")
    list_filter = ("state", "document_type", "classification")
    readonly_fields = (*RecordAdmin.readonly_fields, "state", "current_version", "last_reviewed_at",
                       "last_reviewed_by")


@admin.register(DocumentVersion)
class DocumentVersionAdmin(TenantScopedAdmin):
    list_display = ("document", "number", "state", "created_by", "approved_by", "approved_at", "issued_at")
    list_filter = ("state",)
    search_fields = ("document__reference", "document__title", "change_summary")
    # Versions change only through their workflow and the document pages.
    readonly_fields = ("document", "number", "state", "change_summary", "reason", "content", "filename", "sha256",
                       "approved_by", "approved_at", "issued_by", "issued_at", "obsolete_at", "superseded_by")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DistributionEntry)
class DistributionEntryAdmin(TenantScopedAdmin):
    list_display = ("document", "role", "user", "party")
    raw_id_fields = ("document", "user", "party")


@admin.register(Acknowledgement)
class AcknowledgementAdmin(TenantScopedAdmin):
    list_display = ("version", "user", "requested_at", "acknowledged_at")
    readonly_fields = ("version", "user", "requested_at", "acknowledged_at")

    def has_add_permission(self, request) -> bool:
        return False
