from django.urls import include, path

from . import views

disposal_patterns = [
    path("", views.DisposalRunListView.as_view(), name="list"),
    path("new/", views.DisposalProposeView.as_view(), name="create"),
    path("<int:pk>/", views.DisposalRunDetailView.as_view(), name="detail"),
]

# Mounted under /t/<tenant-slug>/ by sms/urls.py.
urlpatterns = [
    path("retention/", views.RetentionView.as_view(), name="retention"),
    path("retention/tombstones/", views.TombstoneListView.as_view(), name="tombstones"),
    path("retention/disposals/", include((disposal_patterns, "disposals"))),
]
