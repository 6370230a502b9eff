"""Browser pages of controlled documents (clause 4.3): the register, the document page
with its versions, the version page, and the actions on them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from sms.core.api.serializers import tenant_members
from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import (
    Column,
    RecordCreateView,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
)
from sms.core.workflow import TransitionForbidden, WorkflowError, available_transitions, run_transition
from sms.tenancy.roles import Role

from . import services
from .api.views import csv_response, file_response
from .choices import VERSION_STATE_COLOURS, DocumentState, DocumentType, VersionState, process_names
from .exports import latest_version, register_rows, with_register_data
from .filters import DocumentFilterSet
from .models import Acknowledgement, ApprovalRule, DistributionEntry, Document, DocumentVersion
from .pdf import pdf_filename, render_version_pdf


# --- documents ---------------------------------------------------------------------------
class DocumentForm(RecordForm):
    processes = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="The SMS processes this document serves.",
    )
    clauses = forms.CharField(
        required=False, label="Clauses", help_text="ISO/IEC 20000-1 clauses, separated by commas, e.g. 4.3, 9.2.",
    )

    class Meta:
        model = Document
        fields = [
            "title", "description", "document_type", "classification", "owner", "owning_role", "processes",
            "clauses", "review_interval_months", "next_review_date", "origin", "external_reference",
            "version_received", "received_on", "copy_holders",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "copy_holders": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["processes"].choices = [(p, p) for p in process_names()]
        if self.instance.pk:
            self.initial["clauses"] = ", ".join(self.instance.clauses)

    def clean_clauses(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data.get("clauses", "").replace(";", ",").split(",") if c.strip()]


class DocumentListView(RecordListView):
    """The document register: every document with its version in force, the status of
    its latest version, owner, last approval and next review (overdue highlighted)."""

    model = Document
    filterset_class = DocumentFilterSet
    template_name = "documents/register.html"
    results_template = "documents/_register_results.html"
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("document_type", "Type", sort="document_type"),
        Column("current_version", "In force"),
        Column("latest", "Latest version"),
        Column("owner", "Owner"),
        Column("approved", "Last approval"),
        Column("next_review_date", "Next review", sort="next_review_date"),
    )
    empty_text = "No controlled documents yet. Start with the service management policy."

    def get_queryset(self):
        qs = with_register_data(Document.objects.all())
        self.filterset = self.filterset_class(self.request.GET or None, queryset=qs, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return qs.none()
        return self.filterset.qs.order_by(self.current_sort(), "-pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for doc in ctx["object_list"]:
            doc.latest = latest_version(doc)
        ctx["version_colours"] = VERSION_STATE_COLOURS
        ctx["export_url"] = reverse("documents:export", kwargs={"tenant_slug": self.tenant.slug})
        return ctx


class DocumentExportView(TenantViewMixin, View):
    capability = "document.view"

    def get(self, request, *args, **kwargs):
        filterset = DocumentFilterSet(request.GET or None, queryset=Document.objects.all(), request=request)
        qs = filterset.qs if (not filterset.is_bound or filterset.is_valid()) else Document.objects.none()
        return csv_response(register_rows(qs.order_by("number")))


def versions_of(document: Document):
    return list(
        document.versions.select_related("created_by", "approved_by")
        .annotate(ack_total=Count("acknowledgements"),
                  ack_open=Count("acknowledgements", filter=Q(acknowledgements__acknowledged_at=None)))
        .order_by("-number")
    )


class DocumentDetailView(RecordDetailView):
    """The document at its point of use: the version in force first, then the others."""

    model = Document
    template_name = "documents/detail.html"
    select_related = ("owner", "created_by", "updated_by", "last_reviewed_by", "current_version",
                      "current_version__approved_by", "current_version__created_by")
    detail_fields = ("document_type", "classification", "owning_role", "review_interval_months",
                     "next_review_date", "last_reviewed_at", "last_reviewed_by")
    external_fields = ("origin", "external_reference", "version_received", "received_on", "copy_holders")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        doc = self.object
        ctx["versions"] = versions_of(doc)
        ctx["version_colours"] = VERSION_STATE_COLOURS
        ctx["current"] = doc.current_version
        ctx["external"] = [doc._meta.get_field(n) for n in self.external_fields] if doc.is_external else []
        ctx["distribution"] = list(doc.distribution.select_related("user", "party"))
        can_update = self.membership.can("document.update")
        ctx["can_draft"] = can_update and doc.state == DocumentState.ACTIVE
        ctx["can_review"] = can_update and doc.state == DocumentState.ACTIVE
        ctx["can_distribute"] = can_update
        if can_update:
            ctx["roles"] = Role.choices
            ctx["members"] = tenant_members().order_by("username")
            from sms.parties.models import Party

            ctx["parties"] = Party.objects.filter(is_active=True).order_by("name")
        if doc.current_version_id:
            ctx["my_ack"] = Acknowledgement.objects.filter(version_id=doc.current_version_id,
                                                           user=self.request.user).first()
        return ctx


class DocumentCreateView(RecordCreateView):
    model = Document
    form_class = DocumentForm


class DocumentUpdateView(RecordUpdateView):
    model = Document
    form_class = DocumentForm


class DocumentActionView(TenantViewMixin, View):
    capability = "document.update"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.document = get_object_or_404(Document.objects.all(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def back(self, message: str = "", *, error: bool = False):
        if message:
            (messages.error if error else messages.success)(self.request, message)
        return HttpResponseRedirect(
            reverse("documents:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": self.document.pk})
        )


class ReviewView(DocumentActionView):
    def post(self, request, *args, **kwargs):
        doc = services.record_review(self.document, by=request.user, note=request.POST.get("note", "").strip())
        return self.back(f"Review recorded; next review due {doc.next_review_date:%d %b %Y}.")


class DistributionAddView(DocumentActionView):
    def post(self, request, *args, **kwargs):
        from .api.serializers import DistributionEntrySerializer

        data = {"document": self.document.pk}
        recipient = request.POST.get("recipient", "")
        kind, _, value = recipient.partition(":")
        if kind in ("role", "user", "party") and value:
            data[kind] = value
        ser = DistributionEntrySerializer(data=data, context={"request": request})
        if not ser.is_valid():
            errors = [str(e) for errs in ser.errors.values() for e in errs]
            return self.back(" ".join(errors) or "Choose a recipient.", error=True)
        ser.save()
        return self.back("Added to the distribution list.")


class DistributionRemoveView(DocumentActionView):
    def post(self, request, *args, **kwargs):
        entry = get_object_or_404(DistributionEntry.objects.filter(document=self.document), pk=kwargs["entry_id"])
        entry._history_user = request.user
        entry._change_reason = "Removed from the distribution list"
        entry.delete()
        return self.back("Removed from the distribution list.")


# --- versions ----------------------------------------------------------------------------
class VersionForm(forms.Form):
    change_summary = forms.CharField(max_length=500, label="What changed", required=False)
    reason = forms.CharField(label="Reason for the change", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    content = forms.CharField(
        label="Content (Markdown)", widget=forms.Textarea(attrs={"rows": 18}), required=False,
        help_text="Headings with #, lists with -, tables with |. Or upload the document as a file below.",
    )
    file = forms.FileField(required=False, help_text="Instead of written content: the document as a file (PDF...).")


class VersionCreateView(TenantViewMixin, FormView):
    """Draft a new version, starting from the latest version's content."""

    capability = "document.update"
    form_class = VersionForm
    template_name = "documents/version_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.document = get_object_or_404(Document.objects.all(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        latest = latest_version(self.document)
        return {"content": latest.content if latest else ""}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(document=self.document, title=f"New version of {self.document.reference}",
                   cancel_url=reverse("documents:detail", kwargs={"tenant_slug": self.tenant.slug,
                                                                   "pk": self.document.pk}))
        return ctx

    def form_valid(self, form):
        try:
            version = services.create_version(
                self.document, by=self.request.user, change_summary=form.cleaned_data["change_summary"],
                reason=form.cleaned_data["reason"], content=form.cleaned_data["content"],
                upload=form.cleaned_data.get("file"),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, f"Version {version.number} drafted.")
        return HttpResponseRedirect(version_url(version))


def version_url(version: DocumentVersion, view: str = "version") -> str:
    from sms.tenancy import context

    return reverse(f"documents:{view}", kwargs={"tenant_slug": context.require_tenant().slug, "vpk": version.pk})


class VersionMixin(TenantViewMixin):
    capability = "document.view"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.version = get_object_or_404(
                DocumentVersion.objects.select_related(
                    "document", "document__owner", "created_by", "approved_by", "issued_by", "superseded_by"
                ),
                pk=kwargs["vpk"],
            )
        return super().dispatch(request, *args, **kwargs)


class VersionUpdateView(VersionMixin, FormView):
    capability = "document.update"
    form_class = VersionForm
    template_name = "documents/version_form.html"

    def get_initial(self):
        v = self.version
        return {"change_summary": v.change_summary, "reason": v.reason, "content": v.content}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(document=self.version.document, version=self.version,
                   title=f"Edit draft version {self.version.number}", cancel_url=version_url(self.version))
        return ctx

    def form_valid(self, form):
        data = {k: form.cleaned_data[k] for k in ("change_summary", "reason", "content")}
        try:
            services.update_draft(self.version, by=self.request.user, upload=form.cleaned_data.get("file"), **data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, "Draft saved.")
        return HttpResponseRedirect(version_url(self.version))


class VersionDetailView(VersionMixin, DetailView):
    template_name = "documents/version_detail.html"
    context_object_name = "version"

    def get_object(self, queryset=None):
        return self.version

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        v = self.version
        ctx["document"] = v.document
        ctx["colour"] = VERSION_STATE_COLOURS.get(v.state, "grey")
        ctx["transitions"] = [t for t in available_transitions(v, self.request.user) if t.allowed]
        acks = list(v.acknowledgements.select_related("user").order_by("acknowledged_at", "user__username"))
        ctx["acknowledgements"] = acks
        ctx["outstanding"] = [a for a in acks if a.acknowledged_at is None]
        ctx["my_ack"] = next((a for a in acks if a.user_id == self.request.user.pk), None)
        ctx["can_edit"] = v.state == VersionState.DRAFT and self.membership.can("document.update")
        ctx["history"] = list(v.history.select_related("history_user").order_by("-history_date")[:30])
        return ctx


class VersionTransitionView(VersionMixin, View):
    def post(self, request, *args, **kwargs):
        name = kwargs["name"]
        try:
            version = run_transition(self.version, name, by=request.user, reason=request.POST.get("reason", ""))
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except WorkflowError as exc:  # unavailable or blocked: the version is unchanged
            messages.error(request, str(exc))
            return HttpResponseRedirect(version_url(self.version))
        messages.success(request, f"Version {version.number}: {version.get_state_display().lower()}.")
        return HttpResponseRedirect(version_url(version))


class VersionPdfView(VersionMixin, View):
    def get(self, request, *args, **kwargs):
        response = HttpResponse(render_version_pdf(self.version), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{pdf_filename(self.version)}"'
        return response


class VersionFileView(VersionMixin, View):
    def get(self, request, *args, **kwargs):
        if not self.version.file:
            from django.http import Http404

            raise Http404("This version has no uploaded file.")
        return file_response(self.version)


class AcknowledgeView(VersionMixin, View):
    def post(self, request, *args, **kwargs):
        try:
            services.acknowledge(self.version, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, f"You confirmed reading version {self.version.number}.")
        return HttpResponseRedirect(request.POST.get("next") if request.POST.get("next", "").startswith("/t/")
                                    else version_url(self.version))


class ProcessCoverageView(TenantViewMixin, TemplateView):
    """Which SMS processes lack an issued policy, process description or procedure (4.3.1)."""

    capability = "document.view"
    template_name = "documents/process_coverage.html"

    def get_context_data(self, **kwargs):
        from .coverage import COLUMNS, process_coverage

        ctx = super().get_context_data(**kwargs)
        rows = process_coverage()
        ctx.update(rows=rows, columns=[(c, DocumentType(c).label) for c in COLUMNS],
                   complete=sum(r.complete for r in rows))
        return ctx


class ApprovalRuleForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApprovalRule
        fields = ["document_type", "roles"]


class ApprovalRulesView(TenantViewMixin, TemplateView):
    """Which roles approve which document types; administrators change them here."""

    capability = "document.view"
    template_name = "documents/approval_rules.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["rules"] = list(ApprovalRule.objects.order_by("document_type"))
        ctx["form"] = kwargs.get("form") or ApprovalRuleForm()
        return ctx

    def post(self, request, *args, **kwargs):
        from sms.core.views.mixins import require_capability

        require_capability(request, "document.configure")
        here = reverse("documents:approval-rules", kwargs={"tenant_slug": self.tenant.slug})
        if "delete" in request.POST:
            rule = get_object_or_404(ApprovalRule.objects.all(), pk=request.POST["delete"])
            rule._history_user = request.user
            rule.delete()
            messages.success(request, f"{rule.get_document_type_display()}: back to any approver.")
            return HttpResponseRedirect(here)
        instance = ApprovalRule.objects.filter(document_type=request.POST.get("document_type")).first()
        form = ApprovalRuleForm(request.POST, instance=instance)
        if form.is_valid():
            form.instance._change_reason = "Changed in the browser" if instance else "Created"
            form.save()
            messages.success(request, "Approval rule saved.")
            return HttpResponseRedirect(here)
        return self.render_to_response(self.get_context_data(form=form))
