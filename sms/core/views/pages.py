"""Sign-in, the tenant chooser, the role home page and the planned-activities pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, ListView, TemplateView, UpdateView

from sms.core.api.serializers import tenant_members
from sms.core.filters import PlannedActivityFilterSet
from sms.core.models import PlannedActivity
from sms.core.models.planned import MAX_LEAD_DAYS
from sms.core.registry import activity_kinds, shell
from sms.tenancy.models import Membership
from sms.tenancy.roles import Role

from .mixins import TenantViewMixin, require_capability
from .records import PageSizeMixin


class LoginView(auth_views.LoginView):
    """Django's sign-in form; django-axes counts failures and locks a username+IP pair."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def start(request):
    """``/``: straight to the only tenant, or a choice between several."""
    memberships = list(
        Membership.unscoped.active()
        .filter(user=request.user, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )
    if len(memberships) == 1:
        return redirect("home", tenant_slug=memberships[0].tenant.slug)
    return render(request, "start.html", {"choices": memberships})


# Words for each role's home page: what it is for, and where to start.
ROLE_INTROS = {
    Role.AGENT: "Your queue: records you own or watch, and what is waiting for you.",
    Role.PROCESS_OWNER: "Your processes: decisions waiting for you and activities falling due.",
    Role.CHANGE_APPROVER: "Changes and releases waiting for your assessment or approval.",
    Role.TOP_MANAGEMENT: "How the service management system is doing, and what needs a decision.",
    Role.AUDITOR: "Read-only view of the tenant's records and evidence; audits and findings are yours to record.",
    Role.ADMIN: "Configure the tenant: members and roles, planned intervals, catalogues.",
}


class HomeView(TenantViewMixin, TemplateView):
    """The member's home: one panel per app that has something for their roles."""

    template_name = "home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        panels = []
        for panel in shell.panels_for(self.membership):
            panels.append({"panel": panel, **panel.context(self.request)})
        ctx["panels"] = panels
        ctx["intros"] = [(Role(r).label, ROLE_INTROS[r]) for r in self.membership.roles if r in ROLE_INTROS]
        return ctx


# --- planned activities ------------------------------------------------------------------
class PlannedActivityForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=())

    class Meta:
        model = PlannedActivity
        fields = [
            "kind",
            "title",
            "description",
            "owner",
            "interval_count",
            "interval_unit",
            "next_due",
            "lead_days",
            "is_active",
        ]
        widgets = {"next_due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"lead_days": f"Days before the due date to send the reminder (at most {MAX_LEAD_DAYS})."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = activity_kinds.choices()
        self.fields["owner"].queryset = tenant_members().order_by("username")


class PlannedListView(PageSizeMixin, TenantViewMixin, ListView):
    """What is due and overdue (``?due=overdue`` or ``?due=<days>``)."""

    capability = "planned.view"
    template_name = "planned/list.html"

    def get_queryset(self):
        qs = PlannedActivity.objects.select_related("owner")
        data = self.request.GET.copy()
        data.setdefault("is_active", "true")
        self.filterset = PlannedActivityFilterSet(data, queryset=qs, request=self.request)
        if not self.filterset.is_valid():
            return qs.none()
        return self.filterset.qs.order_by("next_due", "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["filter"] = self.filterset
        ctx["kinds"] = activity_kinds.choices()
        ctx["due"] = self.request.GET.get("due", "")
        return ctx


class _PlannedFormMixin(TenantViewMixin):
    capability = "planned.manage"
    model = PlannedActivity
    form_class = PlannedActivityForm
    template_name = "planned/form.html"

    def get_success_url(self) -> str:
        return reverse("planned", kwargs={"tenant_slug": self.tenant.slug})

    def form_valid(self, form):
        form.instance._change_reason = "Edited in the browser" if form.instance.pk else "Planned"
        messages.success(self.request, f"{form.instance.title} saved.")
        return super().form_valid(form)


class PlannedCreateView(_PlannedFormMixin, CreateView):
    pass


class PlannedUpdateView(_PlannedFormMixin, UpdateView):
    def get_queryset(self):
        return PlannedActivity.objects.all()


@require_POST
@login_required
def planned_complete(request, tenant_slug: str, pk: int):
    require_capability(request, "planned.complete")
    activity = get_object_or_404(PlannedActivity.objects.all(), pk=pk)
    if not activity.is_active:
        raise PermissionDenied("This activity is no longer active.")
    note = request.POST.get("reason", "").strip()
    due = activity.next_due
    activity._history_user = request.user
    activity.complete(reason=f"Occurrence due {due:%Y-%m-%d} completed" + (f": {note}" if note else ""))
    messages.success(request, f"{activity.title}: done; next due {activity.next_due:%d %b %Y}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("planned", kwargs={"tenant_slug": tenant_slug})
    return HttpResponseRedirect(target)


class MembersView(TenantViewMixin, ListView):
    """Who is in the tenant and with which roles (tenant administrators)."""

    capability = "member.manage"
    template_name = "members.html"
    paginate_by = 50

    def get_queryset(self):
        return Membership.objects.select_related("user").order_by("-is_active", "user__username")


class SearchView(TenantViewMixin, TemplateView):
    """Search every kind of record the member may read (``?q=``, optional ``?kind=``)."""

    template_name = "search.html"

    def get_context_data(self, **kwargs):
        from sms.core.search import search, searchable_kinds

        ctx = super().get_context_data(**kwargs)
        text = self.request.GET.get("q", "").strip()[:200]
        kind = self.request.GET.get("kind") or None
        ctx.update(q=text, kind=kind, kinds=searchable_kinds(self.membership),
                   hits=search(self.membership, text, kind=kind) if text else [])
        return ctx
