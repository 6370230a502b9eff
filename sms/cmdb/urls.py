from django.urls import include, path

from .views import audits, baselines, catalogue, items, transfer, types

ci_patterns = [
    path("", items.ConfigurationItemListView.as_view(), name="list"),
    path("health/", audits.HealthView.as_view(), name="health"),
    path("export/", transfer.CIExportView.as_view(), name="export"),
    path("export/relationships/", transfer.RelationshipExportView.as_view(), name="export-relationships"),
    path("import/", transfer.ImportView.as_view(), name="import"),
    path("new/", items.ConfigurationItemCreateView.as_view(), name="create"),
    path("<int:pk>/", items.ConfigurationItemDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", items.ConfigurationItemUpdateView.as_view(), name="update"),
    path("<int:pk>/impact/", items.ImpactView.as_view(), name="impact"),
    path("<int:pk>/relationships/", items.RelationshipAddView.as_view(), name="relate"),
    path(
        "<int:pk>/relationships/<int:relationship_id>/delete/",
        items.RelationshipDeleteView.as_view(),
        name="unrelate",
    ),
]

service_patterns = [
    path("", catalogue.ServiceListView.as_view(), name="list"),
    path("new/", catalogue.ServiceCreateView.as_view(), name="create"),
    path("<int:pk>/", catalogue.ServiceDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", catalogue.ServiceUpdateView.as_view(), name="update"),
    path("<int:pk>/impact/", items.ServiceImpactView.as_view(), name="impact"),
]

citype_patterns = [
    path("", types.CITypeListView.as_view(), name="list"),
    path("new/", types.CITypeCreateView.as_view(), name="create"),
    path("<int:pk>/", types.CITypeDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", types.CITypeUpdateView.as_view(), name="update"),
]

baseline_patterns = [
    path("", baselines.BaselineListView.as_view(), name="list"),
    path("new/", baselines.BaselineCreateView.as_view(), name="create"),
    path("<int:pk>/", baselines.BaselineDetailView.as_view(), name="detail"),
    path("<int:pk>/diff/", baselines.BaselineDiffView.as_view(), name="diff"),
]

audit_patterns = [
    path("", audits.CMDBAuditListView.as_view(), name="list"),
    path("new/", audits.CMDBAuditCreateView.as_view(), name="create"),
    path("<int:pk>/", audits.CMDBAuditDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", audits.CMDBAuditUpdateView.as_view(), name="update"),
    path("<int:pk>/verify/", audits.VerifyView.as_view(), name="verify"),
]

# Mounted under /t/<tenant-slug>/ by sms/urls.py.
urlpatterns = [
    path("cis/", include((ci_patterns, "cis"))),
    path("services/", include((service_patterns, "services"))),
    path("ci-types/", include((citype_patterns, "citypes"))),
    path("baselines/", include((baseline_patterns, "baselines"))),
    path("cmdb-audits/", include((audit_patterns, "cmdb-audits"))),
]
