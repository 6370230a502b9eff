"""All API routes under /api/v1/. Apps add their viewsets to ``router`` in their own
``api/urls.py`` (imported here), so the generic tests find every route in one place."""

from importlib import import_module

from django.apps import apps
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from sms.tenancy.api.views import MembershipViewSet, MeView, TokenView

from .outbox import OutboundMessageViewSet
from .router import router
from .views import PlannedActivityViewSet, SearchView

router.register("members", MembershipViewSet, basename="member")
router.register("planned-activities", PlannedActivityViewSet, basename="plannedactivity")
router.register("outbox", OutboundMessageViewSet, basename="outboundmessage")

for config in apps.get_app_configs():
    if config.name.startswith(("sms.", "processes.", "governance", "documents", "reporting")):
        try:
            import_module(f"{config.name}.api.urls")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.api" and exc.name != f"{config.name}.api.urls":
                raise

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("search/", SearchView.as_view(), name="api-search"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]
