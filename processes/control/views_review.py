"""Browser pages of the look back on changes (clause 9.2): the investigation of a failed
change with its agreed actions, and the change trend reports."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, ListView

from sms.core.api.serializers import tenant_members
from sms.core.views.mixins import TenantViewMixin, require_capability
from sms.core.views.records import PageSizeMixin, record_url
from sms.core.workflow import WorkflowError

from . import services_review
from .choices import ChangeType, Outcome
from .models import Change, ChangeTrendReport
from .models.changes import FAILED_OUTCOMES, investigation_actions

ACTION_ROWS = 3


# --- investigation of a failed change -------------------------------------------------------------
class InvestigationForm(forms.Form):
    findings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text="What went wrong, why, and what it cost the services and customers.",
    )

    def __init__(self, *args, rows: int = ACTION_ROWS, required_actions: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        members = tenant_members().order_by("first_name", "last_name", "username")
        self.rows = rows
        self.required_actions = required_actions
        for i in range(rows):
            self.fields[f"action_{i}_title"] = forms.CharField(
                label=f"Action {i + 1}", max_length=200, required=False, help_text="What is to be done."
            )
            self.fields[f"action_{i}_owner"] = forms.ModelChoiceField(
                label="Owner", queryset=members, required=False, help_text="Who does it (default: you)."
            )
            self.fields[f"action_{i}_due_date"] = forms.DateField(
                label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"})
            )

    def clean(self):
        data = super().clean()
        actions = []
        for i in range(self.rows):
            title = (data.get(f"action_{i}_title") or "").strip()
            owner, due = data.get(f"action_{i}_owner"), data.get(f"action_{i}_due_date")
            if not title:
                if owner or due:
                    self.add_error(f"action_{i}_title", "Say what is to be done, or clear the owner and due date.")
                continue
            if due is not None and due < timezone.localdate():
                self.add_error(f"action_{i}_due_date", "The due date is in the past.")
                continue
            actions.append({"title": title, "owner": owner, "due_date": due})
        if self.required_actions and not actions and not self.errors:
            self.add_error("action_0_title", "Agree at least one action (who does what by when).")
        data["actions"] = actions
        return data

    def action_rows(self):
        return [
            (self[f"action_{i}_title"], self[f"action_{i}_owner"], self[f"action_{i}_due_date"])
            for i in range(self.rows)
        ]


class InvestigationView(TenantViewMixin, FormView):
    """Record the investigation of a failed change; its actions become corrective actions."""

    capability = "change.investigate"
    template_name = "control/investigation.html"
    form_class = InvestigationForm

    def get_change(self) -> Change:
        if not hasattr(self, "_change"):
            self._change = get_object_or_404(Change.objects.select_related("investigated_by"), pk=self.kwargs["pk"])
        return self._change

    def get(self, request, *args, **kwargs):
        change = self.get_change()
        if change.outcome not in FAILED_OUTCOMES:
            messages.info(request, f"{change.reference} did not fail: there is nothing to investigate.")
            return HttpResponseRedirect(record_url(change))
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["required_actions"] = not investigation_actions(self.get_change()).exists()
        return kwargs

    def get_initial(self):
        return {"findings": self.get_change().investigation_findings}

    def form_valid(self, form):
        change = self.get_change()
        try:
            services_review.record_investigation(
                change,
                by=self.request.user,
                findings=form.cleaned_data["findings"],
                actions=form.cleaned_data["actions"],
            )
        except WorkflowError as exc:
            messages.error(self.request, str(exc))
            return HttpResponseRedirect(record_url(change))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error("findings" if field == "findings" else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, f"Investigation of {change.reference} recorded.")
        return HttpResponseRedirect(record_url(change) + "#investigation")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        change = self.get_change()
        ctx.update(record=change, actions=list(investigation_actions(change)), change_url=record_url(change))
        return ctx


# --- change trend reports ----------------------------------------------------------------------
def _trends_url(request, pk: int | None = None) -> str:
    if pk is None:
        return reverse("change-trends:list", kwargs={"tenant_slug": request.tenant.slug})
    return reverse("change-trends:detail", kwargs={"tenant_slug": request.tenant.slug, "pk": pk})


class TrendPeriodForm(forms.ModelForm):
    """The period to analyse; the report's own ``clean()`` checks it."""

    class Meta:
        model = ChangeTrendReport
        fields = ["period_start", "period_end", "incident_window_days"]
        labels = {"incident_window_days": "Incident window (days)"}
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }


class TrendReportListView(PageSizeMixin, TenantViewMixin, ListView):
    capability = "changetrend.view"
    template_name = "control/trend_list.html"

    def get_queryset(self):
        return ChangeTrendReport.objects.select_related("created_by", "reviewed_by", "activity").order_by(
            "-period_end", "-id"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        first_of_month = today.replace(day=1)
        last_quarter_start = (first_of_month - dt.timedelta(days=85)).replace(day=1)
        ctx.update(
            can_create=self.membership.can("changetrend.create"),
            form=kwargs.get("form")
            or TrendPeriodForm(
                initial={"period_start": last_quarter_start, "period_end": first_of_month - dt.timedelta(days=1)}
            ),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        require_capability(request, "changetrend.create")
        form = TrendPeriodForm(request.POST)
        if not form.is_valid():
            self.object_list = self.get_queryset()
            return self.render_to_response(self.get_context_data(form=form), status=400)
        report = services_review.create_trend_report(
            form.cleaned_data["period_start"],
            form.cleaned_data["period_end"],
            incident_window_days=form.cleaned_data["incident_window_days"],
            by=request.user,
        )
        messages.success(request, f"{report} computed.")
        return HttpResponseRedirect(_trends_url(request, report.pk))


class ConclusionsForm(forms.Form):
    conclusions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20000,
        help_text="What the figures tell and which actions follow (raise improvements for them).",
    )


class TrendReportDetailView(TenantViewMixin, DetailView):
    capability = "changetrend.view"
    template_name = "control/trend_detail.html"
    context_object_name = "report"

    def get_queryset(self):
        return ChangeTrendReport.objects.select_related("created_by", "reviewed_by", "activity")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        figures = self.object.figures or {}
        ctx.update(
            figures=figures,
            type_rows=[(ChangeType(t).label, n) for t, n in (figures.get("by_type") or {}).items()],
            outcome_rows=[(Outcome(o).label, n) for o, n in (figures.get("by_outcome") or {}).items()],
            can_conclude=self.membership.can("changetrend.update"),
            conclusions_form=kwargs.get("conclusions_form")
            or ConclusionsForm(initial={"conclusions": self.object.conclusions}),
            list_url=_trends_url(self.request),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        require_capability(request, "changetrend.update")
        self.object = self.get_object()
        form = ConclusionsForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(conclusions_form=form), status=400)
        services_review.conclude_trend_report(self.object, by=request.user, **form.cleaned_data)
        messages.success(request, "Conclusions recorded.")
        return HttpResponseRedirect(_trends_url(request, self.object.pk))


def investigation_context(change: Change, membership) -> dict:
    """What the change page shows about a failed change's investigation."""
    if change.outcome not in FAILED_OUTCOMES:
        return {"investigation_needed": False}
    return {
        "investigation_needed": True,
        "investigation_actions": list(investigation_actions(change)),
        "can_investigate": membership.can("change.investigate") and change.state != "closed",
    }
