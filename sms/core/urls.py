"""Browser URLs of the kernel. Tenant pages live under ``/t/<tenant-slug>/``; each app
adds its own under the same prefix (see ``sms/urls.py``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .views import outbox, pages, records

record = "t/<slug:tenant_slug>/records/<slug:kind>/<int:pk>/"

urlpatterns = [
    path("", pages.start, name="start"),
    path("login/", pages.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<slug:tenant_slug>/", pages.HomeView.as_view(), name="home"),
    path("t/<slug:tenant_slug>/members/", pages.MembersView.as_view(), name="members"),
    path("t/<slug:tenant_slug>/search/", pages.SearchView.as_view(), name="search"),
    path("t/<slug:tenant_slug>/planned/", pages.PlannedListView.as_view(), name="planned"),
    path("t/<slug:tenant_slug>/planned/new/", pages.PlannedCreateView.as_view(), name="planned-create"),
    path("t/<slug:tenant_slug>/planned/<int:pk>/edit/", pages.PlannedUpdateView.as_view(), name="planned-edit"),
    path("t/<slug:tenant_slug>/planned/<int:pk>/complete/", pages.planned_complete, name="planned-complete"),
    path("t/<slug:tenant_slug>/outbox/", outbox.OutboxListView.as_view(), name="outbox"),
    path("t/<slug:tenant_slug>/outbox/<int:pk>/retry/", outbox.outbox_retry, name="outbox-retry"),
    path(record + "transitions/<slug:name>/", records.TransitionView.as_view(), name="record-transition"),
    path(record + "journal/", records.JournalView.as_view(), name="record-journal"),
    path(record + "attachments/", records.AttachmentUploadView.as_view(), name="record-attach"),
    path(record + "attachments/<int:attachment_id>/", records.AttachmentDownloadView.as_view(),
         name="record-attachment"),
    path(record + "links/", records.LinkAddView.as_view(), name="record-link"),
    path(record + "links/<int:link_id>/delete/", records.LinkDeleteView.as_view(), name="record-unlink"),
    path(record + "watch/", records.WatchView.as_view(), name="record-watch"),
]
