"""Browser routes of change management (clause 9.2), under /t/<tenant-slug>/."""

from django.urls import include, path

from . import views as v
from . import views_review as vr
from . import views_schedule as sv

change_patterns = [
    path("", v.ChangeListView.as_view(), name="list"),
    path("new/", v.ChangeCreateView.as_view(), name="create"),
    path("approvals/", v.ApprovalsInboxView.as_view(), name="approvals"),
    path("calendar/", sv.CalendarView.as_view(), name="calendar"),
    path("calendar/feed-key/", sv.FeedKeyView.as_view(), name="feed-key"),
    path("calendar/feed/<slug:key>.ics", sv.FeedView.as_view(), name="calendar-feed"),
    path("<int:pk>/reschedule/", sv.RescheduleView.as_view(), name="reschedule"),
    path("<int:pk>/", v.ChangeDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", v.ChangeUpdateView.as_view(), name="update"),
    path("<int:pk>/decide/", v.DecideView.as_view(), name="decide"),
    path("<int:pk>/investigation/", vr.InvestigationView.as_view(), name="investigation"),
]

trend_patterns = [
    path("", vr.TrendReportListView.as_view(), name="list"),
    path("<int:pk>/", vr.TrendReportDetailView.as_view(), name="detail"),
]

urlpatterns = [
    path("change-trends/", include((trend_patterns, "change-trends"))),
    path("changes/", include((change_patterns, "changes"))),
    path("change-policy/", v.PolicyView.as_view(), name="change-policy"),
    path("change-policy/rules/new/", v.ApprovalRuleFormView.as_view(), name="change-rule-create"),
    path("change-policy/rules/<int:pk>/", v.ApprovalRuleFormView.as_view(), name="change-rule-update"),
    path("change-policy/templates/new/", v.TemplateFormView.as_view(), name="change-template-create"),
    path("change-policy/templates/<int:pk>/", v.TemplateFormView.as_view(), name="change-template-update"),
    path("change-policy/templates/<int:pk>/approve/", v.TemplateApproveView.as_view(), name="change-template-approve"),
    path("change-policy/blackouts/new/", v.BlackoutFormView.as_view(), name="change-blackout-create"),
    path("change-policy/blackouts/<int:pk>/", v.BlackoutFormView.as_view(), name="change-blackout-update"),
]

# Release and deployment management (clause 9.3).
from .urls_releases import urlpatterns as release_urlpatterns  # noqa: E402

urlpatterns += release_urlpatterns
