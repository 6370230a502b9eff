"""Browser pages of the schedule of change (clause 9.2): the calendar (month and week,
filtered by service, type and state, with blackout windows and conflicts marked), the
member's secret address of the calendar feed, the feed itself (ICS, polled by calendar
applications without a session), and moving an approved or scheduled change."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views import View
from django.views.generic import TemplateView

from sms.core.models import FeedToken
from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import record_url
from sms.tenancy import context
from sms.tenancy.models import Membership

from . import ics, schedule
from .choices import ChangeState, ChangeType
from .models import Change

CALENDAR_LIMIT = 1000  # changes shown in one month; the page says when there are more
FEED_PAST_DAYS, FEED_FUTURE_DAYS, FEED_LIMIT = 90, 366, 2000


def _day_start(day: dt.date, tz) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), tz)


def _month_shift(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


class CalendarView(TenantViewMixin, TemplateView):
    """``?view=month|week&date=YYYY-MM-DD&service=<id>&change_type=&state=``."""

    template_name = "control/calendar.html"
    capability = "change.view"

    def get_context_data(self, **kwargs):
        from sms.cmdb.models import Service

        ctx = super().get_context_data(**kwargs)
        params = self.request.GET
        tz = timezone.get_current_timezone()
        today = timezone.localdate()
        mode = "week" if params.get("view") == "week" else "month"
        anchor = parse_date(params.get("date") or "") if _valid_date(params.get("date")) else None
        anchor = anchor or today
        if mode == "month":
            first = anchor.replace(day=1)
            grid_start = first - dt.timedelta(days=first.weekday())
            last = _month_shift(first, 1) - dt.timedelta(days=1)
            grid_end = last + dt.timedelta(days=6 - last.weekday())
            prev_date, next_date = _month_shift(first, -1), _month_shift(first, 1)
            title = first.strftime("%B %Y")
        else:
            grid_start = anchor - dt.timedelta(days=anchor.weekday())
            grid_end = grid_start + dt.timedelta(days=6)
            prev_date, next_date = grid_start - dt.timedelta(days=7), grid_start + dt.timedelta(days=7)
            title = f"Week of {grid_start.strftime('%d %B %Y')}"
        start, end = _day_start(grid_start, tz), _day_start(grid_end + dt.timedelta(days=1), tz)

        services = list(Service.objects.order_by("title"))
        service = next((s for s in services if str(s.pk) == params.get("service", "")), None)
        change_type = params.get("change_type", "") if params.get("change_type") in ChangeType.values else ""
        states = [s for s in params.getlist("state") if s in ChangeState.values]
        sched = schedule.schedule(
            start, end, service=service, change_type=change_type, states=states, limit=CALENDAR_LIMIT + 1
        )
        truncated = len(sched.entries) > CALENDAR_LIMIT
        entries = sched.entries[:CALENDAR_LIMIT]

        days = []
        day = grid_start
        while day <= grid_end:
            d0, d1 = _day_start(day, tz), _day_start(day + dt.timedelta(days=1), tz)
            days.append(
                {
                    "date": day,
                    "in_month": mode == "week" or day.month == anchor.month,
                    "today": day == today,
                    "entries": [
                        {"entry": e, "starts_here": e.change.planned_start >= d0 or day == grid_start}
                        for e in entries
                        if e.change.planned_start < d1 and e.change.planned_end > d0
                    ],
                    "blackouts": [b for b in sched.blackouts if b.starts_at < d1 and b.ends_at > d0],
                }
            )
            day += dt.timedelta(days=1)
        weeks = [days[i : i + 7] for i in range(0, len(days), 7)]

        def link(**changes) -> str:
            query = params.copy()
            for key, value in changes.items():
                query[key] = value
            return "?" + query.urlencode()

        ctx.update(
            mode=mode,
            title=title,
            weeks=weeks,
            weekdays=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            entries=entries,
            truncated=truncated,
            limit=CALENDAR_LIMIT,
            flagged=sum(1 for e in entries if e.flagged),
            blackouts=sched.blackouts,
            services=services,
            service=service,
            change_type=change_type,
            states=states,
            type_choices=ChangeType.choices,
            state_choices=ChangeState.choices,
            prev_url=link(date=prev_date.isoformat()),
            next_url=link(date=next_date.isoformat()),
            today_url=link(date=today.isoformat()),
            month_url=link(view="month"),
            week_url=link(view="week"),
            feed_token=FeedToken.objects.filter(membership=self.membership).first(),
            # A change's page is this plus its id: one reverse() instead of one per link.
            changes_url=reverse("changes:list", kwargs={"tenant_slug": self.tenant.slug}),
            can_create=self.membership.can("change.create"),
        )
        return ctx


def _valid_date(value) -> bool:
    try:
        return bool(value) and parse_date(value) is not None
    except ValueError:
        return False


class FeedKeyView(TenantViewMixin, View):
    """POST ``action=issue`` makes a new secret feed address (showing it once; any older
    one stops working); ``action=revoke`` deletes it."""

    capability = "change.view"

    def post(self, request, *args, **kwargs):
        calendar_url = reverse("changes:calendar", kwargs={"tenant_slug": request.tenant.slug})
        if request.POST.get("action") == "revoke":
            if FeedToken.revoke(request.membership):
                messages.success(request, "The calendar feed address is revoked: calendars using it get nothing now.")
            return HttpResponseRedirect(calendar_url)
        _, key = FeedToken.issue(request.membership)
        feed_url = request.build_absolute_uri(
            reverse("changes:calendar-feed", kwargs={"tenant_slug": request.tenant.slug, "key": key})
        )
        return render(request, "control/feed_key.html", {"feed_url": feed_url, "calendar_url": calendar_url})


class FeedView(View):
    """The schedule of change as ICS for the holder of a secret feed address: no session,
    read-only, in the key's tenant, with its member's right to see changes checked on
    every fetch. Anything wrong is a 404, which tells a guesser nothing."""

    def get(self, request, tenant_slug: str, key: str):
        token = FeedToken.lookup(key)
        if token is None or not token.user.is_active:
            raise Http404("No such feed.")
        context.activate(None, token.user)
        membership = Membership.unscoped.active().select_related("tenant").filter(pk=token.membership_id).first()
        if membership is None or membership.tenant.slug != tenant_slug or not membership.can("change.view"):
            raise Http404("No such feed.")
        tenant = membership.tenant
        context.activate(tenant, token.user, membership)
        request.tenant, request.membership = tenant, membership
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            FeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
        sched = schedule.schedule(
            now - dt.timedelta(days=FEED_PAST_DAYS), now + dt.timedelta(days=FEED_FUTURE_DAYS), limit=FEED_LIMIT
        )
        body = ics.calendar(
            sched.entries,
            sched.blackouts,
            name=f"{tenant.name}: schedule of change",
            uid_domain=f"{tenant.slug}.{request.get_host().split(':')[0] or 'sms'}",
            change_url=lambda change: request.build_absolute_uri(record_url(change)),
            now=now,
        )
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{tenant.slug}-changes.ics"'
        response["Cache-Control"] = "private, max-age=300"
        response["X-Robots-Tag"] = "noindex"
        return response


class RescheduleView(TenantViewMixin, View):
    """POST ``planned_start``, ``planned_end`` (datetime-local) and ``reason``: move an
    approved or scheduled change; the interested parties are told."""

    capability = "change.transition"

    def post(self, request, *args, **kwargs):
        from django import forms

        change = get_object_or_404(Change.objects.all(), pk=kwargs["pk"])
        field = forms.DateTimeField(required=False)
        try:
            start = field.clean(request.POST.get("planned_start") or None)
            end = field.clean(request.POST.get("planned_end") or None)
            schedule.reschedule(
                change, by=request.user, planned_start=start, planned_end=end, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            text = " ".join(m for msgs in exc.message_dict.values() for m in msgs) if hasattr(exc, "error_dict") else (
                " ".join(exc.messages)
            )
            messages.error(request, text)
        else:
            messages.success(request, f"{change.reference} moved; the interested parties of its services are told.")
        return HttpResponseRedirect(record_url(change))
