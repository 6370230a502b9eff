"""Planned activities: due/overdue, the dispatcher's claim, completion, and the
Celery wiring through a real Redis broker."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from sms.core.models import PlannedActivity, add_interval
from sms.core.registry import ActivityKind, activity_kinds
from sms.core.tasks import SYSTEM_USERNAME, claim_due_activities, dispatch_planned_activities
from sms.tenancy import context
from tests.factories import PlannedActivityFactory

TODAY = timezone.localdate()


def test_add_interval_handles_month_ends():
    assert add_interval(dt.date(2026, 1, 31), 1, "months") == dt.date(2026, 2, 28)
    assert add_interval(dt.date(2024, 2, 29), 1, "years") == dt.date(2025, 2, 28)
    assert add_interval(dt.date(2026, 12, 15), 2, "months") == dt.date(2027, 2, 15)
    assert add_interval(dt.date(2026, 1, 1), 2, "weeks") == dt.date(2026, 1, 15)


@pytest.fixture
def activities(personas, tenant_a, tenant_b):
    po = personas["process_owner"]
    with context.tenant_context(tenant_a, personas["admin"]):
        overdue = PlannedActivityFactory(title="Overdue audit", kind="internal_audit",
                                         next_due=TODAY - dt.timedelta(days=3), owner=po)
        soon = PlannedActivityFactory(title="Review soon", next_due=TODAY + dt.timedelta(days=5), owner=po)
        later = PlannedActivityFactory(title="Later", next_due=TODAY + dt.timedelta(days=200), owner=po)
        lead = PlannedActivityFactory(title="Prepared early", next_due=TODAY + dt.timedelta(days=7),
                                      lead_days=10, owner=po)
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        theirs = PlannedActivityFactory(title="Theirs", next_due=TODAY - dt.timedelta(days=1))
    return {"overdue": overdue, "soon": soon, "later": later, "lead": lead, "theirs": theirs}


def test_due_and_overdue_api(api, activities):
    client = api("agent")
    overdue = client.get("/api/v1/planned-activities/", {"due": "overdue"}).json()["results"]
    assert [a["title"] for a in overdue] == ["Overdue audit"]
    assert overdue[0]["is_overdue"] is True
    within = client.get("/api/v1/planned-activities/", {"due": "30"}).json()["results"]
    assert [a["title"] for a in within] == ["Review soon", "Prepared early"]


def test_claim_dispatches_each_due_occurrence_once(activities, tenant_a, settings,
                                                  django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        claimed = set(claim_due_activities(tenant_a))
    assert claimed == {activities["overdue"].pk, activities["lead"].pk}
    assert claim_due_activities(tenant_a) == []  # the same occurrence is not dispatched twice
    # Eager Celery in tests: the reminders went out, as the system user.
    assert sorted(m.subject.split(": ", 1)[1] for m in mail.outbox) == ["Overdue audit", "Prepared early"]
    with context.tenant_context(tenant_a):
        row = PlannedActivity.objects.get(pk=activities["overdue"].pk)
        assert row.dispatched_for == row.next_due
        assert row.history.latest().history_user.username == SYSTEM_USERNAME


def test_dispatcher_covers_every_tenant(activities):
    assert dispatch_planned_activities() == 3


def test_completion_advances_to_next_occurrence(api, activities, tenant_a):
    act = activities["overdue"]
    assert api("agent").post(f"/api/v1/planned-activities/{act.pk}/complete/").status_code == 403
    resp = api("process_owner").post(f"/api/v1/planned-activities/{act.pk}/complete/")
    assert resp.status_code == 200
    body = resp.json()
    assert body["next_due"] == add_interval(act.next_due, 12, "months").isoformat()
    assert body["is_overdue"] is False
    assert body["last_done_at"] is not None


def test_very_late_completion_does_not_leave_next_occurrence_overdue(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        act = PlannedActivityFactory(next_due=TODAY - dt.timedelta(days=100), interval_count=1,
                                     interval_unit="months")
        act.complete()
        assert act.next_due > TODAY


def test_handler_that_completes_automatically(personas, tenant_a, django_capture_on_commit_callbacks):
    calls = []

    def produce_report(activity) -> bool:
        calls.append(activity.pk)
        return True

    activity_kinds.register(ActivityKind("test_auto_report", "Test report", "6.2", handler=produce_report))
    try:
        with context.tenant_context(tenant_a, personas["admin"]):
            act = PlannedActivityFactory(kind="test_auto_report", next_due=TODAY, interval_count=1,
                                         interval_unit="months")
        with django_capture_on_commit_callbacks(execute=True):
            claim_due_activities(tenant_a)
        assert calls == [act.pk]
        with context.tenant_context(tenant_a):
            act.refresh_from_db()
            assert act.next_due == add_interval(TODAY, 1, "months")
            assert act.last_done_at is not None
    finally:
        activity_kinds._kinds.pop("test_auto_report")


def test_validation(api):
    client = api("process_owner")
    resp = client.post("/api/v1/planned-activities/", {"kind": "nope", "title": "x", "next_due": "2026-13-01",
                                                       "interval_count": 0, "lead_days": 500}, format="json")
    assert resp.status_code == 400
    assert {"kind", "next_due", "interval_count", "lead_days"} <= set(resp.json())
    ok = client.post("/api/v1/planned-activities/", {"kind": "management_review", "title": "MR",
                                                     "next_due": "2027-01-15"}, format="json")
    assert ok.status_code == 201, ok.content


def test_delete_deactivates_and_keeps_history(api, activities, tenant_a):
    act = activities["later"]
    assert api("admin").delete(f"/api/v1/planned-activities/{act.pk}/").status_code == 204
    with context.tenant_context(tenant_a):
        act.refresh_from_db()
        assert act.is_active is False
        assert act.history.count() == 2


def test_management_command_runs_in_tenant_as_system_user(activities, tenant_a, capsys):
    call_command("dispatch_planned", tenant="acme")
    assert "2 planned activities dispatched" in capsys.readouterr().out


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server (REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_task_travels_through_real_redis_broker(personas, tenant_a, settings):
    """A real worker consumes run_planned_activity from Redis and runs it in the tenant."""
    from celery.contrib.testing.worker import start_worker

    from sms.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with context.tenant_context(tenant_a, personas["admin"]):
        act = PlannedActivityFactory(title="Via Redis", next_due=TODAY, owner=personas["process_owner"])
    previous = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = os.environ["REDIS_URL"]
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            from sms.core.tasks import run_planned_activity

            run_planned_activity.apply_async(args=[act.pk], kwargs={"tenant_id": tenant_a.pk})
            deadline = time.monotonic() + 30
            while not mail.outbox and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous  # as the test settings have them
    # The worker (a thread here) ran the task in the tenant's context and mailed the owner.
    assert [m.subject for m in mail.outbox] == [f"[{tenant_a.name}] Due {TODAY:%Y-%m-%d}: Via Redis"]
