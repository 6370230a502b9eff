from django.contrib import admin
from django.urls import include, path

from sms.health import healthz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("sms.core.api.urls")),
    path("", include("sms.core.urls")),
]
