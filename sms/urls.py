from django.contrib import admin
from django.urls import include, path

from sms.health import healthz

# Each app's browser pages, mounted under /t/<tenant-slug>/.
TENANT_APPS = ["governance.urls", "sms.cmdb.urls", "sms.parties.urls", "documents.urls", "documents.retention.urls",
               "processes.resolution.urls", "processes.control.urls"]

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("sms.core.api.urls")),
    path("", include("sms.core.urls")),
    *[path("t/<slug:tenant_slug>/", include(module)) for module in TENANT_APPS],
]
