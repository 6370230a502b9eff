"""CI types in the browser: everyone reads the documented definitions; tenant
administrators maintain them (clause 9.1)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.urls import reverse
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from sms.core.views.mixins import TenantViewMixin

from ..choices import RelationshipKind
from ..models import CIType
from .forms import CITypeForm


class CITypeListView(TenantViewMixin, ListView):
    capability = "citype.view"
    template_name = "cmdb/citype_list.html"
    context_object_name = "types"

    def get_queryset(self):
        return CIType.objects.annotate(ci_count=Count("items")).order_by("-is_active", "name")


class CITypeDetailView(TenantViewMixin, DetailView):
    capability = "citype.view"
    template_name = "cmdb/citype_detail.html"
    context_object_name = "ci_type"

    def get_queryset(self):
        return CIType.objects.annotate(ci_count=Count("items"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["relationship_labels"] = [RelationshipKind(k).label for k in self.object.allowed_relationships]
        ctx["history"] = list(self.object.history.select_related("history_user")[:20])
        return ctx


class _CITypeFormMixin(TenantViewMixin):
    capability = "citype.manage"
    model = CIType
    form_class = CITypeForm
    template_name = "cmdb/citype_form.html"

    def get_success_url(self) -> str:
        return reverse("citypes:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": self.object.pk})

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"CI type {self.object.name} saved.")
        return response


class CITypeCreateView(_CITypeFormMixin, CreateView):
    pass


class CITypeUpdateView(_CITypeFormMixin, UpdateView):
    def get_queryset(self):
        return CIType.objects.all()
