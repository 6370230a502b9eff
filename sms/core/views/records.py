"""Generic browser pages for record kinds: list, detail, create, edit, and the actions
every record has (transitions, journal, attachments, links, watching).

An app gets its pages by subclassing the list/detail/form views with its model,
FilterSet, columns and form (see ``governance/views.py``); the actions are served
once for all kinds under ``/t/<slug>/records/<kind>/<pk>/...`` and answer htmx with the
refreshed section, plain browsers with a redirect back to the record.

Validation reuses the API's serializers, so the browser and the API cannot disagree on
what is acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.fields.related import RelatedField
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from sms.core import services
from sms.core.api import serializers as s
from sms.core.api.serializers import tenant_members
from sms.core.models import Attachment, JournalEntry, RecordLink, TenantModel, Watcher
from sms.core.models.collab import INVERSE_LABELS, LinkType, Visibility
from sms.core.registry import RecordKind, kinds
from sms.core.workflow import TransitionForbidden, WorkflowError, available_transitions, run_transition

from .mixins import TenantViewMixin, require_capability

MAX_PAGE_SIZE = 100
PAGE_SIZES = (25, 50, 100)
HISTORY_ROWS = 50


def record_url(record, view: str = "detail") -> str:
    kind = kinds.for_model(type(record))
    return reverse(f"{kind.url_namespace}:{view}", kwargs={"tenant_slug": record_tenant_slug(), "pk": record.pk})


def record_tenant_slug() -> str:
    from sms.tenancy import context

    return context.require_tenant().slug


# --- list --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of a record list. ``sort`` is the ordering key (None: not sortable)."""

    name: str
    label: str
    sort: str | None = None
    link: bool = False  # the cell links to the record
    badge: bool = False  # the value is a state shown as a coloured badge


class PageSizeMixin:
    """``?page_size=`` chosen by the reader, within 1..MAX_PAGE_SIZE."""

    paginate_by = PAGE_SIZES[0]

    def get_paginate_by(self, queryset) -> int:
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            return self.paginate_by
        return max(1, min(size, MAX_PAGE_SIZE))


class RecordListView(PageSizeMixin, TenantViewMixin, ListView):
    """Filter (the model's FilterSet), sort (``?sort=``), page (``?page=&page_size=``).

    Queries are fixed whatever the page size: ``select_related`` must cover every
    related column. htmx requests get only the results fragment.
    """

    model = None
    filterset_class = None
    columns: tuple[Column, ...] = ()
    select_related: tuple[str, ...] = ("owner",)
    default_sort = "-number"
    template_name = "records/list.html"
    results_template = "records/_results.html"
    empty_text = "Nothing recorded yet."

    @cached_property
    def kind(self) -> RecordKind:
        return kinds.for_model(self.model)

    def get_capability(self) -> str:
        return f"{self.kind.code}.view"

    def sort_keys(self) -> set[str]:
        keys = {c.sort for c in self.columns if c.sort}
        return keys | {f"-{k}" for k in keys}

    def current_sort(self) -> str:
        wanted = self.request.GET.get("sort", "")
        return wanted if wanted in self.sort_keys() else self.default_sort

    def get_queryset(self):
        qs = self.model.objects.select_related(*self.select_related)
        self.filterset = self.filterset_class(self.request.GET or None, queryset=qs, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return qs.none()
        return self.filterset.qs.order_by(self.current_sort(), "-pk")

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return [self.results_template]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            kind=self.kind,
            filter=self.filterset,
            columns=self.columns,
            sort=self.current_sort(),
            page_sizes=PAGE_SIZES,
            empty_text=self.empty_text,
            create_url=self.create_url(),
            results_template=self.results_template,
            is_filtered=any(v for k, v in self.request.GET.items() if k not in ("page", "page_size", "sort")),
        )
        return ctx

    def create_url(self) -> str | None:
        if not self.membership.can(f"{self.kind.code}.create"):
            return None
        try:
            return reverse(f"{self.kind.url_namespace}:create", kwargs={"tenant_slug": self.tenant.slug})
        except Exception:  # noqa: BLE001 - a kind without a create page
            return None


# --- detail ------------------------------------------------------------------------------
def history_rows(record, limit: int = HISTORY_ROWS) -> list:
    """Newest first, each with ``changes`` against the previous version."""
    rows = list(record.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    for newer, older in zip(rows, rows[1:], strict=False):
        newer.changes = [c for c in newer.diff_against(older).changes if c.field not in ("updated_at", "updated_by")]
    if rows:
        rows[-1].changes = []
    return rows[:limit]


def _other_end(link: RecordLink, record) -> tuple[str, object]:
    ct = ContentType.objects.get_for_model(record)
    if link.source_type_id == ct.pk and link.source_id == record.pk:
        return link.get_link_type_display(), link.target
    return INVERSE_LABELS.get(link.link_type, link.link_type), link.source


def record_context(request, record) -> dict:
    """Everything the record page's sections show; used by the page and by the htmx
    fragments that refresh a section after an action."""
    kind = kinds.for_model(type(record))
    ct = ContentType.objects.get_for_model(record)
    on_record = {"content_type": ct, "object_id": record.pk}
    links = []
    for link in RecordLink.objects.filter(
        Q(source_type=ct, source_id=record.pk) | Q(target_type=ct, target_id=record.pk)
    ).prefetch_related("source", "target"):
        label, other = _other_end(link, record)
        try:
            other_kind = kinds.for_model(type(other)) if other is not None else None
        except LookupError:  # linked to something that is not a record kind
            other_kind = None
        links.append({"link": link, "label": label, "other": other, "other_kind": other_kind})
    watchers = list(Watcher.objects.filter(**on_record).select_related("user"))
    membership = request.membership
    journal = JournalEntry.objects.filter(**on_record).select_related("author").order_by("-created_at", "-id")
    return {
        "record": record,
        "kind": kind,
        "transitions": [t for t in available_transitions(record, request.user) if t.allowed]
        if hasattr(record, "state")
        else [],
        "journal": list(journal[:100]),
        "attachments": list(Attachment.objects.filter(**on_record).select_related("uploaded_by")),
        "links": links,
        "watchers": watchers,
        "is_watching": any(w.user_id == request.user.pk for w in watchers),
        "history": history_rows(record),
        "link_kinds": [k for k in kinds if membership.can(f"{k.code}.view")],
        "link_types": LinkType.choices,
        "visibilities": Visibility.choices,
        "attachment_accept": ",".join(sorted(settings.SMS_ATTACHMENT_CONTENT_TYPES)),
        "attachment_max_mb": settings.SMS_ATTACHMENT_MAX_BYTES // (1024 * 1024),
    }


class RecordDetailView(TenantViewMixin, DetailView):
    """The record page: fields, state and allowed transitions, journal, attachments,
    links, watchers and history."""

    model = None
    select_related: tuple[str, ...] = ("owner", "created_by", "updated_by")
    detail_fields: tuple[str, ...] = ()
    template_name = "records/detail.html"
    context_object_name = "record"

    @cached_property
    def kind(self) -> RecordKind:
        return kinds.for_model(self.model)

    def get_capability(self) -> str:
        return f"{self.kind.code}.view"

    def get_queryset(self):
        return self.model.objects.select_related(*self.select_related)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(record_context(self.request, self.object))
        ctx["fields"] = [self.model._meta.get_field(name) for name in self.detail_fields]
        ctx["can_edit"] = self.membership.can(f"{self.kind.code}.update")
        return ctx


# --- create / edit -----------------------------------------------------------------------
def _tenant_safe_formfield(db_field, **kwargs):
    """Relations to tenant models start with an empty queryset: the form class is built
    at import time, when there is no tenant (the fail-closed manager would raise).
    ``RecordForm.__init__`` fills in the current tenant's rows."""
    remote = getattr(db_field, "remote_field", None)
    if remote is None or not isinstance(remote.model, type) or not issubclass(remote.model, TenantModel):
        return db_field.formfield(**kwargs)
    if getattr(remote, "parent_link", False):
        return None
    # ForeignKey/ManyToManyField.formfield() read the default manager eagerly; call the
    # generic RelatedField.formfield() with an empty queryset instead.
    empty = remote.model.unscoped.none()
    if isinstance(db_field, models.ManyToManyField):
        return RelatedField.formfield(db_field, form_class=forms.ModelMultipleChoiceField, queryset=empty,
                                      **kwargs)
    return RelatedField.formfield(db_field, form_class=forms.ModelChoiceField, queryset=empty,
                                  to_field_name=remote.field_name, blank=db_field.blank, **kwargs)


class _RecordFormMetaclass(forms.models.ModelFormMetaclass):
    def __new__(mcs, name, bases, attrs):
        meta = attrs.get("Meta")
        if meta is not None and not hasattr(meta, "formfield_callback"):
            meta.formfield_callback = staticmethod(_tenant_safe_formfield)
        return super().__new__(mcs, name, bases, attrs)


class RecordForm(forms.ModelForm, metaclass=_RecordFormMetaclass):
    """Base form for records: people fields offer only the tenant's members, related
    tenant rows only the current tenant's, dates get a date picker, and an edit carries a
    change reason into the history."""

    change_reason = forms.CharField(
        required=False, max_length=250, label="Reason for the change",
        help_text="Kept in the record's history.",
    )
    reason_required_on_update = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = tenant_members().order_by("username")
        for field in self.fields.values():
            if not isinstance(field, forms.ModelChoiceField):  # includes the multiple-choice field
                pass
            elif field.queryset.model is members.model:
                field.queryset = members
                field.label_from_instance = lambda user: user.get_full_name() or user.username
            elif issubclass(field.queryset.model, TenantModel):
                limit = field.get_limit_choices_to()
                field.queryset = field.queryset.model.objects.complex_filter(limit or {})
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        if self.instance._state.adding:
            del self.fields["change_reason"]
        elif self.reason_required_on_update:
            self.fields["change_reason"].required = True

    def save(self, commit: bool = True):
        reason = self.cleaned_data.get("change_reason")
        if reason:
            self.instance._change_reason = reason
        elif not self.instance._state.adding:
            self.instance._change_reason = "Edited in the browser"
        return super().save(commit=commit)


class _RecordFormMixin(TenantViewMixin):
    model = None
    form_class = RecordForm
    template_name = "records/form.html"
    action = "update"

    @cached_property
    def kind(self) -> RecordKind:
        return kinds.for_model(self.model)

    def get_capability(self) -> str:
        return f"{self.kind.code}.{self.action}"

    def get_success_url(self) -> str:
        return reverse(
            f"{self.kind.url_namespace}:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": self.object.pk}
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["kind"] = self.kind
        ctx["list_url"] = reverse(f"{self.kind.url_namespace}:list", kwargs={"tenant_slug": self.tenant.slug})
        ctx["cancel_url"] = record_url(self.object) if getattr(self, "object", None) else ctx["list_url"]
        return ctx

    def form_valid(self, form):
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            form.add_error(None, "This conflicts with an existing record; check the values and try again.")
            return self.form_invalid(form)
        messages.success(self.request, f"{self.object.reference} saved.")
        return response


class RecordCreateView(_RecordFormMixin, CreateView):
    action = "create"

    def get_initial(self):
        return {"owner": self.request.user.pk, **super().get_initial()}


class RecordUpdateView(_RecordFormMixin, UpdateView):
    action = "update"

    def get_queryset(self):
        return self.model.objects.all()


# --- actions on any record ---------------------------------------------------------------
class RecordActionView(TenantViewMixin, View):
    """Base of the per-record actions: resolves ``<kind>/<pk>`` in the current tenant
    (another tenant's record is a 404) and checks ``<kind>.view`` plus the action's own
    capability."""

    action_capability = ""
    section_template = ""  # htmx fragment re-rendered after the action

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        kind = kinds.find(kwargs["kind"])
        if kind is None or not kind.url_namespace:
            raise Http404("No such kind of record.")
        require_capability(request, f"{kind.code}.view")
        if self.action_capability:
            require_capability(request, self.action_capability)
        self.kind = kind
        self.record = get_object_or_404(kind.model.objects.all(), pk=kwargs["pk"])
        return View.dispatch(self, request, *args, **kwargs)

    def done(self, message: str = "", *, error: bool = False):
        if self.request.htmx and self.section_template:
            if message:
                (messages.error if error else messages.success)(self.request, message)
            response = render(self.request, self.section_template, record_context(self.request, self.record))
            response["HX-Trigger"] = "sms:messages"
            return response
        if message:
            (messages.error if error else messages.success)(self.request, message)
        return HttpResponseRedirect(record_url(self.record))

    @staticmethod
    def first_error(errors) -> str:
        if isinstance(errors, dict):
            for field, value in errors.items():
                text = RecordActionView.first_error(value)
                return text if field in ("non_field_errors", "detail") else f"{field.replace('_', ' ')}: {text}"
        if isinstance(errors, list) and errors:
            return RecordActionView.first_error(errors[0])
        return str(errors)


class TransitionView(RecordActionView):
    """POST ``reason``: take the transition through the one workflow service."""

    def post(self, request, *args, **kwargs):
        name = kwargs["name"]
        try:
            self.record = run_transition(self.record, name, by=request.user, reason=request.POST.get("reason", ""))
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except WorkflowError as exc:  # unavailable or blocked: the record is unchanged
            return self.done(str(exc), error=True)
        return self.done(f"{self.record.reference}: {self.record.get_state_display().lower()}.")


class JournalView(RecordActionView):
    action_capability = "journal.add"
    section_template = "records/_journal.html"

    def post(self, request, *args, **kwargs):
        ser = s.JournalEntrySerializer(data=request.POST)
        if not ser.is_valid():
            return self.done(self.first_error(ser.errors), error=True)
        services.add_journal_entry(self.record, by=request.user, **ser.validated_data)
        return self.done("Journal entry added.")


class AttachmentUploadView(RecordActionView):
    action_capability = "attachment.add"
    section_template = "records/_attachments.html"

    def post(self, request, *args, **kwargs):
        ser = s.AttachmentSerializer(data={"file": request.FILES.get("file")})
        if not ser.is_valid():
            return self.done(self.first_error(ser.errors), error=True)
        attachment = services.attach_file(self.record, ser.validated_data["file"], by=request.user)
        return self.done(f"{attachment.filename} attached.")


class AttachmentDownloadView(RecordActionView):
    def get(self, request, *args, **kwargs):
        attachment = get_object_or_404(
            Attachment.objects.filter(
                content_type=ContentType.objects.get_for_model(self.record), object_id=self.record.pk
            ),
            pk=kwargs["attachment_id"],
        )
        # Always a download: an uploaded HTML or SVG file must never render in our origin.
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type="application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class LinkAddView(RecordActionView):
    action_capability = "link.add"
    section_template = "records/_links.html"

    def post(self, request, *args, **kwargs):
        data = request.POST.dict()
        target = data.pop("target", "").strip()
        data["target_reference" if not target.isdigit() else "target_id"] = target
        ser = s.RecordLinkSerializer(data=data, context={"record": self.record, "request": request})
        if not ser.is_valid():
            return self.done(self.first_error(ser.errors), error=True)
        try:
            with transaction.atomic():
                services.link_records(self.record, by=request.user, **ser.validated_data)
        except IntegrityError:
            return self.done("These records are already linked this way.", error=True)
        return self.done("Link added.")


class LinkDeleteView(RecordActionView):
    action_capability = "link.delete"
    section_template = "records/_links.html"

    def post(self, request, *args, **kwargs):
        ct = ContentType.objects.get_for_model(self.record)
        link = get_object_or_404(
            RecordLink.objects.filter(
                Q(source_type=ct, source_id=self.record.pk) | Q(target_type=ct, target_id=self.record.pk)
            ),
            pk=kwargs["link_id"],
        )
        services.unlink_records(link, by=request.user)
        return self.done("Link removed.")


class WatchView(RecordActionView):
    """Toggle: watch the record, or stop watching it."""

    action_capability = "watch.manage"
    section_template = "records/_watchers.html"

    def post(self, request, *args, **kwargs):
        on_record = {"content_type": ContentType.objects.get_for_model(self.record), "object_id": self.record.pk}
        deleted, _ = Watcher.objects.filter(user=request.user, **on_record).delete()
        if deleted:
            return self.done("You no longer watch this record.")
        services.watch(self.record, request.user)
        return self.done("You are watching this record.")
