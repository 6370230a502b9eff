from django.db.models import Prefetch

from sms.core.api.views import TenantModelViewSet

from ..filters import ContactFilterSet, PartyFilterSet
from ..models import Contact, Party
from .serializers import ContactSerializer, PartySerializer


class PartyViewSet(TenantModelViewSet):
    """Customers, suppliers, internal groups and other interested parties, with contacts."""

    queryset = Party.unscoped.none()
    serializer_class = PartySerializer
    filterset_class = PartyFilterSet
    capability_area = "party"
    search_fields = ["name", "description"]
    ordering_fields = ["name", "party_type", "created_at"]

    def scoped_queryset(self):
        return Party.objects.select_related("relationship_manager").prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "name"))
        )

    def perform_destroy(self, instance):
        # Contracts, SLAs and history point at parties: a party leaves by being deactivated.
        instance.is_active = False
        instance.save(reason="Deactivated through the API")


class ContactViewSet(TenantModelViewSet):
    """People at the parties; they need not be users of the application."""

    queryset = Contact.unscoped.none()
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    capability_area = "party"
    search_fields = ["name", "email", "job_title", "party__name"]
    ordering_fields = ["name", "party__name", "created_at"]

    @property
    def action_capabilities(self) -> dict[str, str]:
        # Removing a contact changes the party's record; it is not a deletion of the party.
        return {"destroy": "party.update"}

    def scoped_queryset(self):
        return Contact.objects.select_related("party")

