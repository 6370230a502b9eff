"""Browser pages of the support groups: the internal groups with their member counts,
and one group's members, added and removed by administrators and process owners."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import TemplateView

from sms.core.views.mixins import TenantViewMixin, require_capability

from . import services_groups
from .models import GroupMember


class AddMemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=GroupMember.unscoped.none(), label="Member", empty_label="Choose a member")
    reason = forms.CharField(label="Reason", required=False, max_length=250)

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = services_groups.candidates(group)
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.username


class SupportGroupListView(TenantViewMixin, TemplateView):
    capability = "groupmember.view"
    template_name = "resolution/support_groups.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["groups"] = list(services_groups.support_groups())
        ctx["can_add_groups"] = self.membership.can("party.create")
        return ctx


class SupportGroupView(TenantViewMixin, TemplateView):
    capability = "groupmember.view"
    template_name = "resolution/support_group.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "membership", None) is not None:
            # Another tenant's party, or a party that is not an internal group: 404.
            self.group = get_object_or_404(services_groups.support_groups(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        can_add = self.membership.can("groupmember.create")
        ctx.update(
            group=self.group,
            members=list(services_groups.members_of(self.group)),
            can_add=can_add,
            can_remove=self.membership.can("groupmember.delete"),
            form=kwargs.get("form") or (AddMemberForm(group=self.group) if can_add else None),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        here = reverse("resolution-support-group", kwargs={"tenant_slug": self.tenant.slug, "pk": self.group.pk})
        if request.POST.get("action") == "remove":
            require_capability(request, "groupmember.delete")
            member_id = request.POST.get("member") or ""
            if not member_id.isdigit():
                raise Http404("No such member.")
            member = get_object_or_404(GroupMember.objects.select_related("user"), pk=member_id, group=self.group)
            services_groups.remove_group_member(member, membership=self.membership, reason=request.POST.get("reason"))
            messages.success(request, f"{member.user.get_full_name() or member.user} left {self.group}.")
            return HttpResponseRedirect(here)
        require_capability(request, "groupmember.create")
        form = AddMemberForm(request.POST, group=self.group)
        if form.is_valid():
            try:
                data = form.cleaned_data
                member = services_groups.add_group_member(
                    self.group, data["user"], membership=self.membership, reason=data["reason"]
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"{member.user.get_full_name() or member.user} joined {self.group}.")
                return HttpResponseRedirect(here)
        return self.render_to_response(self.get_context_data(form=form))
