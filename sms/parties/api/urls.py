from sms.core.api.router import router

from .views import ContactViewSet, PartyViewSet

router.register("parties", PartyViewSet, basename="party")
router.register("contacts", ContactViewSet, basename="contact")
