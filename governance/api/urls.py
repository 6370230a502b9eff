from sms.core.api.router import router

from .views import ImprovementViewSet

router.register("improvements", ImprovementViewSet, basename="improvement")
