"""Browser pages of release and deployment management (clause 9.3): releases (list,
form, page with acceptance criteria, baseline, linked records and post-deployment
incidents), the release calendar, and the release policies."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from itertools import groupby

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from processes.resolution.problem_choices import OPEN_PROBLEM_STATES, KnownErrorState
from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import (
    Column,
    RecordCreateView,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
    record_url,
)

from . import services_releases as rs
from .filters_releases import ReleaseFilterSet
from .models import AcceptanceCriterion, Release, ReleasePolicy
from .release_choices import (
    OUTCOME_COLOURS,
    RELEASE_EDITABLE_STATES,
    RESULT_COLOURS,
    CriterionResult,
    ReleaseState,
    ReleaseType,
)
from .views import SavedThroughServiceMixin

MAX_CALENDAR_DAYS = 366
POLICY_FIELDS = ["service", "release_types", "frequency", "emergency_definition", "incident_window_days", "agreed_with"]


def _policy_url(request) -> str:
    return reverse("release-policy", kwargs={"tenant_slug": request.tenant.slug})


def _errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
    return " ".join(exc.messages)


# --- releases ------------------------------------------------------------------------------------
class ReleaseForm(RecordForm):
    class Meta:
        model = Release
        fields = [
            "title",
            "description",
            "release_type",
            "release_manager",
            "services",
            "cis",
            "changes",
            "problems",
            "known_errors",
            "planned_start",
            "planned_end",
            "deliverables",
            "deployment_method",
            "deployment_plan",
            "test_environment",
            "rollback_plan",
            "rollback_tested",
            "rollback_test_notes",
            "review_notes",
            "owner",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "deliverables": forms.Textarea(attrs={"rows": 3}),
            "deployment_plan": forms.Textarea(attrs={"rows": 3}),
            "rollback_plan": forms.Textarea(attrs={"rows": 3}),
            "rollback_test_notes": forms.Textarea(attrs={"rows": 2}),
            "review_notes": forms.Textarea(attrs={"rows": 4}),
            "planned_start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "planned_end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        labels = {"description": "What the release delivers and why"}

    def __init__(self, *args, by=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        self.fields["services"].queryset = self.fields["services"].queryset.order_by("title")
        self.fields["cis"].queryset = self.fields["cis"].queryset.select_related("ci_type").order_by("title")
        self.fields["cis"].label_from_instance = lambda ci: f"{ci.reference} {ci.title} ({ci.ci_type})"
        for name in ("changes", "problems", "known_errors"):
            self.fields[name].queryset = self.fields[name].queryset.order_by("-number")
            self.fields[name].label_from_instance = lambda r: f"{r.reference} {r.title}"
        # Offer the problems and known errors still open, and those already linked.
        linked = {name: list(getattr(self.instance, name).values_list("pk", flat=True)) if self.instance.pk else []
                  for name in ("problems", "known_errors")}
        self.fields["problems"].queryset = self.fields["problems"].queryset.filter(
            Q(state__in=OPEN_PROBLEM_STATES) | Q(pk__in=linked["problems"])
        )
        self.fields["known_errors"].queryset = self.fields["known_errors"].queryset.filter(
            Q(state=KnownErrorState.OPEN) | Q(pk__in=linked["known_errors"])
        )
        self.fields["release_manager"].help_text = "Empty: you. The release manager never approves the release."
        if self.instance.pk is None or self.instance.state in RELEASE_EDITABLE_STATES:
            del self.fields["review_notes"]
        else:
            # After it went to its approvers only the analysis may still be written.
            for name, field in self.fields.items():
                if name not in ("review_notes", "change_reason"):
                    field.disabled = True
            if self.instance.state not in rs.REVIEW_STATES:
                self.fields["review_notes"].disabled = True

    def save(self, commit: bool = True):
        release = self.instance
        default = "Planned" if release.pk is None else "Edited in the browser"
        reason = self.cleaned_data.get("change_reason") or default
        try:
            if release.pk is not None and not release.is_editable:
                return rs.save_review(release, by=self.by, notes=self.cleaned_data.get("review_notes", ""))
            return rs.save_release(
                release,
                by=self.by,
                reason=reason,
                **{name: self.cleaned_data.get(name) for name in rs.RELATIONS},
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            raise


class _ReleaseFormMixin(SavedThroughServiceMixin):
    model = Release
    form_class = ReleaseForm


class ReleaseListView(RecordListView):
    model = Release
    filterset_class = ReleaseFilterSet
    select_related = ("owner", "release_manager")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("release_type", "Type", sort="release_type"),
        Column("planned_start", "Planned deployment", sort="planned_start"),
        Column("outcome", "Outcome", sort="outcome"),
        Column("incidents_after_count", "Incidents after"),
        Column("release_manager", "Release manager"),
        Column("updated_at", "Changed", sort="updated_at"),
    )
    empty_text = "No releases yet. Plan one for each set of changes that goes live together."

    def get_queryset(self):
        return rs.with_incident_counts(super().get_queryset())


class ReleaseDetailView(RecordDetailView):
    model = Release
    template_name = "control/release_detail.html"
    select_related = ("owner", "created_by", "updated_by", "release_manager", "approved_by", "baseline")
    detail_fields = (
        "release_type",
        "release_manager",
        "planned_start",
        "planned_end",
        "deployment_method",
        "test_environment",
        "approved_by",
        "approved_at",
        "deployment_started_at",
        "deployment_ended_at",
        "outcome",
        "closed_at",
    )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        release = self.object
        incidents = rs.incidents_after(release)
        can_update = self.membership.can("release.update")
        ctx.update(
            services=list(release.services.order_by("title")),
            cis=list(release.cis.select_related("ci_type").order_by("title")),
            changes=list(release.changes.order_by("number")),
            problems=list(release.problems.order_by("number")),
            known_errors=list(release.known_errors.order_by("number")),
            criteria=list(release.criteria.select_related("tested_by")),
            result_colours=RESULT_COLOURS,
            outcome_colour=OUTCOME_COLOURS.get(release.outcome, "grey"),
            incidents_count=incidents.count(),
            incidents=list(incidents.order_by("-created_at")[:20]),
            policies=rs.policies_for(release),
            type_errors=rs.release_type_errors(release),
            can_edit_criteria=can_update and release.state in RELEASE_EDITABLE_STATES,
            can_record_results=can_update and release.state == ReleaseState.IN_TEST,
            results=[(CriterionResult.PASSED, "Passed"), (CriterionResult.FAILED, "Failed")],
        )
        return ctx


class ReleaseCreateView(_ReleaseFormMixin, RecordCreateView):
    def get_initial(self):
        initial = super().get_initial()
        change_id = self.request.GET.get("change", "")
        if change_id.isdigit():
            initial["changes"] = [int(change_id)]
        return initial


class ReleaseUpdateView(_ReleaseFormMixin, RecordUpdateView):
    pass


# --- acceptance criteria --------------------------------------------------------------------------
class _CriterionAction(TenantViewMixin, View):
    capability = "release.update"

    def post(self, request, *args, **kwargs):
        release = get_object_or_404(Release.objects.all(), pk=kwargs["pk"])
        try:
            message = self.act(request, release, kwargs)
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(record_url(release) + "#criteria")


class CriterionAddView(_CriterionAction):
    """POST ``description`` and ``agreed_with``: agree one more acceptance criterion."""

    def act(self, request, release, kwargs) -> str:
        position = release.criteria.count() + 1
        rs.save_criterion(
            AcceptanceCriterion(
                release=release,
                position=position,
                description=request.POST.get("description", ""),
                agreed_with=request.POST.get("agreed_with", "")[:250],
            ),
            by=request.user,
        )
        return "Acceptance criterion added."


class CriterionResultView(_CriterionAction):
    """POST ``result``, ``notes`` and ``environment``: the result of one test."""

    def act(self, request, release, kwargs) -> str:
        criterion = get_object_or_404(release.criteria.all(), pk=kwargs["criterion"])
        criterion = rs.record_result(
            criterion,
            by=request.user,
            result=request.POST.get("result", ""),
            notes=request.POST.get("notes", ""),
            environment=request.POST.get("environment", "")[:150],
        )
        return f"Result recorded: {criterion.get_result_display().lower()}."


class CriterionDeleteView(_CriterionAction):
    def act(self, request, release, kwargs) -> str:
        criterion = get_object_or_404(release.criteria.all(), pk=kwargs["criterion"])
        rs.delete_criterion(criterion, by=request.user)
        return "Acceptance criterion removed."


# --- calendar -----------------------------------------------------------------------------------
class CalendarFilter(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    service = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any service")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from sms.cmdb.models import Service

        self.fields["service"].queryset = Service.objects.order_by("title")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end is before the start.")
            elif (end - start).days > MAX_CALENDAR_DAYS:
                self.add_error("end", f"Show at most {MAX_CALENDAR_DAYS} days at a time.")
        return data


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """From the first day of last month to the last day of the month after next."""
    first = today.replace(day=1)
    start = (first - dt.timedelta(days=1)).replace(day=1)
    year, month = first.year + (first.month + 1) // 12, (first.month + 1) % 12 + 1
    end = dt.date(year, month, cal.monthrange(year, month)[1])
    return start, end


class ReleaseCalendarView(TenantViewMixin, TemplateView):
    """Releases by month and day, past ones with their outcome and the incidents that
    followed them, future ones with their state: for the service desk and for change
    assessment. Filter by service and date range."""

    template_name = "control/release_calendar.html"
    capability = "release.view"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        start, end = default_range(today)
        form = CalendarFilter(self.request.GET or None)
        service = None
        if form.is_bound and form.is_valid():
            span = end - start
            start = form.cleaned_data.get("start") or start
            end = form.cleaned_data.get("end") or max(end, start + span)
            if (end - start).days > MAX_CALENDAR_DAYS:
                end = start + dt.timedelta(days=MAX_CALENDAR_DAYS)
            service = form.cleaned_data.get("service")
        rows = list(rs.with_incident_counts(rs.calendar(start, end, service=service)))
        months = []
        for _month, in_month in groupby(rows, key=lambda r: timezone.localtime(r.deploys_at).strftime("%Y-%m")):
            in_month = list(in_month)
            days = [
                (day, list(on_day))
                for day, on_day in groupby(in_month, key=lambda r: timezone.localtime(r.deploys_at).date())
            ]
            months.append({"label": timezone.localtime(in_month[0].deploys_at).strftime("%B %Y"), "days": days})
        ctx.update(
            form=form,
            start=start,
            end=end,
            months=months,
            total=len(rows),
            today=today,
            outcome_colours=OUTCOME_COLOURS,
            list_url=reverse("releases:list", kwargs={"tenant_slug": self.tenant.slug}),
        )
        return ctx


# --- policy -------------------------------------------------------------------------------------
class ReleasePolicyForm(forms.ModelForm):
    release_types = forms.MultipleChoiceField(
        choices=ReleaseType.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Types of release agreed",
        help_text="A release of another type is refused for these services.",
    )
    service = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="All services (tenant-wide policy)",
        help_text="Empty: the tenant-wide policy, for every service without one of its own.",
    )
    change_reason = forms.CharField(
        required=False, max_length=250, label="Reason for the change", help_text="Kept in the policy's history."
    )

    class Meta:
        model = ReleasePolicy
        fields = POLICY_FIELDS
        widgets = {
            "frequency": forms.Textarea(attrs={"rows": 3}),
            "emergency_definition": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from sms.cmdb.models import Service

        self.fields["service"].queryset = Service.objects.order_by("title")

    def clean(self):
        data = super().clean()
        service = data.get("service")
        clash = ReleasePolicy.objects.filter(service=service) if service else ReleasePolicy.objects.filter(
            service__isnull=True
        )
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error(
                "service",
                "This service already has its own release policy." if service
                else "There is already a tenant-wide release policy.",
            )
        return data


class ReleasePolicyView(TenantViewMixin, TemplateView):
    """The release policies: the tenant-wide one and each service's own. Everyone reads
    them; process owners and administrators agree them."""

    template_name = "control/release_policy.html"
    capability = "releasepolicy.view"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        policies = list(ReleasePolicy.objects.select_related("service").order_by("service__title", "id"))
        ctx.update(
            default=next((p for p in policies if p.service_id is None), None),
            per_service=[p for p in policies if p.service_id is not None],
            can_create=self.membership.can("releasepolicy.create"),
            can_edit=self.membership.can("releasepolicy.update"),
        )
        return ctx


class ReleasePolicyFormView(TenantViewMixin, FormView):
    template_name = "control/release_policy_form.html"
    form_class = ReleasePolicyForm

    def get_capability(self) -> str:
        return f"releasepolicy.{'update' if 'pk' in self.kwargs else 'create'}"

    def get_object(self):
        if "pk" in self.kwargs:
            return get_object_or_404(ReleasePolicy.objects.all(), pk=self.kwargs["pk"])
        return ReleasePolicy()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_object()}

    def form_valid(self, form):
        policy = form.instance
        for key in POLICY_FIELDS:
            setattr(policy, key, form.cleaned_data.get(key))
        try:
            with transaction.atomic():
                rs.save_policy(policy, by=self.request.user, reason=form.cleaned_data.get("change_reason", ""))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        except IntegrityError:
            form.add_error("service", "This service already has a release policy.")
            return self.form_invalid(form)
        messages.success(self.request, f"{policy} saved.")
        return HttpResponseRedirect(_policy_url(self.request))

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "cancel_url": _policy_url(self.request)}
