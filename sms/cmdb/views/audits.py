"""Browser pages of CMDB audits and CMDB health (clause 9.1)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.views.generic import TemplateView

from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import (
    Column,
    RecordActionView,
    RecordCreateView,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
)
from sms.core.workflow import TransitionForbidden, WorkflowError

from ..api.serializers import CMDBAuditSerializer
from ..choices import AuditState, VerificationResult
from ..filters import CMDBAuditFilterSet
from ..models import AuditedCI, CIType, CMDBAudit, ConfigurationItem, Service
from ..quality import CHECK_LABELS, CHECKS, health


class CMDBAuditListView(RecordListView):
    model = CMDBAudit
    filterset_class = CMDBAuditFilterSet
    select_related = ("owner", "auditor")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Audit", sort="title", link=True),
        Column("state", "Status", sort="state", badge=True),
        Column("planned_for", "Planned for", sort="planned_for"),
        Column("auditor", "Auditor"),
        Column("owner", "Owner"),
    )
    empty_text = "No CMDB audits yet. Plan one, or schedule them as a planned activity."

    def get_queryset(self):
        return super().get_queryset().defer("results")


class CMDBAuditForm(RecordForm):
    """Validated by the API's serializer, so the browser and the API agree."""

    ci_types = forms.ModelMultipleChoiceField(
        queryset=CIType.unscoped.none(), required=False, label="CI types in scope",
        help_text="Leave both lists empty to audit the whole CMDB.",
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.unscoped.none(), required=False, label="Services in scope",
        help_text="The components of these services are audited.",
    )

    class Meta:
        model = CMDBAudit
        fields = [
            "title", "description", "owner", "auditor", "planned_for", "stale_after_days", "deficiencies",
            "actions_taken",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ci_types"].queryset = CIType.objects.order_by("name")
        self.fields["services"].queryset = Service.objects.order_by("number")
        scope = self.instance.scope or {}
        self.initial.setdefault("ci_types", scope.get("ci_types", []))
        self.initial.setdefault("services", scope.get("services", []))
        if self.instance.state != AuditState.PLANNED:
            for name in ("auditor", "stale_after_days", "ci_types", "services"):
                self.fields[name].disabled = True
        if self.instance._state.adding:
            del self.fields["deficiencies"], self.fields["actions_taken"]

    def clean(self):
        data = super().clean()
        payload = {
            name: (value.pk if hasattr(value, "pk") else value)
            for name, value in data.items()
            if name in self.Meta.fields and name in self.fields and not self.fields[name].disabled
        }
        if self.instance.state == AuditState.PLANNED:
            payload["ci_types"] = [t.pk for t in data.get("ci_types") or []]
            payload["services"] = [s.pk for s in data.get("services") or []]
        payload = {k: ("" if v is None and k in ("description", "deficiencies", "actions_taken") else v)
                   for k, v in payload.items()}
        ser = CMDBAuditSerializer(
            instance=None if self.instance._state.adding else self.instance, data=payload, partial=True
        )
        if not ser.is_valid():
            for field, messages in ser.errors.items():
                self.add_error(field if field in self.fields else None, messages)
        elif "scope" in ser.validated_data:
            self.instance.scope = ser.validated_data["scope"]
        return data


class CMDBAuditCreateView(RecordCreateView):
    model = CMDBAudit
    form_class = CMDBAuditForm


class CMDBAuditUpdateView(RecordUpdateView):
    model = CMDBAudit
    form_class = CMDBAuditForm


def results_rows(results: dict) -> dict:
    return {
        "checks": [(name, CHECK_LABELS[name]) for name in CHECKS],
        "by_type": [{**row, "figures": [row.get(name, 0) for name in CHECKS]} for row in results.get("by_type", [])],
        "totals": [(results.get("totals") or {}).get(name, 0) for name in CHECKS],
        "findings": results.get("findings") or {},
    }


class CMDBAuditDetailView(RecordDetailView):
    model = CMDBAudit
    template_name = "cmdb/audit_detail.html"
    select_related = ("owner", "created_by", "updated_by", "auditor", "area_owner")
    detail_fields = ("auditor", "area_owner", "planned_for", "stale_after_days", "checked_at", "completed_at")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        audit = self.object
        scope = audit.scope or {}
        ctx["scope_types"] = list(CIType.objects.filter(pk__in=scope.get("ci_types", [])).order_by("name"))
        ctx["scope_services"] = list(Service.objects.filter(pk__in=scope.get("services", [])).order_by("number"))
        ctx["verifications"] = list(
            AuditedCI.objects.filter(audit=audit).select_related("ci__ci_type", "verified_by").order_by("id")
        )
        ctx["results"] = results_rows(audit.results or {})
        ctx["can_verify"] = audit.state == AuditState.IN_PROGRESS and self.membership.can("cmdbaudit.verify")
        ctx["verification_results"] = VerificationResult.choices
        return ctx


class VerifyView(RecordActionView):
    """POST ``ci`` (reference), ``result`` and ``note``: the auditor's verdict on a CI."""

    action_capability = "cmdbaudit.verify"

    def dispatch(self, request, *args, **kwargs):
        kwargs["kind"] = "cmdbaudit"
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        from ..auditing import verify_ci

        reference = request.POST.get("ci", "").strip()
        result = request.POST.get("result", "")
        ci = ConfigurationItem.objects.filter(Q(reference__iexact=reference)).first() if reference else None
        if ci is None:
            return self.done(f"No CI {reference or '(none given)'} in this tenant.", error=True)
        if result not in VerificationResult.values:
            return self.done("Choose whether the record is accurate or deficient.", error=True)
        try:
            verify_ci(self.record, ci, by=request.user, result=result, note=request.POST.get("note", ""))
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except WorkflowError as exc:
            return self.done(str(exc), error=True)
        return self.done(f"{ci.reference} verified.")


class HealthView(TenantViewMixin, TemplateView):
    """CMDB health per CI type, readable by every role (clause 9.1)."""

    capability = "ci.view"
    template_name = "cmdb/health.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        try:
            days = max(1, min(int(self.request.GET.get("stale_after_days", 365)), 3650))
        except ValueError:
            days = 365
        ctx["stale_after_days"] = days
        ctx["results"] = results_rows(health(stale_after_days=days))
        return ctx
