"""Browser routes of problem management, the known error database and trend analysis
(clause 8.2); included by ``urls.py`` under /t/<tenant-slug>/."""

from django.urls import include, path

from . import views_problems as v

problem_patterns = [
    path("", v.ProblemListView.as_view(), name="list"),
    path("new/", v.ProblemCreateView.as_view(), name="create"),
    path("<int:pk>/", v.ProblemDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", v.ProblemUpdateView.as_view(), name="update"),
    path("<int:pk>/reviews/", v.ProblemReviewCreateView.as_view(), name="review"),
]

known_error_patterns = [
    path("", v.KnownErrorListView.as_view(), name="list"),
    path("new/", v.KnownErrorCreateView.as_view(), name="create"),
    path("suggest/", v.KnownErrorSuggestView.as_view(), name="suggest"),
    path("<int:pk>/", v.KnownErrorDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", v.KnownErrorUpdateView.as_view(), name="update"),
]

urlpatterns = [
    path("problems/", include((problem_patterns, "problems"))),
    path("known-errors/", include((known_error_patterns, "knownerrors"))),
    path(
        "incidents/<int:pk>/known-errors/",
        v.IncidentKnownErrorsView.as_view(),
        name="resolution-incident-known-errors",
    ),
    path("resolution/trends/", v.TrendView.as_view(), name="resolution-trends"),
    path("resolution/trends/check/", v.TrendCheckView.as_view(), name="resolution-trends-check"),
]
