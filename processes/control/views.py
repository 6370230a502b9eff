"""Browser pages of change management (clause 9.2): requests for change (list, form,
page with scope, major impact, plans and approvals), the approvals inbox, and the
change management policy with its approval rules and standard change templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import FormView

from sms.core.api.serializers import tenant_members
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
from sms.core.workflow import TransitionForbidden, WorkflowError

from . import services
from .choices import ALWAYS_MAJOR_ACTIONS, RISK_QUESTIONS, ChangeType, Decision, ServiceAction
from .filters import ChangeFilterSet
from .models import ApprovalRule, BlackoutWindow, Change, ChangePolicy, StandardChangeTemplate
from .models.changes import ASSESSMENTS, cis_not_updated, service_design_links
from .views_review import investigation_context

HIDDEN_TRANSITIONS = ("approve", "reject")  # they follow from the approvers' decisions


def _policy_url(request) -> str:
    return reverse("change-policy", kwargs={"tenant_slug": request.tenant.slug})


# --- requests for change -------------------------------------------------------------------------
class ChangeForm(RecordForm):
    class Meta:
        model = Change
        fields = [
            "title",
            "description",
            "change_type",
            "template",
            "requester",
            "service_action",
            "services",
            "cis",
            "risk_level",
            "planned_start",
            "planned_end",
            "implementation_plan",
            "test_plan",
            "remediation_plan",
            "remediation_tested",
            "remediation_test_notes",
            "security_impact",
            "continuity_impact",
            "capacity_impact",
            "cost_impact",
            "release_impact",
            "technical_feasibility",
            "business_benefit",
            "review_notes",
            "owner",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "implementation_plan": forms.Textarea(attrs={"rows": 4}),
            "test_plan": forms.Textarea(attrs={"rows": 3}),
            "remediation_plan": forms.Textarea(attrs={"rows": 3}),
            "remediation_test_notes": forms.Textarea(attrs={"rows": 2}),
            "review_notes": forms.Textarea(attrs={"rows": 3}),
            "security_impact": forms.Textarea(attrs={"rows": 2}),
            "continuity_impact": forms.Textarea(attrs={"rows": 2}),
            "capacity_impact": forms.Textarea(attrs={"rows": 2}),
            "cost_impact": forms.Textarea(attrs={"rows": 2}),
            "release_impact": forms.Textarea(attrs={"rows": 2}),
            "technical_feasibility": forms.Textarea(attrs={"rows": 2}),
            "business_benefit": forms.Textarea(attrs={"rows": 2}),
            "planned_start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "planned_end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        labels = {"description": "Reason for the change and expected benefit"}

    def __init__(self, *args, by=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        self.fields["template"].queryset = StandardChangeTemplate.objects.filter(
            is_active=True, approved_at__isnull=False
        )
        self.fields["template"].help_text = "Only for standard changes: its plans and risk are copied in."
        self.fields["services"].queryset = self.fields["services"].queryset.order_by("title")
        self.fields["cis"].queryset = self.fields["cis"].queryset.select_related("ci_type").order_by("title")
        self.fields["cis"].label_from_instance = lambda ci: f"{ci.reference} {ci.title} ({ci.ci_type})"
        self.fields["requester"].help_text = "Empty: you."
        answers = self.instance.risk_answers or {}
        for key, question, _ in RISK_QUESTIONS:
            self.fields[f"risk_{key}"] = forms.TypedChoiceField(
                label=question,
                required=False,
                choices=[("", "Not answered"), ("yes", "Yes"), ("no", "No")],
                initial={True: "yes", False: "no"}.get(answers.get(key), ""),
            )
        self.fields["risk_level"].help_text += " Answer every question below and the level is worked out."
        if self.instance.pk is None:
            del self.fields["review_notes"]
        elif not self.instance.is_editable:
            # After approval only the review may still be written (through this form).
            for name, field in self.fields.items():
                if name not in ("review_notes", "change_reason"):
                    field.disabled = True

    def clean(self):
        data = super().clean()
        answers = {}
        for key, _, _ in RISK_QUESTIONS:
            value = data.get(f"risk_{key}")
            if value in ("yes", "no"):
                answers[key] = value == "yes"
        if self.instance.is_editable:
            self.instance.risk_answers = answers
        if data.get("change_type") == ChangeType.STANDARD and not data.get("template"):
            self.add_error("template", "A standard change is made from a standard change template.")
        return data

    def save(self, commit: bool = True):
        change = self.instance
        reason = self.cleaned_data.get("change_reason") or (
            "Recorded" if change.pk is None else "Edited in the browser"
        )
        if change.pk is not None and not change.is_editable:
            change.review_notes = self.cleaned_data.get("review_notes", "")
            change._history_user = self.by
            change.save(reason=reason)
            return change
        try:
            return services.save_change(
                change,
                by=self.by,
                services=self.cleaned_data.get("services"),
                cis=self.cleaned_data.get("cis"),
                reason=reason,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(None if field in ("detail", "__all__") or field not in self.fields else field, errors)
            raise


class SavedThroughServiceMixin:
    """Create/update views whose form saves through a service function (``form.save()``
    raises ValidationError with field messages, or IntegrityError on a clash); the
    subclass names ``model`` and ``form_class``."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "by": self.request.user}

    def form_valid(self, form):
        try:
            with transaction.atomic():
                self.object = form.save()
        except ValidationError:
            return self.form_invalid(form)
        except IntegrityError:
            form.add_error(None, "This conflicts with an existing record; check the values and try again.")
            return self.form_invalid(form)
        messages.success(self.request, f"{self.object.reference} saved.")
        return HttpResponseRedirect(self.get_success_url())


class _ChangeFormMixin(SavedThroughServiceMixin):
    model = Change
    form_class = ChangeForm


class ChangeListView(RecordListView):
    model = Change
    filterset_class = ChangeFilterSet
    select_related = ("owner", "requester")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("change_type", "Type", sort="change_type"),
        Column("risk_level", "Risk", sort="risk_level"),
        Column("is_major", "Major", sort="is_major"),
        Column("planned_start", "Planned start", sort="planned_start"),
        Column("requester", "Requester"),
        Column("updated_at", "Changed", sort="updated_at"),
    )
    empty_text = "No requests for change yet. Record one for any change to a service or a controlled CI."


class ApprovalsInboxView(ChangeListView):
    """Changes waiting for the signed-in person's decision."""

    template_name = "control/approvals.html"
    default_sort = "planned_start"
    empty_text = "No change is waiting for your decision."

    def get_capability(self) -> str:
        return "change.approve"

    def get_queryset(self):
        return super().get_queryset().filter(pk__in=services.awaiting_my_decision(self.request.user).values("pk"))

    def create_url(self):
        return None


class ChangeDetailView(RecordDetailView):
    model = Change
    template_name = "control/change_detail.html"
    select_related = ("owner", "created_by", "updated_by", "requester", "template")
    detail_fields = (
        "change_type",
        "template",
        "requester",
        "service_action",
        "risk_level",
        "planned_start",
        "planned_end",
        "submitted_at",
        "approval_requested_at",
        "approved_at",
        "implementation_started_at",
        "implementation_ended_at",
        "outcome",
        "closed_at",
    )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        change = self.object
        ctx["transitions"] = [t for t in ctx["transitions"] if t.name not in HIDDEN_TRANSITIONS]
        approvals = list(change.approvals.select_related("approver"))
        mine = next((a for a in approvals if a.approver_id == self.request.user.pk), None)
        ctx.update(
            services=list(change.services.order_by("title")),
            cis=list(change.cis.select_related("ci_type").order_by("title")),
            major_reasons=services.major_impact_reasons(change),
            blackouts=services.blackouts_for(change, change.planned_start, change.planned_end),
            conflicts=services.conflicts(change),
            cis_not_updated=cis_not_updated(change) if change.state == "under_review" else [],
            assessments=[(label, getattr(change, name)) for name, label in ASSESSMENTS],
            risk_answers=[
                (q, {True: "Yes", False: "No"}.get((change.risk_answers or {}).get(k), "Not answered"))
                for k, q, _ in RISK_QUESTIONS
            ]
            if change.risk_answers
            else [],
            impact=services.change_impact(change),
            approvals=approvals,
            approval=services.approval_status(change) if change.approval_rule else None,
            can_decide=(
                mine is not None
                and mine.decision == Decision.PENDING
                and change.state == "awaiting_approval"
                and self.membership.can("change.approve")
            ),
            decisions=[(Decision.APPROVED, "Approve"), (Decision.REJECTED, "Reject")],
            service_records=[link.target for link in service_design_links(change).prefetch_related("target")]
            if change.is_major
            else [],
            **investigation_context(change, self.membership),
        )
        # Releases still to come on the same services or CIs (clause 9.3: input to assessing the change).
        from .services_releases import upcoming_for_change

        ctx["upcoming_releases"] = upcoming_for_change(change) if self.membership.can("release.view") else []
        return ctx


class ChangeCreateView(_ChangeFormMixin, RecordCreateView):
    def get_initial(self):
        initial = super().get_initial()
        template_id = self.request.GET.get("template", "")
        if template_id.isdigit():
            template = StandardChangeTemplate.objects.filter(pk=template_id, is_active=True).first()
            if template is not None:
                initial.update(
                    change_type=ChangeType.STANDARD,
                    template=template.pk,
                    title=template.name,
                    risk_level=template.risk_level,
                )
        return initial


class ChangeUpdateView(_ChangeFormMixin, RecordUpdateView):
    pass


class DecideView(TenantViewMixin, View):
    """POST ``decision`` and ``rationale``: the signed-in approver's decision."""

    capability = "change.approve"

    def post(self, request, *args, **kwargs):
        change = get_object_or_404(Change.objects.all(), pk=kwargs["pk"])
        try:
            change = services.decide(
                change,
                by=request.user,
                decision=request.POST.get("decision", ""),
                rationale=request.POST.get("rationale", ""),
            )
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except WorkflowError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(m for msgs in exc.message_dict.values() for m in msgs))
        else:
            messages.success(request, f"Decision recorded. {change.reference} is {change.get_state_display().lower()}.")
        return HttpResponseRedirect(record_url(change))


# --- policy --------------------------------------------------------------------------------------
class PolicyForm(forms.ModelForm):
    controlled_ci_types = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="CI types under change control",
        help_text="Changes to CIs of these types go through change management. This is the CMDB's flag on each "
        "CI type; changing it here changes it there.",
    )
    change_reason = forms.CharField(
        required=False, max_length=250, label="Reason for the change", help_text="Kept in the policy's history."
    )

    class Meta:
        model = ChangePolicy
        fields = ["emergency_definition", "major_impact_criteria", "major_service_criticality", "major_min_services"]
        widgets = {
            "emergency_definition": forms.Textarea(attrs={"rows": 4}),
            "major_impact_criteria": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = services.controlled_ci_types()
        self.fields["controlled_ci_types"].queryset = types
        self.initial["controlled_ci_types"] = [t.pk for t in types if t.under_change_control]


class PolicyView(TenantViewMixin, FormView):
    """The change management policy: definitions, controlled CI types, approval rules
    and standard change templates. Everyone reads it; process owners and
    administrators change it."""

    template_name = "control/policy.html"
    form_class = PolicyForm
    capability = "changepolicy.view"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": services.policy()}

    def post(self, request, *args, **kwargs):
        if not self.membership.can("changepolicy.update"):
            raise PermissionDenied("Your role in this tenant does not allow this (changepolicy.update).")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        with transaction.atomic():
            policy = form.instance
            policy._history_user = self.request.user
            policy._change_reason = form.cleaned_data.get("change_reason") or "Edited in the browser"
            form.save()
            changed = services.set_controlled_ci_types(
                [t.pk for t in form.cleaned_data["controlled_ci_types"]], by=self.request.user
            )
        note = f" Change control changed for: {', '.join(changed)}." if changed else ""
        messages.success(self.request, f"Change management policy saved.{note}")
        return HttpResponseRedirect(_policy_url(self.request))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            policy=services.policy(),
            always_major=[ServiceAction(a).label for a in ALWAYS_MAJOR_ACTIONS],
            rules=list(ApprovalRule.objects.prefetch_related("approvers").order_by("change_type", "risk_level")),
            templates=list(StandardChangeTemplate.objects.select_related("approved_by").order_by("name")),
            blackouts=list(BlackoutWindow.objects.prefetch_related("services").order_by("-starts_at")[:50]),
            can_edit=self.membership.can("changepolicy.update"),
            can_edit_templates=self.membership.can("changetemplate.update"),
            can_approve_templates=self.membership.can("change.approve"),
            default_approver_role=services.DEFAULT_APPROVER_ROLE.label,
        )
        return ctx


class _SimpleFormView(TenantViewMixin, FormView):
    """Create or edit one policy row on its own page; back to the policy page."""

    template_name = "control/simple_form.html"
    model = None
    heading = ""
    capability_area = ""

    def get_capability(self) -> str:
        return f"{self.capability_area}.{'update' if 'pk' in self.kwargs else 'create'}"

    def get_object(self):
        if "pk" in self.kwargs:
            return get_object_or_404(self.model.objects.all(), pk=self.kwargs["pk"])
        return self.model()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_object()}

    def form_valid(self, form):
        form.instance._history_user = self.request.user
        form.instance._change_reason = "Edited in the browser" if form.instance.pk else "Created in the browser"
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:
            form.add_error(None, "This conflicts with an existing entry; check the values.")
            return self.form_invalid(form)
        messages.success(self.request, f"{form.instance} saved.")
        return HttpResponseRedirect(_policy_url(self.request))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(heading=self.heading, cancel_url=_policy_url(self.request))
        return ctx


class ApprovalRuleForm(forms.ModelForm):
    class Meta:
        model = ApprovalRule
        fields = ["change_type", "risk_level", "rule", "quorum", "approver_role", "approvers"]
        widgets = {"approvers": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approvers"].queryset = tenant_members().order_by("username")
        self.fields["approvers"].label_from_instance = lambda u: u.get_full_name() or u.username

    def clean(self):
        data = super().clean()
        if not data.get("approver_role") and not data.get("approvers"):
            self.add_error("approver_role", "Name a role or people who approve.")
        clash = ApprovalRule.objects.filter(change_type=data.get("change_type"), risk_level=data.get("risk_level"))
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("risk_level", "There is already a rule for this type and risk level.")
        return data


class ApprovalRuleFormView(_SimpleFormView):
    model = ApprovalRule
    form_class = ApprovalRuleForm
    heading = "Approval rule"
    capability_area = "changepolicy"


class TemplateForm(forms.ModelForm):
    class Meta:
        model = StandardChangeTemplate
        fields = [
            "name",
            "description",
            "risk_level",
            "implementation_plan",
            "test_plan",
            "remediation_plan",
            "remediation_tested",
            "is_active",
        ]
        widgets = {
            f: forms.Textarea(attrs={"rows": 3})
            for f in ("description", "implementation_plan", "test_plan", "remediation_plan")
        }


class TemplateFormView(_SimpleFormView):
    model = StandardChangeTemplate
    form_class = TemplateForm
    heading = "Standard change template"
    capability_area = "changetemplate"


class TemplateApproveView(TenantViewMixin, View):
    """POST ``rationale``: pre-approve a standard change template."""

    capability = "change.approve"

    def post(self, request, *args, **kwargs):
        template = get_object_or_404(StandardChangeTemplate.objects.all(), pk=kwargs["pk"])
        try:
            services.approve_template(template, by=request.user, rationale=request.POST.get("rationale", ""))
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except WorkflowError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(m for msgs in exc.message_dict.values() for m in msgs))
        else:
            messages.success(request, f"{template.name} is pre-approved: standard changes may follow it.")
        return HttpResponseRedirect(_policy_url(request))


class BlackoutForm(forms.ModelForm):
    # Declared with its queryset filled in per request: the default manager needs a tenant.
    services = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Empty: the blackout applies to every service.",
    )

    class Meta:
        model = BlackoutWindow
        fields = ["name", "reason", "starts_at", "ends_at", "services"]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from sms.cmdb.models import Service

        self.fields["services"].queryset = Service.objects.order_by("title")


class BlackoutFormView(_SimpleFormView):
    model = BlackoutWindow
    form_class = BlackoutForm
    heading = "Blackout window"
    capability_area = "changepolicy"
