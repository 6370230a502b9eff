"""Browser routes of release and deployment management (clause 9.3), under /t/<tenant-slug>/."""

from django.urls import include, path

from . import views_releases as v

release_patterns = [
    path("", v.ReleaseListView.as_view(), name="list"),
    path("new/", v.ReleaseCreateView.as_view(), name="create"),
    path("calendar/", v.ReleaseCalendarView.as_view(), name="calendar"),
    path("<int:pk>/", v.ReleaseDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", v.ReleaseUpdateView.as_view(), name="update"),
    path("<int:pk>/criteria/", v.CriterionAddView.as_view(), name="criterion-add"),
    path("<int:pk>/criteria/<int:criterion>/result/", v.CriterionResultView.as_view(), name="criterion-result"),
    path("<int:pk>/criteria/<int:criterion>/delete/", v.CriterionDeleteView.as_view(), name="criterion-delete"),
]

urlpatterns = [
    path("releases/", include((release_patterns, "releases"))),
    path("release-policy/", v.ReleasePolicyView.as_view(), name="release-policy"),
    path("release-policy/new/", v.ReleasePolicyFormView.as_view(), name="release-policy-create"),
    path("release-policy/<int:pk>/", v.ReleasePolicyFormView.as_view(), name="release-policy-update"),
]
