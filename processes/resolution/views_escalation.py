"""Browser pages of escalation and major incidents (clause 8.1): escalation rules, the
major incident definition, the list of major incidents, declaring one, designating its
manager and recording its review."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from sms.core.api.serializers import tenant_members
from sms.core.views.mixins import TenantViewMixin, require_capability
from sms.core.views.records import PAGE_SIZES, PageSizeMixin, record_url

from . import services_major
from .choices import PRIORITY_LEVELS
from .models import EscalationRule, Incident, MajorIncidentDefinition, MajorIncidentReview

CONFIGURE = "resolution.configure"


# --- escalation rules ---------------------------------------------------------------------------
class EscalationRuleForm(forms.ModelForm):
    priorities = forms.TypedMultipleChoiceField(
        choices=[(n, f"P{n}") for n in PRIORITY_LEVELS],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only incidents of these priorities; none ticked: every priority.",
    )
    # Declared so that the form class does not read parties before there is a tenant.
    reassign_to = forms.ModelChoiceField(
        queryset=EscalationRule.unscoped.none(),
        required=False,
        label="Reassign to group",
        help_text="The internal group that takes the incident over (reassign action); the assignee is cleared.",
    )

    class Meta:
        model = EscalationRule
        fields = [
            "name",
            "is_active",
            "target",
            "percent",
            "priorities",
            "action",
            "notify",
            "role",
            "reassign_to",
            "raise_by",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from sms.parties.models import Party

        self.fields["reassign_to"].queryset = Party.objects.filter(party_type="internal_group").order_by("name")

    def clean_priorities(self):
        return sorted(set(self.cleaned_data.get("priorities") or []))


class EscalationRuleListView(TenantViewMixin, TemplateView):
    """The tenant's rules, in the order they act."""

    capability = "incident.view"
    template_name = "resolution/escalation_rules.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["rules"] = list(EscalationRule.objects.select_related("reassign_to").order_by("target", "percent", "id"))
        ctx["can_configure"] = self.membership.can(CONFIGURE)
        return ctx


class _RuleFormView(TenantViewMixin, FormView):
    capability = CONFIGURE
    template_name = "resolution/escalation_rule_form.html"
    form_class = EscalationRuleForm
    instance = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.instance}

    def form_valid(self, form):
        form.instance._change_reason = "Changed in the browser" if self.instance else "Created"
        rule = form.save()
        messages.success(self.request, f"Escalation rule \u201c{rule.name}\u201d saved.")
        return HttpResponseRedirect(reverse("resolution-escalation-rules", kwargs={"tenant_slug": self.tenant.slug}))


class EscalationRuleCreateView(_RuleFormView):
    pass


class EscalationRuleUpdateView(_RuleFormView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.instance = get_object_or_404(EscalationRule.objects.all(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class EscalationRuleDeleteView(TenantViewMixin, View):
    """POST: remove a rule. Escalations it took stay on their incidents with its name."""

    capability = CONFIGURE

    def post(self, request, tenant_slug: str, pk: int):
        rule = get_object_or_404(EscalationRule.objects.all(), pk=pk)
        rule._change_reason = "Deleted in the browser"
        rule.delete()
        messages.success(request, f"Escalation rule \u201c{rule.name}\u201d removed.")
        return HttpResponseRedirect(reverse("resolution-escalation-rules", kwargs={"tenant_slug": tenant_slug}))


# --- major incident definition ------------------------------------------------------------------
class DefinitionForm(forms.ModelForm):
    class Meta:
        model = MajorIncidentDefinition
        fields = ["definition", "auto_declare", "max_priority", "service_criticality"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 5})}


class MajorIncidentDefinitionView(TenantViewMixin, FormView):
    """Everyone reads the definition; administrators change it."""

    capability = "incident.view"
    template_name = "resolution/major_definition.html"
    form_class = DefinitionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": services_major.definition()}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["definition"] = services_major.definition()
        ctx["can_configure"] = self.membership.can(CONFIGURE)
        return ctx

    def post(self, request, *args, **kwargs):
        require_capability(request, CONFIGURE)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        form.instance._change_reason = "Changed in the browser"
        form.save()
        messages.success(self.request, "Major incident definition saved.")
        return HttpResponseRedirect(self.request.path)


# --- major incidents --------------------------------------------------------------------------
class MajorIncidentListView(PageSizeMixin, TenantViewMixin, ListView):
    """Every major incident, open ones first, with its manager and review."""

    capability = "incident.view"
    template_name = "resolution/major_incidents.html"

    def get_queryset(self):
        from .choices import OPEN_STATES

        qs = (
            Incident.objects.filter(is_major=True)
            .select_related("service", "major_manager", "assignee")
            .annotate(has_review=Exists(MajorIncidentReview.objects.filter(incident=OuterRef("pk"))))
        )
        if self.request.GET.get("open") == "1":
            qs = qs.filter(state__in=OPEN_STATES)
        return qs.order_by("-major_declared_at", "-number")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["page_sizes"] = PAGE_SIZES
        ctx["definition"] = services_major.definition()
        return ctx


class _IncidentActionView(TenantViewMixin, View):
    capability = "incident.update"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            require_capability(request, self.capability)
            self.incident = get_object_or_404(Incident.objects.all(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def back(self):
        return HttpResponseRedirect(record_url(self.incident))

    def fail(self, exc: ValidationError):
        text = (
            " ".join(m for msgs in exc.message_dict.values() for m in msgs)
            if hasattr(exc, "error_dict")
            else (" ".join(exc.messages))
        )
        messages.error(self.request, text)
        return self.back()


class DeclareMajorView(_IncidentActionView):
    def post(self, request, *args, **kwargs):
        try:
            incident = services_major.declare_major(
                self.incident, by=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            return self.fail(exc)
        messages.success(request, f"{incident.reference} is a major incident; top management has been told.")
        return self.back()


class MajorManagerView(_IncidentActionView):
    def post(self, request, *args, **kwargs):
        raw = request.POST.get("major_manager", "")
        manager = tenant_members().filter(pk=raw).first() if raw.isdigit() else None
        if raw and manager is None:
            messages.error(request, "Choose a member of this tenant.")
            return self.back()
        try:
            services_major.designate_manager(self.incident, manager=manager, by=request.user)
        except ValidationError as exc:
            return self.fail(exc)
        messages.success(request, "Major incident manager saved.")
        return self.back()


class ReviewForm(forms.ModelForm):
    class Meta:
        model = MajorIncidentReview
        fields = ["what_happened", "timeline", "causes", "improvements", "held_on", "participants"]
        widgets = {
            "what_happened": forms.Textarea(attrs={"rows": 4}),
            "timeline": forms.Textarea(attrs={"rows": 5}),
            "causes": forms.Textarea(attrs={"rows": 4}),
            "improvements": forms.Textarea(attrs={"rows": 4}),
            "participants": forms.Textarea(attrs={"rows": 2}),
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self):
        data = super().clean()
        for name in ("what_happened", "timeline", "causes", "improvements"):
            if name in data and not (data[name] or "").strip():
                self.add_error(name, "This part of the review is required.")
        return data


class MajorReviewView(TenantViewMixin, FormView):
    """Record or change the review of a major incident."""

    template_name = "resolution/major_review_form.html"
    form_class = ReviewForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            require_capability(request, "incident.view")
            self.incident = get_object_or_404(Incident.objects.all(), pk=kwargs["pk"])
            self.review = MajorIncidentReview.objects.filter(incident=self.incident).first()
        return super().dispatch(request, *args, **kwargs)

    def get_capability(self) -> str:
        review = getattr(self, "review", None)
        return "majorincidentreview.update" if review is not None else "majorincidentreview.create"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.review}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["incident"] = self.incident
        ctx["incident_url"] = record_url(self.incident)
        return ctx

    def form_valid(self, form):
        if not self.incident.is_major:
            form.add_error(None, f"{self.incident.reference} is not a major incident.")
            return self.form_invalid(form)
        review = form.save(commit=False)
        review.incident = self.incident
        review._change_reason = "Review changed in the browser" if self.review else "Review recorded"
        review.save()
        messages.success(self.request, f"Review of {self.incident.reference} saved.")
        return HttpResponseRedirect(record_url(self.incident))
