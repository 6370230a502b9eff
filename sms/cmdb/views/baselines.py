"""Configuration baselines in the browser: take, list, look at, compare (clause 9.1)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView

from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import PageSizeMixin

from ..filters import BaselineFilterSet
from ..models import Baseline
from ..services import diff_baseline, take_baseline, verify_baseline
from .forms import BaselineForm


class BaselineListView(PageSizeMixin, TenantViewMixin, ListView):
    capability = "baseline.view"
    template_name = "cmdb/baseline_list.html"

    def get_queryset(self):
        qs = Baseline.objects.select_related("taken_by").defer("items")
        self.filterset = BaselineFilterSet(self.request.GET or None, queryset=qs, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return qs.none()
        return self.filterset.qs.order_by("-taken_at", "-id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["filter"] = self.filterset
        return ctx


class BaselineCreateView(TenantViewMixin, FormView):
    capability = "baseline.create"
    template_name = "cmdb/baseline_form.html"
    form_class = BaselineForm

    def form_valid(self, form):
        data = form.cleaned_data
        scope = {
            "services": sorted(s.pk for s in data["services"]),
            "ci_types": sorted(t.pk for t in data["ci_types"]),
            "include_dependencies": data["include_dependencies"] and bool(data["services"]),
        }
        baseline = take_baseline(data["name"], description=data["description"], scope=scope, by=self.request.user)
        messages.success(self.request, f"Baseline {baseline.name} taken: {baseline.item_count} CIs.")
        return HttpResponseRedirect(
            reverse("baselines:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": baseline.pk})
        )


class BaselineDetailView(TenantViewMixin, DetailView):
    capability = "baseline.view"
    template_name = "cmdb/baseline_detail.html"
    context_object_name = "baseline"

    def get_queryset(self):
        return Baseline.objects.select_related("taken_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        baseline = self.object
        ctx["verified"] = verify_baseline(baseline)
        ctx["items"] = [baseline.items[k] for k in sorted(baseline.items, key=_ref_number)]
        ctx["others"] = Baseline.objects.exclude(pk=baseline.pk).defer("items").order_by("-taken_at")[:50]
        return ctx


class BaselineDiffView(BaselineDetailView):
    """``?against=current`` (default) or ``?against=<baseline id>``."""

    template_name = "cmdb/baseline_diff.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        against = self.request.GET.get("against", "current")
        other = None
        if against != "current":
            other = get_object_or_404(Baseline.objects.all(), pk=against) if against.isdigit() else None
            if other is None:
                against = "current"
        ctx["against"] = against
        ctx["other"] = other
        ctx["diff"] = diff_baseline(self.object, other)
        return ctx


def _ref_number(reference: str) -> int:
    number = reference.rpartition("-")[2]
    return int(number) if number.isdigit() else 0
