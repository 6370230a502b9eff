from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, Party


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "job_title", "email", "phone", "is_primary"]


@admin.register(Party)
class PartyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "party_type", "relationship_manager", "is_active"]
    list_filter = ["party_type", "is_active"]
    search_fields = ["name", "description"]
    list_select_related = ["relationship_manager"]
    raw_id_fields = ["relationship_manager"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "party", "job_title", "email", "is_primary"]
    list_filter = ["is_primary", "party__party_type"]
    search_fields = ["name", "email", "party__name"]
    list_select_related = ["party"]
    raw_id_fields = ["party"]
