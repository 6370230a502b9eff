"""The catalogue of services in the browser (clause 6.1): every member may read it."""

from __future__ import annotations

from django.db.models import Prefetch

from sms.core.views.records import Column, RecordCreateView, RecordDetailView, RecordListView, RecordUpdateView

from ..filters import ServiceFilterSet
from ..models import ConfigurationItem, Service
from .forms import ServiceForm


class ServiceListView(RecordListView):
    model = Service
    filterset_class = ServiceFilterSet
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Service", sort="title", link=True),
        Column("state", "Status", sort="state", badge=True),
        Column("criticality", "Criticality", sort="criticality"),
        Column("hours_of_service", "Hours of service"),
        Column("owner", "Owner"),
    )
    empty_text = "The catalogue of services is empty. Add the services you agree with your customers."


class ServiceDetailView(RecordDetailView):
    model = Service
    template_name = "cmdb/service_detail.html"
    detail_fields = ("criticality", "hours_of_service", "is_customer_facing")

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related(
                "customers",
                Prefetch("components", queryset=ConfigurationItem.objects.select_related("ci_type").order_by("number")),
                Prefetch("depends_on", queryset=Service.objects.order_by("number")),
                Prefetch("needed_by", queryset=Service.objects.order_by("number")),
            )
        )


class ServiceCreateView(RecordCreateView):
    model = Service
    form_class = ServiceForm


class ServiceUpdateView(RecordUpdateView):
    model = Service
    form_class = ServiceForm
