from django.urls import include, path

from . import views

improvement_patterns = [
    path("", views.ImprovementListView.as_view(), name="list"),
    path("new/", views.ImprovementCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ImprovementDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ImprovementUpdateView.as_view(), name="update"),
]

# Mounted under /t/<tenant-slug>/ by sms/urls.py.
urlpatterns = [
    path("improvements/", include((improvement_patterns, "improvements"))),
]
