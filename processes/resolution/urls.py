from django.urls import include, path

from . import views, views_desk, views_groups

incident_patterns = [
    path("", views.IncidentListView.as_view(), name="list"),
    path("new/", views.IncidentCreateView.as_view(), name="create"),
    path("<int:pk>/", views.IncidentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.IncidentUpdateView.as_view(), name="update"),
]

# Mounted under /t/<tenant-slug>/ by sms/urls.py.
urlpatterns = [
    path("incidents/", include((incident_patterns, "incidents"))),
    # Escalation rules and major incidents (8.1).
    path("", include("processes.resolution.urls_escalation")),
    path("requests/", include(("processes.resolution.urls_requests", "requests"))),
    path("resolution/setup/", views.ResolutionSetupView.as_view(), name="resolution-setup"),
    path("desk/", views_desk.ServiceDeskView.as_view(), name="resolution-desk"),
    path("desk/priority/", views_desk.PriorityPreviewView.as_view(), name="resolution-desk-priority"),
    path("desk/queues/<slug:queue>/", views_desk.QueueView.as_view(), name="resolution-desk-queue"),
    path("incidents/bulk-assign/", views_desk.BulkAssignView.as_view(), name="resolution-bulk-assign"),
    path("desk/groups/", views_groups.SupportGroupListView.as_view(), name="resolution-support-groups"),
    path("desk/groups/<int:pk>/", views_groups.SupportGroupView.as_view(), name="resolution-support-group"),
    path("resolution/calendars/new/", views.CalendarCreateView.as_view(), name="resolution-calendar-create"),
    path("resolution/calendars/<int:pk>/", views.CalendarUpdateView.as_view(), name="resolution-calendar-update"),
    # Problems, known errors and trend analysis (8.2).
    path("", include("processes.resolution.urls_problems")),
]
