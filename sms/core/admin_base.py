"""Django admin for tenant data: always inside one tenant.

The admin is for platform operators. It works on the tenant chosen last in the
browser (the session's tenant, see the tenant middleware); without one, lists are empty
and a message says how to choose. Row-level security would hide other tenants' rows
anyway; this keeps the admin from raising on the fail-closed managers.
"""

from __future__ import annotations

from django.contrib import messages
from simple_history.admin import SimpleHistoryAdmin

from sms.tenancy import context


class TenantScopedAdmin(SimpleHistoryAdmin):
    list_select_related = True

    def get_queryset(self, request):
        if context.get_current_tenant() is None:
            if request.method == "GET" and not getattr(request, "_sms_warned", False):
                request._sms_warned = True
                messages.info(request, "Choose a tenant first (open /), then come back: the admin shows one tenant.")
            return self.model.unscoped.none()
        return self.model.objects.all()

    def has_add_permission(self, request) -> bool:
        return context.get_current_tenant() is not None and super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        obj._change_reason = "Changed in the administration site" if change else "Created in the administration site"
        super().save_model(request, obj, form, change)


class RecordAdmin(TenantScopedAdmin):
    list_display = ("reference", "title", "owner", "updated_at")
    search_fields = ("reference", "title")
    readonly_fields = ("reference", "created_at", "created_by", "updated_at", "updated_by")
    raw_id_fields = ("owner",)
