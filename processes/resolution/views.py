"""Browser pages of the resolution processes (clause 8): incidents, and the set-up of
priorities, targets, service calendars and categories."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from sms.core.views.mixins import TenantViewMixin, require_capability
from sms.core.views.records import (
    Column,
    RecordCreateView,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
)

from . import services, services_desk, services_matrix
from . import working_time as wt
from .choices import MATRIX_SIZES, OPEN_STATES, PRIORITY_LEVELS, IncidentState, scale_choices, short_label
from .filters import IncidentFilterSet
from .forms_scale import limit_to_scale, matrix_priority
from .models import Category, Incident, PriorityLevel, PriorityMatrixCell, ServiceCalendar, ServiceHours
from .views_problems import KnownErrorSuggestionsMixin

CONFIGURE = "resolution.configure"


# --- incidents ----------------------------------------------------------------------------
class IncidentForm(RecordForm):
    priority_override = forms.TypedChoiceField(
        label="Priority",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Computed from impact and urgency"), *[(n, f"P{n}") for n in PRIORITY_LEVELS]],
        help_text="Leave it to the matrix unless there is a reason to differ.",
    )
    priority_override_reason = forms.CharField(
        label="Reason for overriding the priority",
        required=False,
        max_length=500,
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "caller",
            "customer",
            "service",
            "affected_cis",
            "category",
            "impact",
            "urgency",
            "channel",
            "is_security",
            "assignment_group",
            "assignee",
            "owner",
            "resolution_code",
            "resolution_notes",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "resolution_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda c: c.path
        self.fields["category"].queryset = Category.objects.filter(is_active=True).select_related("parent__parent")
        limit_to_scale(self)
        if self.instance.pk and self.instance.priority_overridden:
            self.initial.setdefault("priority_override", self.instance.priority)
            self.initial.setdefault("priority_override_reason", self.instance.priority_override_reason)
        if self.instance.pk and self.instance.state in (IncidentState.CLOSED, IncidentState.CANCELLED):
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.state in (IncidentState.CLOSED, IncidentState.CANCELLED):
            raise ValidationError("A closed or cancelled incident cannot be changed.")
        customer, caller = data.get("customer"), data.get("caller")
        if caller is not None and customer is not None and caller.party.is_customer and caller.party_id != customer.pk:
            self.add_error("caller", f"{caller.name} works for {caller.party}, not {customer}.")
        if caller is not None and customer is None and caller.party.is_customer:
            data["customer"] = caller.party
            self.instance.customer = caller.party
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
        incident = self.instance
        adding = incident._state.adding
        before = (
            None if adding else Incident.objects.filter(pk=incident.pk).values_list("priority", "service_id").first()
        )
        override = self.cleaned_data.get("priority_override")
        # In the form "computed" is an explicit choice: it drops an earlier override.
        services.apply_priority(
            incident,
            priority=override
            if override is not None
            else services.computed_priority(incident.impact, incident.urgency),
            reason=self.cleaned_data.get("priority_override_reason", ""),
        )
        if adding or before != (incident.priority, incident.service_id):
            services.schedule(incident)
        reason = getattr(incident, "_change_reason", "") or ""
        if reason.startswith("Priority overridden") and not self.cleaned_data.get("change_reason"):
            self.cleaned_data["change_reason"] = reason
        saved = super().save(commit=commit)
        if commit:
            from sms.tenancy import context

            from .services_major import auto_declare

            auto_declare(saved, by=context.get_current_user())
        return saved


class _IncidentFormView:
    model = Incident
    form_class = IncidentForm


class IncidentListView(RecordListView):
    model = Incident
    filterset_class = IncidentFilterSet
    select_related = ("owner", "assignee", "service", "assignment_group")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("priority", "Priority", sort="priority"),
        Column("service", "Service"),
        Column("assignment_group", "Group"),
        Column("assignee", "Assignee"),
        Column("resolution_due_at", "Resolve by", sort="resolution_due_at"),
        Column("resolution_breached", "Breached", sort="resolution_breached"),
    )
    empty_text = "No incidents logged. Log one when a user reports an interruption or a monitoring alert fires."
    template_name = "resolution/incident_list.html"
    results_template = "resolution/_incident_results.html"

    def get_context_data(self, **kwargs):
        from .views_desk import bulk_choices

        ctx = super().get_context_data(**kwargs)
        ctx["can_bulk_assign"] = self.membership.can("incident.update")
        if ctx["can_bulk_assign"] and ctx["object_list"]:
            ctx.update(bulk_choices())
        return ctx


class IncidentDetailView(RecordDetailView):
    model = Incident
    select_related = (
        "owner",
        "created_by",
        "updated_by",
        "assignee",
        "service",
        "caller__party",
        "customer",
        "category__parent__parent",
        "assignment_group",
    )
    template_name = "resolution/incident_detail.html"
    detail_fields = (
        "caller",
        "customer",
        "service",
        "category",
        "impact",
        "urgency",
        "priority",
        "priority_override_reason",
        "assignment_group",
        "assignee",
        "channel",
        "is_security",
        "resolution_code",
        "resolution_notes",
        "responded_at",
        "response_due_at",
        "response_breached",
        "resolution_due_at",
        "resolution_breached",
        "paused_since",
        "paused_minutes",
        "resolved_at",
        "closed_at",
    )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["affected_cis"] = list(self.object.affected_cis.order_by("title"))
        ctx["remaining_minutes"] = services.remaining_minutes(self.object)
        ctx["reopen_deadline"] = services.reopen_deadline(self.object)
        ctx["timeline"] = services_desk.timeline(self.object)
        return ctx


class IncidentCreateView(KnownErrorSuggestionsMixin, _IncidentFormView, RecordCreateView):
    """Logging an incident offers the known errors that match it (clause 8.2)."""


class IncidentUpdateView(_IncidentFormView, RecordUpdateView):
    pass


# --- set-up ---------------------------------------------------------------------------------
class LevelForm(forms.ModelForm):
    class Meta:
        model = PriorityLevel
        fields = ["name", "response_minutes", "resolution_minutes"]


class SettingsForm(forms.Form):
    reopen_days = forms.IntegerField(label="Reopen window (days)", min_value=0, max_value=365)
    at_risk_percent = forms.IntegerField(label="At risk from (% of target)", min_value=1, max_value=100)
    default_calendar = forms.ModelChoiceField(
        queryset=ServiceCalendar.unscoped.none(), required=False, empty_label="None: 24x7"
    )
    repeat_count = forms.IntegerField(
        label="Repeating incidents (N)",
        min_value=2,
        max_value=100,
        help_text="This many incidents on one CI in one category within the window propose a problem.",
    )
    repeat_days = forms.IntegerField(label="Repeat window (days, D)", min_value=1, max_value=365)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_calendar"].queryset = ServiceCalendar.objects.all()


class SwitchMatrixForm(forms.Form):
    """Switch between a 3 x 3 and a 5 x 5 matrix; the ticked box is the confirmation that
    the current cells are replaced by the default of the new size."""

    matrix_size = forms.TypedChoiceField(
        label="Levels of impact and urgency",
        coerce=int,
        choices=[(n, f"{n} levels ({n} x {n} matrix)") for n in MATRIX_SIZES],
    )
    reason = forms.CharField(label="Reason", required=False, max_length=500)
    confirm = forms.BooleanField(
        label="Replace the current matrix by the default matrix of this size",
        help_text="Every cell is reset; the targets per priority stay. Incidents keep their impact, urgency and "
        "priority.",
    )


class ServiceHoursForm(forms.Form):
    service = forms.ModelChoiceField(queryset=ServiceCalendar.unscoped.none())
    calendar = forms.ModelChoiceField(queryset=ServiceCalendar.unscoped.none())

    def __init__(self, *args, **kwargs):
        from sms.cmdb.models import Service

        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.order_by("title")
        self.fields["calendar"].queryset = ServiceCalendar.objects.all()


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    parent = forms.ModelChoiceField(queryset=Category.unscoped.none(), required=False, empty_label="(top level)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Category.objects.select_related("parent__parent").order_by("name")
        self.fields["parent"].label_from_instance = lambda c: c.path


class ResolutionSetupView(TenantViewMixin, TemplateView):
    """The impact x urgency matrix, targets, settings, service calendars and hours, and
    categories, on one page; tenant administrators edit them here."""

    capability = "incident.view"
    template_name = "resolution/setup.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        settings_row = services.ensure_defaults()
        cells = {(c.impact, c.urgency): c for c in PriorityMatrixCell.objects.all()}
        levels = list(PriorityLevel.objects.order_by("level"))
        size = settings_row.matrix_size
        scale = range(1, size + 1)
        ctx.update(
            levels=levels,
            matrix_rows=[
                (f"{i} {short_label(i, size)}", [(f"{u} {short_label(u, size)}", cells[(i, u)]) for u in scale])
                for i in scale
            ],
            urgencies=[f"{u} {short_label(u, size)}" for u in scale],
            impact_scale=scale_choices("impact", size),
            urgency_scale=scale_choices("urgency", size),
            level_choices=PRIORITY_LEVELS,
            switch_form=kwargs.get("switch_form")
            or SwitchMatrixForm(initial={"matrix_size": 5 if size == 3 else 3}),
            settings=settings_row,
            settings_form=kwargs.get("settings_form")
            or SettingsForm(
                initial={
                    "reopen_days": settings_row.reopen_days,
                    "at_risk_percent": settings_row.at_risk_percent,
                    "default_calendar": settings_row.default_calendar_id,
                    "repeat_count": settings_row.repeat_count,
                    "repeat_days": settings_row.repeat_days,
                }
            ),
            calendars=list(ServiceCalendar.objects.order_by("name")),
            service_hours=list(ServiceHours.objects.select_related("service", "calendar").order_by("service__title")),
            hours_form=kwargs.get("hours_form") or ServiceHoursForm(),
            categories=sorted(Category.objects.select_related("parent__parent"), key=lambda c: c.path.lower()),
            category_form=kwargs.get("category_form") or CategoryForm(),
            can_configure=self.membership.can(CONFIGURE),
            can_categorise=self.membership.can("incidentcategory.create"),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        here = reverse("resolution-setup", kwargs={"tenant_slug": self.tenant.slug})
        what = request.POST.get("form")
        if what == "category":
            require_capability(request, "incidentcategory.create")
            form = CategoryForm(request.POST)
            if form.is_valid():
                category = Category(name=form.cleaned_data["name"], parent=form.cleaned_data["parent"])
                try:
                    category.clean()
                    with transaction.atomic():
                        category.save()
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                except IntegrityError:
                    form.add_error("name", "This category already has a child of this name.")
                else:
                    messages.success(request, f"Category {category.path} added.")
                    return HttpResponseRedirect(here)
            return self.render_to_response(self.get_context_data(category_form=form))
        require_capability(request, CONFIGURE)
        if what == "matrix_size":
            form = SwitchMatrixForm(request.POST)
            if form.is_valid():
                try:
                    row = services_matrix.switch_matrix_size(
                        form.cleaned_data["matrix_size"], membership=self.membership, reason=form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    size = row.matrix_size
                    messages.success(request, f"The matrix is now {size} x {size}, with its default priorities.")
                    return HttpResponseRedirect(f"{here}#matrix")
            return self.render_to_response(self.get_context_data(switch_form=form))
        if what == "matrix":
            changed = 0
            for cell in PriorityMatrixCell.objects.all():
                value = request.POST.get(f"cell-{cell.impact}-{cell.urgency}")
                if value and value.isdigit() and int(value) in PRIORITY_LEVELS and int(value) != cell.priority:
                    cell.priority = int(value)
                    cell.save(reason="Changed in the browser")
                    changed += 1
            messages.success(request, f"Priority matrix saved ({changed} cell(s) changed).")
        elif what == "level":
            level = get_object_or_404(PriorityLevel.objects.all(), pk=request.POST.get("level_id"))
            form = LevelForm(request.POST, instance=level)
            if form.is_valid():
                level._change_reason = "Changed in the browser"
                form.save()
                services.reschedule_incidents(
                    Incident.objects.filter(priority=level.level, state__in=OPEN_STATES),
                    reason=f"Targets of P{level.level} changed",
                )
                messages.success(request, f"Targets of {level} saved.")
            else:
                messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        elif what == "settings":
            form = SettingsForm(request.POST)
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(settings_form=form))
            row = services.ensure_defaults()
            for key, value in form.cleaned_data.items():
                setattr(row, key, value)
            row.save(reason="Changed in the browser")
            messages.success(request, "Settings saved.")
        elif what == "service_hours":
            form = ServiceHoursForm(request.POST)
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(hours_form=form))
            link = ServiceHours.objects.filter(service=form.cleaned_data["service"]).first() or ServiceHours(
                service=form.cleaned_data["service"]
            )
            link.calendar = form.cleaned_data["calendar"]
            link.save(reason="Changed in the browser")
            messages.success(request, f"{link.service.reference} runs in {link.calendar}.")
        elif what == "remove_service_hours":
            link = get_object_or_404(ServiceHours.objects.all(), pk=request.POST.get("link_id"))
            link._change_reason = "Removed in the browser"
            link.delete()
            messages.success(request, "Calendar link removed.")
        else:
            messages.error(request, "Unknown action.")
        return HttpResponseRedirect(here)


class CalendarForm(forms.ModelForm):
    hours = forms.CharField(
        label="Working hours",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One line per set of days, e.g. “Mon-Fri 08:00-18:00” or “Sat 09:00-13:00, 14:00-16:00”. "
        "An end not after the start runs past midnight.",
    )
    holiday_lines = forms.CharField(
        label="Holidays",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line: “2026-12-25 Christmas Day”.",
    )

    class Meta:
        model = ServiceCalendar
        fields = ["name", "description", "time_zone", "is_24x7"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["hours"] = wt.format_periods(self.instance.working_hours)
            self.initial["holiday_lines"] = "\n".join(
                f"{h['date']} {h.get('name', '')}".strip() for h in self.instance.holidays
            )

    def clean_hours(self):
        try:
            return wt.parse_periods(self.cleaned_data["hours"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_holiday_lines(self):
        rows = []
        for n, line in enumerate(self.cleaned_data["holiday_lines"].splitlines(), start=1):
            if not line.strip():
                continue
            day, _, name = line.strip().partition(" ")
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise ValidationError(f"Line {n}: {day!r} is not a date (YYYY-MM-DD).") from None
            rows.append({"date": day, "name": name.strip()})
        return rows

    def clean(self):
        data = super().clean()
        self.instance.working_hours = data.get("hours") or []
        self.instance.holidays = data.get("holiday_lines") or []
        return data

    def _update_errors(self, errors):
        # The model's clean() names its JSON fields; here they are typed as text.
        renamed = {"working_hours": "hours", "holidays": "holiday_lines"}
        if hasattr(errors, "error_dict"):
            errors = ValidationError({renamed.get(k, k): v for k, v in errors.error_dict.items()})
        super()._update_errors(errors)


class _CalendarView(TenantViewMixin, FormView):
    capability = CONFIGURE
    template_name = "resolution/calendar_form.html"
    form_class = CalendarForm
    instance = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.instance}

    def form_valid(self, form):
        form.instance._change_reason = "Changed in the browser" if self.instance else "Created"
        try:
            with transaction.atomic():
                calendar = form.save()
        except IntegrityError:
            form.add_error("name", "A calendar with this name already exists.")
            return self.form_invalid(form)
        if self.instance is not None:
            services.reschedule_incidents(
                Incident.objects.filter(state__in=OPEN_STATES).filter(
                    service_id__in=ServiceHours.objects.filter(calendar=calendar).values("service_id")
                ),
                reason=f"Hours of {calendar} changed",
            )
        messages.success(self.request, f"Calendar {calendar} saved.")
        return HttpResponseRedirect(reverse("resolution-setup", kwargs={"tenant_slug": self.tenant.slug}))


class CalendarCreateView(_CalendarView):
    pass


class CalendarUpdateView(_CalendarView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.instance = get_object_or_404(ServiceCalendar.objects.all(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)
