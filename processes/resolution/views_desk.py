"""The service desk console (clause 8.1): the agent's queues, fast incident logging with
the priority shown as impact and urgency are chosen, and bulk assignment from the list."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import ListView, TemplateView

from sms.core.api.serializers import tenant_members
from sms.core.views.mixins import TenantViewMixin, require_capability
from sms.core.views.records import PageSizeMixin

from . import services, services_desk
from .models import Incident
from .views import IncidentForm
from .views_problems import link_chosen_known_errors

QUEUE_TITLES = {
    "mine": "My work",
    "groups": "My groups",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
    "major": "Major incidents",
}
QUEUE_EMPTY = {
    "mine": "Nothing assigned to you is open.",
    "groups": "Nothing open for your groups, or you are not in a support group yet.",
    "unassigned": "Every open incident has an assignee.",
    "breaching": "No running incident is past its at-risk point.",
    "major": "No major incident is open.",
}


class QuickIncidentForm(IncidentForm):
    """The fields a caller gives on the phone; the rest is added on the record later."""

    class Meta(IncidentForm.Meta):
        fields = [
            "title",
            "caller",
            "service",
            "category",
            "impact",
            "urgency",
            "channel",
            "assignment_group",
            "is_security",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preview = {
            "hx-get": "",  # set by the view (needs the tenant)
            "hx-trigger": "change",
            "hx-target": "#priority-preview",
            "hx-include": "[name=impact],[name=urgency]",
        }
        for name in ("impact", "urgency"):
            self.fields[name].widget.attrs.update(preview)
        # The priority is the matrix's here; overrides are made on the full form.
        del self.fields["priority_override"]
        del self.fields["priority_override_reason"]


def _quick_form(request, data=None) -> QuickIncidentForm:
    form = QuickIncidentForm(data, initial={"channel": "phone"})
    url = reverse("resolution-desk-priority", kwargs={"tenant_slug": request.tenant.slug})
    for name in ("impact", "urgency"):
        form.fields[name].widget.attrs["hx-get"] = url
    return form


class ServiceDeskView(TenantViewMixin, TemplateView):
    """The agent's landing page: their queues and the fast logging form."""

    capability = "incident.view"
    template_name = "resolution/desk.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        data = services_desk.console(self.request.user)
        can_log = self.membership.can("incident.create")
        form = kwargs.get("form") or (_quick_form(self.request) if can_log else None)
        preview = None
        if form is not None:
            middle = (services.scale_size() + 1) // 2
            impact = form.data.get("impact") or form.initial.get("impact") or middle
            urgency = form.data.get("urgency") or form.initial.get("urgency") or middle
            preview = _safe_preview(impact, urgency)
        ctx.update(
            queues=[(code, QUEUE_TITLES[code], QUEUE_EMPTY[code], q) for code, q in data["queues"].items()],
            groups_of_user=data["groups_of_user"],
            form=form,
            preview=preview,
        )
        return ctx

    def post(self, request, *args, **kwargs):
        """Fast logging: create the incident and go to its page."""
        require_capability(request, "incident.create")
        form = _quick_form(request, request.POST)
        form.instance.owner = request.user
        if form.is_valid():
            with transaction.atomic():
                incident = form.save()
                # The known errors the agent ticked among those offered (clause 8.2).
                link_chosen_known_errors(request, incident)
            messages.success(request, f"{incident.reference} logged as P{incident.priority}.")
            return HttpResponseRedirect(
                reverse("incidents:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": incident.pk})
            )
        return self.render_to_response(self.get_context_data(form=form), status=200)


def _safe_preview(impact, urgency):
    try:
        impact, urgency = int(impact), int(urgency)
    except (TypeError, ValueError):
        return None
    try:
        return services_desk.priority_preview(impact, urgency)
    except ValidationError:  # a level off the tenant's scale
        return None


class PriorityPreviewView(TenantViewMixin, View):
    """htmx: the priority and targets the matrix gives for ``?impact=&urgency=``."""

    capability = "incident.view"

    def get(self, request, *args, **kwargs):
        preview = _safe_preview(request.GET.get("impact"), request.GET.get("urgency"))
        return render(request, "resolution/_priority_preview.html", {"preview": preview})


class QueueView(PageSizeMixin, TenantViewMixin, ListView):
    """All the incidents of one console queue, paged."""

    capability = "incident.view"
    template_name = "resolution/desk_queue.html"
    context_object_name = "rows"

    def get_queryset(self):
        try:
            qs = services_desk.console_queue(self.request.user, self.kwargs["queue"])
        except KeyError:
            raise Http404("No such queue.") from None
        return qs.select_related(*services_desk.QUEUE_RELATED)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        code = self.kwargs["queue"]
        ctx.update(queue_code=code, queue_title=QUEUE_TITLES[code], empty_text=QUEUE_EMPTY[code])
        return ctx


class BulkAssignForm(forms.Form):
    incidents = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one incident."}
    )
    assignment_group = forms.ModelChoiceField(queryset=Incident.unscoped.none(), required=False, label="Group")
    assignee = forms.ModelChoiceField(queryset=Incident.unscoped.none(), required=False)
    reason = forms.CharField(required=False, max_length=250, help_text="Kept in each incident's history.")

    def __init__(self, *args, **kwargs):
        from sms.parties.models import Party

        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service reports the ones it cannot change.
        self.fields["incidents"].choices = [(v, v) for v in self.data.getlist("incidents") if str(v).isdigit()]
        self.fields["assignment_group"].queryset = Party.objects.filter(party_type="internal_group")
        self.fields["assignee"].queryset = tenant_members()


def bulk_choices() -> dict:
    """The group and assignee choices of the list's bulk form (2 queries)."""
    from sms.parties.models import Party

    return {
        "bulk_groups": list(Party.objects.filter(party_type="internal_group", is_active=True).order_by("name")),
        "bulk_members": list(tenant_members().order_by("username")),
    }


class BulkAssignView(TenantViewMixin, View):
    """POST ``incidents`` (ids), ``assignment_group`` and/or ``assignee``: one service call;
    each incident that could not be changed is reported with the reason."""

    capability = "incident.update"

    def post(self, request, *args, **kwargs):
        back = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        back = back or reverse("incidents:list", kwargs={"tenant_slug": self.tenant.slug})
        form = BulkAssignForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for e in errors:
                    messages.error(request, e)
            return HttpResponseRedirect(back)
        data = form.cleaned_data
        try:
            result = services_desk.bulk_assign(
                data["incidents"],
                by=request.user,
                membership=self.membership,
                group=data["assignment_group"],
                assignee=data["assignee"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            for e in exc.messages:
                messages.error(request, e)
            return HttpResponseRedirect(back)
        if result.changed:
            refs = ", ".join(i.reference for i in result.changed)
            messages.success(request, f"{len(result.changed)} incident(s) assigned: {refs}.")
        for ref, message in result.errors:
            messages.error(request, f"{ref}: {message}")
        return HttpResponseRedirect(back)
