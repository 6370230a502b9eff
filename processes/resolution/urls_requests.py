"""Pages of service request fulfilment, mounted at /t/<tenant-slug>/requests/ in the
``requests`` namespace (the record kind's ``url_namespace``)."""

from django.urls import path

from . import views_requests as v

urlpatterns = [
    path("", v.ServiceRequestListView.as_view(), name="list"),
    # "New request" starts from the catalogue: the item decides what is asked.
    path("catalogue/", v.CatalogueView.as_view(), name="create"),
    path("catalogue/", v.CatalogueView.as_view(), name="catalogue"),
    path("catalogue/<int:item_id>/request/", v.RequestSubmitView.as_view(), name="submit"),
    path("approvals/", v.ApprovalsView.as_view(), name="approvals"),
    path("items/", v.CatalogueItemListView.as_view(), name="items"),
    path("items/new/", v.CatalogueItemCreateView.as_view(), name="item-create"),
    path("items/<int:item_id>/", v.CatalogueItemUpdateView.as_view(), name="item-update"),
    path("<int:pk>/", v.ServiceRequestDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", v.ServiceRequestUpdateView.as_view(), name="update"),
    path("<int:pk>/tasks/<int:task_id>/complete/", v.TaskCompleteView.as_view(), name="task-complete"),
]
