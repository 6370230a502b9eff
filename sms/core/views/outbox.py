"""The e-mail outbox page: what the SMS sent or is about to send, and retrying failures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from sms.core import outbox
from sms.core.filters import OutboundMessageFilterSet
from sms.core.models import OutboundMessage
from sms.core.models.outbox import MAX_ATTEMPTS, MESSAGE_STATUS_COLOURS, MessageStatus

from .mixins import TenantViewMixin, require_capability
from .records import PAGE_SIZES, PageSizeMixin


class OutboxListView(PageSizeMixin, TenantViewMixin, ListView):
    capability = "outbox.view"
    template_name = "outbox/list.html"

    def get_queryset(self):
        qs = OutboundMessage.objects.select_related("content_type").prefetch_related("record")
        self.filterset = OutboundMessageFilterSet(self.request.GET or None, queryset=qs, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return qs.none()
        return self.filterset.qs.order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        from django.db.models import Count

        ctx = super().get_context_data(**kwargs)
        counts = dict(OutboundMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
        ctx.update(
            filter=self.filterset,
            page_sizes=PAGE_SIZES,
            colours={k.value: v for k, v in MESSAGE_STATUS_COLOURS.items()},
            counts=[(s.value, s.label, counts.get(s.value, 0)) for s in MessageStatus],
            can_retry=self.membership.can("outbox.retry"),
            max_attempts=MAX_ATTEMPTS,
        )
        return ctx


@require_POST
@login_required
def outbox_retry(request, tenant_slug: str, pk: int):
    require_capability(request, "outbox.retry")
    message = get_object_or_404(OutboundMessage.objects.all(), pk=pk)
    if message.status == MessageStatus.SENT:
        messages.error(request, "That message was sent already.")
    else:
        outbox.retry(message)
        messages.success(request, f"The message to {message.recipient} is queued again.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("outbox", kwargs={"tenant_slug": tenant_slug})
    return HttpResponseRedirect(target)
