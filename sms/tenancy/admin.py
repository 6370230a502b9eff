from django.contrib import admin

from .models import ApiToken, Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "time_zone", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Memberships of the session's tenant (row-level security shows no others)."""

    list_display = ("user", "tenant", "roles", "is_active")
    list_filter = ("is_active",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        return Membership.unscoped.select_related("user", "tenant")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "membership", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # keys are issued through the API, which shows the secret once
