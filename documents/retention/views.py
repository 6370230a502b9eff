"""Browser pages for retention rules, legal holds, disposal runs and tombstones."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import capfirst
from django.views import View
from django.views.generic import ListView, TemplateView

from sms.core.registry import kinds
from sms.core.views.mixins import TenantViewMixin, require_capability
from sms.core.views.records import Column, RecordDetailView, RecordListView

from . import services
from .filters import DisposalRunFilterSet
from .models import DisposalItem, DisposalRun, LegalHold, RetentionRule, Tombstone


class RetentionRuleForm(forms.ModelForm):
    record_kind = forms.ChoiceField(label="Kind of record")

    class Meta:
        model = RetentionRule
        fields = ["record_kind", "retain_months", "action", "rationale", "is_active"]
        widgets = {"rationale": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_kind"].choices = [(k.code, capfirst(k.label_plural)) for k in kinds if k.closed_states]


class HoldForm(forms.Form):
    reference = forms.CharField(max_length=32, help_text="Reference of the record, e.g. IMP-12.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        ref = (data.get("reference") or "").strip()
        prefix = ref.split("-")[0].upper()
        kind = next((k for k in kinds if k.prefix == prefix), None)
        record = kind.model.objects.filter(reference__iexact=ref).first() if kind else None
        if record is None:
            raise forms.ValidationError({"reference": f"No record with reference {ref!r}."})
        if LegalHold.objects.filter(record_kind=kind.code, object_id=record.pk, released_at__isnull=True).exists():
            raise forms.ValidationError({"reference": f"{record.reference} is already on hold."})
        data["kind"], data["record"] = kind, record
        return data


class RetentionView(TenantViewMixin, TemplateView):
    """Rules and holds on one page; administrators edit them here."""

    capability = "retention.view"
    template_name = "retention/overview.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        editing = self.request.GET.get("edit")
        instance = RetentionRule.objects.filter(pk=editing).first() if editing and editing.isdigit() else None
        ctx.update(
            rules=list(RetentionRule.objects.order_by("record_kind")),
            holds=list(LegalHold.objects.filter(released_at__isnull=True).select_related("created_by")),
            rule_form=kwargs.get("rule_form") or RetentionRuleForm(instance=instance),
            editing=instance,
            hold_form=kwargs.get("hold_form") or HoldForm(),
            kinds_without_closure=[k for k in kinds if not k.closed_states],
        )
        return ctx

    def post(self, request, *args, **kwargs):
        here = reverse("retention", kwargs={"tenant_slug": self.tenant.slug})
        what = request.POST.get("form")
        if what == "rule":
            require_capability(request, "retention.manage")
            pk = request.POST.get("rule_id")
            instance = get_object_or_404(RetentionRule.objects.all(), pk=pk) if pk else None
            form = RetentionRuleForm(request.POST, instance=instance)
            if form.is_valid():
                form.instance._change_reason = "Changed in the browser" if instance else "Created"
                try:
                    form.save()
                except IntegrityError:
                    form.add_error("record_kind", "This kind of record already has a retention rule.")
                else:
                    messages.success(request, "Retention rule saved.")
                    return HttpResponseRedirect(here)
            return self.render_to_response(self.get_context_data(rule_form=form))
        if what == "hold":
            require_capability(request, "legalhold.manage")
            form = HoldForm(request.POST)
            if form.is_valid():
                services.place_hold(
                    record_kind=form.cleaned_data["kind"].code,
                    object_id=form.cleaned_data["record"].pk,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
                messages.success(request, f"{form.cleaned_data['record'].reference} is on legal hold.")
                return HttpResponseRedirect(here)
            return self.render_to_response(self.get_context_data(hold_form=form))
        if what == "release":
            require_capability(request, "legalhold.manage")
            hold = get_object_or_404(LegalHold.objects.filter(released_at__isnull=True), pk=request.POST.get("hold"))
            reason = request.POST.get("reason", "").strip()
            if not reason:
                messages.error(request, "Give the reason for releasing the hold.")
            else:
                services.release_hold(hold, by=request.user, reason=reason)
                messages.success(request, f"Hold on {hold.reference} released.")
            return HttpResponseRedirect(here)
        messages.error(request, "Unknown action.")
        return HttpResponseRedirect(here)


class DisposalRunListView(RecordListView):
    model = DisposalRun
    filterset_class = DisposalRunFilterSet
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("created_by", "Proposed by"),
        Column("approved_by", "Approved by"),
        Column("executed_at", "Executed", sort="executed_at"),
    )
    select_related = ("owner", "created_by", "approved_by")
    empty_text = "No disposal runs yet. A run lists the closed records whose retention period has ended."


class DisposalRunDetailView(RecordDetailView):
    model = DisposalRun
    select_related = ("owner", "created_by", "updated_by", "approved_by", "executed_by")
    detail_fields = ("approved_by", "approved_at", "executed_by", "executed_at")
    template_name = "retention/run_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["items"] = list(DisposalItem.objects.filter(run=self.object).select_related("rule"))
        ctx["can_edit"] = False  # a run's content is what was proposed; it is only approved or cancelled
        return ctx


class DisposalProposeView(TenantViewMixin, View):
    capability = "disposal.create"

    def get(self, request, *args, **kwargs):
        return HttpResponseRedirect(reverse("disposals:list", kwargs={"tenant_slug": self.tenant.slug}))

    def post(self, request, *args, **kwargs):
        try:
            run = services.propose_run(by=request.user)
        except services.NothingToDispose as exc:
            messages.info(request, str(exc))
            return HttpResponseRedirect(reverse("disposals:list", kwargs={"tenant_slug": self.tenant.slug}))
        messages.success(request, f"{run.reference} proposed: {run.items.count()} record(s) to approve.")
        return HttpResponseRedirect(reverse("disposals:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": run.pk}))


class TombstoneListView(TenantViewMixin, ListView):
    capability = "retention.view"
    template_name = "retention/tombstones.html"
    paginate_by = 50

    def get_queryset(self):
        return Tombstone.objects.select_related("executed_by", "run").order_by("-executed_at", "-id")
