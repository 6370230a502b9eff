"""Browser pages of the parties: customers, suppliers, internal groups, other interested
parties, and their contacts. Everyone reads them; process owners and admins edit."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from sms.core.api.serializers import tenant_members
from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import PageSizeMixin

from .choices import PARTY_TYPE_COLOURS
from .filters import PartyFilterSet
from .models import Contact, Party


class PartyForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")
    change_reason = forms.CharField(required=False, max_length=250, label="Reason for the change")

    class Meta:
        model = Party
        fields = [
            "name",
            "party_type",
            "description",
            "relationship_manager",
            "email",
            "phone",
            "website",
            "address",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relationship_manager"].queryset = tenant_members().order_by("username")
        self.fields["relationship_manager"].label_from_instance = lambda u: u.get_full_name() or u.username
        if self.instance._state.adding:
            del self.fields["change_reason"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Party.objects.filter(name__iexact=name, party_type=self.data.get("party_type"))
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A party of this type with this name already exists.")
        return name

    def save(self, commit: bool = True):
        reason = self.cleaned_data.get("change_reason")
        self.instance._change_reason = reason or ("Edited in the browser" if self.instance.pk else "Created")
        return super().save(commit=commit)


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "job_title", "email", "phone", "notes", "is_primary"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class PartyListView(PageSizeMixin, TenantViewMixin, ListView):
    capability = "party.view"
    template_name = "parties/list.html"

    def get_queryset(self):
        qs = Party.objects.select_related("relationship_manager")
        self.filterset = PartyFilterSet(self.request.GET or None, queryset=qs, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return qs.none()
        return self.filterset.qs.order_by("name", "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["filter"] = self.filterset
        for party in ctx["object_list"]:
            party.colour = PARTY_TYPE_COLOURS.get(party.party_type, "grey")
        return ctx


class PartyDetailView(TenantViewMixin, DetailView):
    capability = "party.view"
    template_name = "parties/detail.html"
    context_object_name = "party"

    def get_queryset(self):
        return Party.objects.select_related("relationship_manager", "created_by", "updated_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["contacts"] = list(self.object.contacts.order_by("-is_primary", "name"))
        ctx["contact_form"] = ContactForm()
        ctx["colour"] = PARTY_TYPE_COLOURS.get(self.object.party_type, "grey")
        ctx["history"] = list(self.object.history.select_related("history_user")[:20])
        return ctx


class _PartyFormMixin(TenantViewMixin):
    model = Party
    form_class = PartyForm
    template_name = "parties/form.html"

    def get_success_url(self) -> str:
        return reverse("parties:detail", kwargs={"tenant_slug": self.tenant.slug, "pk": self.object.pk})

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"{self.object.name} saved.")
        return response


class PartyCreateView(_PartyFormMixin, CreateView):
    capability = "party.create"


class PartyUpdateView(_PartyFormMixin, UpdateView):
    capability = "party.update"

    def get_queryset(self):
        return Party.objects.all()


class ContactAddView(TenantViewMixin, View):
    capability = "party.update"

    def post(self, request, *args, **kwargs):
        party = get_object_or_404(Party.objects.all(), pk=kwargs["pk"])
        form = ContactForm(request.POST, instance=Contact(party=party))
        if form.is_valid():
            form.save()
            messages.success(request, f"{form.instance.name} added.")
        else:
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return HttpResponseRedirect(
            reverse("parties:detail", kwargs={"tenant_slug": self.request.tenant.slug, "pk": party.pk})
        )


class ContactDeleteView(TenantViewMixin, View):
    capability = "party.update"

    def post(self, request, *args, **kwargs):
        contact = get_object_or_404(Contact.objects.filter(party_id=kwargs["pk"]), pk=kwargs["contact_id"])
        contact._change_reason = "Removed in the browser"
        contact.delete()
        messages.success(request, f"{contact.name} removed.")
        return HttpResponseRedirect(
            reverse("parties:detail", kwargs={"tenant_slug": self.request.tenant.slug, "pk": kwargs["pk"]})
        )
