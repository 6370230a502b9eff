"""Browser pages of service request fulfilment (8.1): the catalogue and its request
forms (generated from each item's questions), the request list and page with approval
and task completion, the approvals list, and the catalogue editor."""

from __future__ import annotations

from itertools import groupby

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from sms.core.api.serializers import tenant_members
from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import (
    Column,
    PageSizeMixin,
    RecordDetailView,
    RecordForm,
    RecordListView,
    RecordUpdateView,
)
from sms.tenancy.roles import Role

from . import catalogue_schema as cs
from . import services_requests as sr
from .choices import REQUEST_FINISHED_STATES, ApprovalMode, FieldType, RequestState, TaskState
from .filters_requests import ServiceRequestFilterSet
from .models import CatalogueItem, FulfilmentTask, ServiceRequest

ANSWER_PREFIX = "a_"


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"requests:{name}", kwargs={"tenant_slug": request.tenant.slug, **kwargs})


# --- requests -------------------------------------------------------------------------------
class ServiceRequestListView(RecordListView):
    model = ServiceRequest
    filterset_class = ServiceRequestFilterSet
    select_related = ("owner", "assignee", "service", "catalogue_item", "requester")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Title", sort="title", link=True),
        Column("state", "State", sort="state", badge=True),
        Column("priority", "Priority", sort="priority"),
        Column("catalogue_item", "Item"),
        Column("requester", "Requested for"),
        Column("assignee", "Assignee"),
        Column("fulfilment_due_at", "Fulfil by", sort="fulfilment_due_at"),
        Column("fulfilment_breached", "Breached", sort="fulfilment_breached"),
    )
    empty_text = "No service requests yet. They are made from the request catalogue."


class ApprovalsView(ServiceRequestListView):
    """Requests waiting for a decision that the signed-in person may take."""

    template_name = "resolution/request_approvals.html"
    default_sort = "fulfilment_due_at"
    empty_text = "Nothing is waiting for your approval."

    def get_capability(self) -> str:
        return "request.decide"

    def get_queryset(self):
        qs = super().get_queryset()
        return sr.awaiting_decision_by(qs, self.request.user, self.membership)

    def create_url(self):
        return None


class RequestForm(RecordForm):
    class Meta:
        model = ServiceRequest
        fields = ["title", "description", "customer", "assignment_group", "assignee", "owner"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.state in REQUEST_FINISHED_STATES:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.state in REQUEST_FINISHED_STATES:
            raise ValidationError(f"A {self.instance.get_state_display().lower()} request cannot be changed.")
        return data


class ServiceRequestUpdateView(RecordUpdateView):
    model = ServiceRequest
    form_class = RequestForm


class ServiceRequestDetailView(RecordDetailView):
    model = ServiceRequest
    template_name = "resolution/request_detail.html"
    select_related = (
        "owner",
        "created_by",
        "updated_by",
        "requester",
        "assignee",
        "service",
        "customer",
        "assignment_group",
        "catalogue_item",
    )
    detail_fields = ("catalogue_item", "service", "requester", "customer", "assignment_group", "assignee")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        req = self.object
        item = req.catalogue_item
        answers = req.answers or {}
        ctx.update(
            answers=[
                (q["label"], answers.get(q["name"]), q["type"]) for q in req.questions or [] if q["name"] in answers
            ],
            unanswered=[q["label"] for q in req.questions or [] if q["name"] not in answers],
            decisions=list(req.decisions.select_related("decided_by")),
            tasks=list(req.tasks.select_related("assignee", "done_by").order_by("position")),
            approvers=list(item.approvers.order_by("username")) if item.approval == ApprovalMode.NAMED else [],
            approver_role=Role(item.approver_role).label if item.approver_role else "",
            remaining_minutes=sr.remaining_minutes(req),
            can_work_tasks=self.membership.can("request.update") and req.state == RequestState.IN_FULFILMENT,
            task_states=[(TaskState.DONE, "Done"), (TaskState.NOT_NEEDED, "Not needed")],
        )
        return ctx


class TaskCompleteView(TenantViewMixin, View):
    """POST ``state`` (done or not needed) and ``notes`` for one task of a request."""

    capability = "request.update"

    def post(self, request, *args, **kwargs):
        task = get_object_or_404(
            FulfilmentTask.objects.select_related("request"), pk=kwargs["task_id"], request_id=kwargs["pk"]
        )
        try:
            task = sr.complete_task(
                task,
                by=request.user,
                notes=request.POST.get("notes", ""),
                state=request.POST.get("state", TaskState.DONE),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, f"Task “{task.title}”: {task.get_state_display().lower()}.")
        return HttpResponseRedirect(_url(request, "detail", pk=kwargs["pk"]))


# --- catalogue and request forms ----------------------------------------------------------
class CatalogueView(TenantViewMixin, TemplateView):
    """What can be requested, grouped by service."""

    capability = "request.view"
    template_name = "resolution/catalogue.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        items = CatalogueItem.objects.filter(is_active=True).select_related("service")
        if q:
            items = items.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(service__title__icontains=q))
        items = items.order_by("service__title", "name")
        ctx.update(
            q=q,
            groups=[(service, list(rows)) for service, rows in groupby(items, key=lambda i: i.service)],
            can_request=self.membership.can("request.create"),
            can_manage=self.membership.can("requestcatalogue.update"),
        )
        return ctx


def answer_field(q: dict) -> forms.Field:
    """The form field for one question; the answer is checked again by the schema."""
    common = {"label": q["label"], "required": False, "help_text": q.get("help", "")}
    kind = q["type"]
    if kind == FieldType.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == FieldType.NUMBER:
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == FieldType.CHOICE:
        # A plain field with a select: the schema check gives the message for a wrong value.
        return forms.CharField(widget=forms.Select(choices=[("", "—"), *[(c, c) for c in q["choices"]]]), **common)
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput(), **common)
    return forms.CharField(max_length=cs.MAX_TEXT[FieldType.TEXT], **common)


class SubmitForm(forms.Form):
    title = forms.CharField(max_length=250, required=False, help_text="A short summary; the item's name if empty.")
    requester = forms.ModelChoiceField(
        queryset=ServiceRequest.unscoped.none(),
        label="Requested for",
        help_text="Who needs it. You can request on someone's behalf; they cannot then approve it.",
    )
    description = forms.CharField(
        label="Anything else we should know", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, item: CatalogueItem, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.questions = cs.normalise_schema(item.fields)
        self.fields["requester"].queryset = tenant_members().order_by("username")
        self.fields["requester"].label_from_instance = lambda u: u.get_full_name() or u.username
        for q in self.questions:
            field = answer_field(q)
            field.question_required = q["required"]
            self.fields[ANSWER_PREFIX + q["name"]] = field

    def clean(self):
        data = super().clean()
        raw = {q["name"]: data.get(ANSWER_PREFIX + q["name"]) for q in self.questions}
        try:
            data["answers"] = sr.clean_answers(self.item, raw)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                key = ANSWER_PREFIX + name
                self.add_error(key if key in self.fields else None, errors)
        return data


class RequestSubmitView(TenantViewMixin, FormView):
    capability = "request.create"
    template_name = "resolution/request_submit.html"
    form_class = SubmitForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.item = get_object_or_404(
                CatalogueItem.objects.filter(is_active=True).select_related("service"), pk=kwargs["item_id"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "item": self.item}

    def get_initial(self):
        return {"requester": self.request.user.pk, "title": self.item.name}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            item=self.item,
            approver_role=Role(self.item.approver_role).label if self.item.approver_role else "",
            catalogue_url=_url(self.request, "catalogue"),
        )
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            req = sr.submit(
                self.item,
                by=self.request.user,
                answers=data["answers"],
                title=data.get("title", ""),
                description=data.get("description", ""),
                requester=data["requester"],
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                key = ANSWER_PREFIX + name
                form.add_error(key if key in form.fields else None, errors)
            return self.form_invalid(form)
        if req.state == RequestState.AWAITING_APPROVAL:
            messages.success(self.request, f"{req.reference} submitted; it waits for approval.")
        else:
            messages.success(self.request, f"{req.reference} submitted; no approval is needed.")
        return HttpResponseRedirect(_url(self.request, "detail", pk=req.pk))


# --- catalogue editor ---------------------------------------------------------------------
class CatalogueItemListView(PageSizeMixin, TenantViewMixin, ListView):
    capability = "requestcatalogue.view"
    template_name = "resolution/catalogue_items.html"
    context_object_name = "items"

    def get_queryset(self):
        return (
            CatalogueItem.objects.select_related("service")
            .annotate(
                n_requests=Count("requests", distinct=True),
                n_approvers=Count("approvers", distinct=True),
            )
            .order_by("service__title", "name", "id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_create"] = self.membership.can("requestcatalogue.create")
        ctx["can_edit"] = self.membership.can("requestcatalogue.update")
        return ctx


class CatalogueItemForm(RecordForm):
    question_lines = forms.CharField(
        label="Questions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        help_text="One a line: “Label | type | required or optional | allowed, values”. Types: "
        + ", ".join(FieldType.values)
        + ". Allowed values only for choice. A required yes/no question must be answered yes.",
    )
    task_lines = forms.CharField(
        label="Fulfilment tasks",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line, in order: “Title” or “Title | what to do”. Created when the request is approved.",
    )

    class Meta:
        model = CatalogueItem
        fields = [
            "service",
            "name",
            "description",
            "is_active",
            "approval",
            "approver_role",
            "approvers",
            "priority",
            "fulfilment_minutes",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = self.fields["service"].queryset.order_by("title")
        if self.instance.pk:
            self.initial["question_lines"] = cs.format_lines(self.instance.fields)
            self.initial["task_lines"] = cs.format_task_lines(self.instance.tasks)

    def clean_question_lines(self):
        try:
            return cs.parse_lines(self.cleaned_data["question_lines"])
        except cs.SchemaError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_task_lines(self):
        try:
            return cs.parse_task_lines(self.cleaned_data["task_lines"])
        except cs.SchemaError as exc:
            raise ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean()
        self.instance.fields = data.get("question_lines") or []
        self.instance.tasks = data.get("task_lines") or []
        if data.get("approval") == ApprovalMode.NAMED and not data.get("approvers"):
            self.add_error("approvers", "Name at least one approver.")
        name, service = (data.get("name") or "").strip(), data.get("service")
        if name and service is not None:
            qs = CatalogueItem.objects.filter(service=service, name__iexact=name)
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            if qs.exists():
                self.add_error("name", "This service already has a catalogue item of this name.")
        return data

    def _update_errors(self, errors):
        renamed = {"fields": "question_lines", "tasks": "task_lines"}
        if hasattr(errors, "error_dict"):
            errors = ValidationError({renamed.get(k, k): v for k, v in errors.error_dict.items()})
        super()._update_errors(errors)


class _CatalogueItemFormView(TenantViewMixin, FormView):
    template_name = "resolution/catalogue_item_form.html"
    form_class = CatalogueItemForm
    instance = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.instance}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "item": self.instance, "list_url": _url(self.request, "items")}

    def form_valid(self, form):
        try:
            with transaction.atomic():
                item = form.save()
        except IntegrityError:
            form.add_error("name", "This service already has a catalogue item of this name.")
            return self.form_invalid(form)
        messages.success(self.request, f"Catalogue item {item} saved.")
        return HttpResponseRedirect(_url(self.request, "items"))


class CatalogueItemCreateView(_CatalogueItemFormView):
    capability = "requestcatalogue.create"


class CatalogueItemUpdateView(_CatalogueItemFormView):
    capability = "requestcatalogue.update"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            self.instance = get_object_or_404(CatalogueItem.objects.all(), pk=kwargs["item_id"])
        return super().dispatch(request, *args, **kwargs)
