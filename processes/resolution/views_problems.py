"""Browser pages of problem management (clause 8.2): problems, their reviews, the known
error database with its full-text search, the known errors offered while an incident is
logged, and the trend analysis of incidents and information security incidents (6.6.3)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from sms.core.views.mixins import TenantViewMixin, require_capability
from sms.core.views.records import (
    Column,
    RecordCreateView,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
    record_url,
)

from . import services_problems as sp
from . import trends
from .choices import PRIORITY_LEVELS
from .filters_problems import KnownErrorFilterSet, ProblemFilterSet
from .forms_scale import limit_to_scale, matrix_priority
from .models import Category, Incident, KnownError, Problem, ProblemReview
from .problem_choices import FINISHED_PROBLEM_STATES, KnownErrorState


def _category_field(form: forms.ModelForm) -> None:
    field = form.fields.get("category")
    if field is not None:
        field.queryset = Category.objects.filter(is_active=True).select_related("parent__parent")
        field.label_from_instance = lambda c: c.path


# --- problems --------------------------------------------------------------------------------
class ProblemForm(RecordForm):
    priority_override = forms.TypedChoiceField(
        label="Priority",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Computed from impact and urgency"), *[(n, f"P{n}") for n in PRIORITY_LEVELS]],
        help_text="The tenant's impact x urgency matrix decides unless there is a reason to differ.",
    )
    priority_override_reason = forms.CharField(
        label="Reason for overriding the priority", required=False, max_length=500
    )

    class Meta:
        model = Problem
        fields = [
            "title",
            "description",
            "incidents",
            "services",
            "affected_cis",
            "category",
            "impact",
            "urgency",
            "assignment_group",
            "assignee",
            "owner",
            "root_cause",
            "workaround",
            "needs_change",
            "rfc_reference",
            "resolution_notes",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "workaround": forms.Textarea(attrs={"rows": 3}),
            "resolution_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _category_field(self)
        limit_to_scale(self)
        self.fields["incidents"].queryset = Incident.objects.order_by("-number")
        self.fields["incidents"].label_from_instance = lambda i: f"{i.reference} {i.title}"
        if self.instance.pk and self.instance.priority_overridden:
            self.initial.setdefault("priority_override", self.instance.priority)
            self.initial.setdefault("priority_override_reason", self.instance.priority_override_reason)
        if self.instance.pk and self.instance.state in FINISHED_PROBLEM_STATES:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.state in FINISHED_PROBLEM_STATES:
            raise ValidationError("A closed or cancelled problem cannot be changed.")
        override = data.get("priority_override")
        computed = matrix_priority(self, data)
        if override is not None and computed is not None:
            if override != computed and not (data.get("priority_override_reason") or "").strip():
                self.add_error(
                    "priority_override_reason",
                    f"The matrix gives P{computed}; give the reason for choosing P{override}.",
                )
        return data

    def save(self, commit: bool = True):
        # "Computed" is an explicit choice in the form: it drops an earlier override.
        sp.apply_problem_priority(
            self.instance,
            priority=self.cleaned_data.get("priority_override"),
            reason=self.cleaned_data.get("priority_override_reason", ""),
        )
        reason = getattr(self.instance, "_change_reason", "") or ""
        if reason.startswith("Priority overridden") and not self.cleaned_data.get("change_reason"):
            self.cleaned_data["change_reason"] = reason
        return super().save(commit=commit)


class ProblemListView(RecordListView):
    model = Problem
    filterset_class = ProblemFilterSet
    select_related = ("owner", "assignee", "category__parent__parent")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("priority", "Priority", sort="priority"),
        Column("category", "Category"),
        Column("origin", "Origin"),
        Column("assignee", "Investigator"),
        Column("owner", "Owner"),
        Column("updated_at", "Changed", sort="updated_at"),
    )
    empty_text = (
        "No problems recorded. Raise one when incidents repeat or their cause is unknown; "
        "the trend check also proposes them."
    )


class ProblemDetailView(RecordDetailView):
    model = Problem
    template_name = "resolution/problem_detail.html"
    select_related = (
        "owner",
        "created_by",
        "updated_by",
        "assignee",
        "assignment_group",
        "category__parent__parent",
        "trend_ci",
    )
    detail_fields = (
        "origin",
        "category",
        "impact",
        "urgency",
        "priority",
        "priority_override_reason",
        "assignment_group",
        "assignee",
        "root_cause",
        "workaround",
        "needs_change",
        "rfc_reference",
        "resolution_notes",
        "investigation_started_at",
        "known_error_at",
        "resolved_at",
        "closed_at",
    )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        problem = self.object
        ctx.update(
            incidents=list(problem.incidents.select_related("service").order_by("-number")),
            services=list(problem.services.order_by("title")),
            affected_cis=list(problem.affected_cis.order_by("title")),
            known_errors=list(problem.known_errors.order_by("-number")),
            reviews=list(problem.reviews.select_related("created_by")),
            review_form=kwargs.get("review_form") or ReviewForm(),
            can_review=self.membership.can("problem.update") and problem.state in sp.REVIEWABLE_STATES,
            needs_rfc=problem.needs_change and not problem.rfc_reference.strip() and not problem.has_linked_rfc(),
        )
        return ctx


class ProblemCreateView(RecordCreateView):
    model = Problem
    form_class = ProblemForm

    def get_initial(self):
        initial = super().get_initial()
        ids = [i for i in self.request.GET.getlist("incident") if i.isdigit()]
        if ids:
            incidents = list(Incident.objects.filter(pk__in=ids).select_related("category"))
            initial["incidents"] = [i.pk for i in incidents]
            if incidents:
                initial.setdefault("title", incidents[0].title)
                initial.setdefault("category", incidents[0].category_id)
                initial.setdefault("services", [i.service_id for i in incidents if i.service_id])
        return initial


class ProblemUpdateView(RecordUpdateView):
    model = Problem
    form_class = ProblemForm


class ReviewForm(forms.ModelForm):
    class Meta:
        model = ProblemReview
        fields = ["reviewed_on", "participants", "lessons_learned", "root_cause_removed", "recurrence_seen", "actions"]
        widgets = {
            "reviewed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "lessons_learned": forms.Textarea(attrs={"rows": 3}),
            "actions": forms.Textarea(attrs={"rows": 2}),
        }


class ProblemReviewCreateView(TenantViewMixin, View):
    """POST a problem review on a resolved problem."""

    capability = "problem.update"

    def post(self, request, *args, **kwargs):
        problem = get_object_or_404(Problem.objects.all(), pk=kwargs["pk"])
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                sp.add_review(problem, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Review of {problem.reference} recorded.")
                return HttpResponseRedirect(record_url(problem))
        view = ProblemDetailView()
        view.setup(request, *args, **kwargs)
        view.object = problem
        return view.render_to_response(view.get_context_data(object=problem, review_form=form), status=400)


# --- known errors ----------------------------------------------------------------------------
class KnownErrorForm(RecordForm):
    class Meta:
        model = KnownError
        fields = [
            "title",
            "description",
            "symptoms",
            "root_cause",
            "workaround",
            "services",
            "affected_cis",
            "category",
            "problem",
            "owner",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "symptoms": forms.Textarea(attrs={"rows": 3}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "workaround": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _category_field(self)
        self.fields["problem"].label_from_instance = lambda p: f"{p.reference} {p.title}"
        if self.instance.pk and self.instance.state == KnownErrorState.RETIRED:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.state == KnownErrorState.RETIRED:
            raise ValidationError("A retired known error cannot be changed; reinstate it first.")
        if not (data.get("workaround") or "").strip():
            self.add_error("workaround", "Describe the workaround.")
        return data


class KnownErrorListView(RecordListView):
    """The known error database: ``q`` is a full-text search, best matches first."""

    model = KnownError
    filterset_class = KnownErrorFilterSet
    select_related = ("owner", "problem", "category__parent__parent")
    template_name = "resolution/known_error_list.html"
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("category", "Category"),
        Column("workaround", "Workaround"),
        Column("problem", "Problem"),
        Column("updated_at", "Changed", sort="updated_at"),
    )
    empty_text = "The known error database is empty. Known errors are recorded from problems or by the service desk."

    def get_queryset(self):
        qs = super().get_queryset()
        if (self.request.GET.get("q") or "").strip() and "sort" not in self.request.GET and self.filterset.is_valid():
            return qs.order_by("-rank", "-number")
        return qs


class KnownErrorDetailView(RecordDetailView):
    model = KnownError
    template_name = "resolution/known_error_detail.html"
    select_related = ("owner", "created_by", "updated_by", "problem", "category__parent__parent")
    detail_fields = ("problem", "category", "symptoms", "root_cause", "workaround", "retired_at")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            services=list(self.object.services.order_by("title")),
            affected_cis=list(self.object.affected_cis.order_by("title")),
        )
        return ctx


class KnownErrorCreateView(RecordCreateView):
    model = KnownError
    form_class = KnownErrorForm


class KnownErrorUpdateView(RecordUpdateView):
    model = KnownError
    form_class = KnownErrorForm


class KnownErrorSuggestView(TenantViewMixin, TemplateView):
    """htmx fragment for the incident form: open known errors matching what the agent has
    typed and chosen so far, with their workarounds and a box to link each one."""

    capability = "knownerror.view"
    template_name = "resolution/_known_error_suggestions.html"

    def get_context_data(self, **kwargs):
        from sms.cmdb.models import ConfigurationItem, Service

        ctx = super().get_context_data(**kwargs)
        get = self.request.GET

        def one(model, key):
            value = get.get(key, "")
            return model.objects.filter(pk=value).first() if value.isdigit() else None

        ci_ids = [v for v in get.getlist("affected_cis") if v.isdigit()]
        matches = sp.match_known_errors(
            title=get.get("title", "")[:250],
            description=get.get("description", "")[:5000],
            service=one(Service, "service"),
            category=one(Category, "category"),
            cis=list(ConfigurationItem.objects.filter(pk__in=ci_ids).values_list("pk", flat=True)),
        )
        chosen = {int(v) for v in get.getlist("link_known_errors") if v.isdigit()}
        ctx.update(matches=matches, chosen=chosen, typed=bool(get.get("title") or get.get("description")))
        return ctx


class IncidentKnownErrorsView(TenantViewMixin, TemplateView):
    """The problem management section of an incident page (loaded by htmx): the problems
    it belongs to, the known errors linked and the ones that match; POST links one (a
    record link and a journal entry)."""

    capability = "incident.view"
    template_name = "resolution/_incident_known_errors.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.incident = get_object_or_404(
                Incident.objects.select_related("service", "category__parent__parent"), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        incident = self.incident
        linked = list(sp.linked_known_errors(incident).order_by("-number"))
        matches = []
        if self.membership.can("knownerror.view"):
            matches = [
                ke
                for ke in sp.match_known_errors(
                    title=incident.title,
                    description=incident.description,
                    service=incident.service,
                    category=incident.category,
                    cis=list(incident.affected_cis.values_list("pk", flat=True)),
                )
                if ke.pk not in {k.pk for k in linked}
            ]
        ctx.update(
            incident=incident,
            linked=linked,
            matches=matches,
            can_link=self.membership.can("incident.update") and self.membership.can("knownerror.view"),
            problems=list(incident.problems.order_by("-number")) if self.membership.can("problem.view") else [],
            can_raise=self.membership.can("problem.create"),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        require_capability(request, "incident.update")
        require_capability(request, "knownerror.view")
        value = request.POST.get("known_error", "")
        ke = KnownError.objects.filter(pk=value).first() if value.isdigit() else None
        if ke is None:
            messages.error(request, "Choose a known error.")
        else:
            try:
                sp.link_known_error(self.incident, ke, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
            else:
                messages.success(request, f"{ke.reference} linked to {self.incident.reference}.")
        if request.htmx:
            response = self.render_to_response(self.get_context_data())
            response["HX-Trigger"] = "sms:messages"
            return response
        return HttpResponseRedirect(record_url(self.incident))


# --- trend analysis --------------------------------------------------------------------------
class TrendForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Until")
    period = forms.ChoiceField(choices=[(p, p.capitalize()) for p in trends.PERIODS], initial="week", required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("start", "The start is after the end.")
        if start and end and (end - start) > dt.timedelta(days=3 * 366):
            self.add_error("start", "Analyse at most three years at a time.")
        return data


class TrendView(TenantViewMixin, TemplateView):
    """Incident trends per period, service, CI and category (8.2), the information
    security incidents (6.6.3), and the repeating incidents the trend check looks for."""

    capability = "incident.view"
    template_name = "resolution/trends.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = TrendForm(self.request.GET or None)
        w = None
        if not form.is_bound:
            w = trends.window()
        elif form.is_valid():
            data = form.cleaned_data
            try:
                w = trends.window(data["start"], data["end"], data["period"] or "week")
            except ValueError as exc:
                form.add_error("start", str(exc))
        settings_row = sp.services.resolution_settings()
        ctx.update(form=form, window=w, settings=settings_row, can_propose=self.membership.can("problem.create"))
        if w is not None:
            incident_data = trends.incident_trends(w)
            ctx.update(
                incidents=incident_data,
                security=trends.security_trends(w),
                clusters=self._clusters(settings_row),
                peak=max((r["total"] for r in incident_data["per_period"]), default=0),
            )
        return ctx

    def _clusters(self, settings_row) -> list[dict]:
        from sms.cmdb.models import ConfigurationItem

        rows = trends.repeating_clusters(count=settings_row.repeat_count, days=settings_row.repeat_days)[:20]
        cis = ConfigurationItem.objects.in_bulk([r[0] for r in rows])
        cats = Category.objects.select_related("parent__parent").in_bulk([r[1] for r in rows])
        return [{"ci": cis.get(ci), "category": cats.get(cat), "count": n} for ci, cat, n in rows]


class TrendCheckView(TenantViewMixin, View):
    """Run the trend check now (the same work the hourly task does)."""

    capability = "problem.create"

    def post(self, request, *args, **kwargs):
        proposals = trends.propose_problems(by=request.user)
        new = [p.problem.reference for p in proposals if p.created]
        extended = [p.problem.reference for p in proposals if not p.created]
        if not proposals:
            messages.info(request, "No repeating incidents without a problem.")
        if new:
            messages.success(request, f"Problems proposed: {', '.join(new)}.")
        if extended:
            messages.success(request, f"Repeats added to open problems: {', '.join(extended)}.")
        return HttpResponseRedirect(reverse("resolution-trends", kwargs={"tenant_slug": self.tenant.slug}))


# --- the incident form offers known errors ------------------------------------------------------
def link_chosen_known_errors(request, incident: Incident) -> list[str]:
    """Link the known errors the agent ticked in the incident form (``link_known_errors``);
    returns their references. Ids of other tenants' or retired known errors are skipped."""
    if not request.membership.can("knownerror.view"):
        return []
    ids = [v for v in request.POST.getlist("link_known_errors") if v.isdigit()]
    linked = []
    for ke in KnownError.objects.filter(pk__in=ids, state=KnownErrorState.OPEN).order_by("number"):
        if not sp.linked_known_errors(incident).filter(pk=ke.pk).exists():
            sp.link_known_error(incident, ke, by=request.user)
            linked.append(ke.reference)
    return linked


class KnownErrorSuggestionsMixin:
    """For the incident create view: the form shows matching known errors as the agent
    types (``resolution/incident_form.html``), and the ticked ones are linked on save."""

    template_name = "resolution/incident_form.html"

    def form_valid(self, form):
        from django.db import transaction

        with transaction.atomic():
            response = super().form_valid(form)
            if getattr(self, "object", None) is not None and self.object.pk:
                linked = link_chosen_known_errors(self.request, self.object)
                if linked:
                    messages.info(self.request, f"Linked to {', '.join(linked)}.")
        return response
