from django.urls import include, path

from . import views

document_patterns = [
    path("", views.DocumentListView.as_view(), name="list"),
    path("register.csv", views.DocumentExportView.as_view(), name="export"),
    path("processes/", views.ProcessCoverageView.as_view(), name="processes"),
    path("approval-rules/", views.ApprovalRulesView.as_view(), name="approval-rules"),
    path("new/", views.DocumentCreateView.as_view(), name="create"),
    path("<int:pk>/", views.DocumentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.DocumentUpdateView.as_view(), name="update"),
    path("<int:pk>/review/", views.ReviewView.as_view(), name="review"),
    path("<int:pk>/distribution/", views.DistributionAddView.as_view(), name="distribution-add"),
    path("<int:pk>/distribution/<int:entry_id>/remove/", views.DistributionRemoveView.as_view(),
         name="distribution-remove"),
    path("<int:pk>/versions/new/", views.VersionCreateView.as_view(), name="version-create"),
    path("versions/<int:vpk>/", views.VersionDetailView.as_view(), name="version"),
    path("versions/<int:vpk>/edit/", views.VersionUpdateView.as_view(), name="version-update"),
    path("versions/<int:vpk>/transitions/<slug:name>/", views.VersionTransitionView.as_view(),
         name="version-transition"),
    path("versions/<int:vpk>/pdf/", views.VersionPdfView.as_view(), name="version-pdf"),
    path("versions/<int:vpk>/file/", views.VersionFileView.as_view(), name="version-file"),
    path("versions/<int:vpk>/acknowledge/", views.AcknowledgeView.as_view(), name="version-acknowledge"),
]

# Mounted under /t/<tenant-slug>/ by sms/urls.py.
urlpatterns = [
    path("documents/", include((document_patterns, "documents"))),
]
