from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("sms.core.api.urls")),
    path("", include("sms.core.urls")),
]
