from django.contrib import admin

from sms.core.admin_base import RecordAdmin

from .models import Improvement


@admin.register(Improvement)
class ImprovementAdmin(RecordAdmin):
    list_display = ("reference", "title", "state", "priority", "owner", "due_date")
    list_filter = ("state", "improvement_type", "priority")
    readonly_fields = (*RecordAdmin.readonly_fields, "state", "decided_by", "decided_at", "decision_rationale")
