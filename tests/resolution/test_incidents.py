"""Incident workflow (clause 8.1): every transition, refusals, reasons, the on-hold pause,
the reopen window, due times in service calendars and breach flags."""

import datetime as dt

import pytest

from processes.resolution import services
from processes.resolution.models import Incident, ResolutionSettings
from processes.resolution.tasks import check_breaches, flag_breaches_for_tenant

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"
RESOLUTION = {"resolution_code": "fixed", "resolution_notes": "Restarted the mail relay."}


def take(client, inc_id, name, reason=""):
    return client.post(f"{INCIDENTS}{inc_id}/transitions/{name}/", {"reason": reason}, format="json")


def history_count(client, inc_id) -> int:
    return len(client.get(f"{INCIDENTS}{inc_id}/history/").json())


def test_full_lifecycle_over_the_api(api, personas):
    agent = api("agent")
    inc = agent.post(INCIDENTS, {"title": "Mail delayed", "impact": 2, "urgency": 1}, format="json").json()
    assert inc["state"] == "new" and inc["reference"].startswith("INC-")
    names = {t["name"]: t for t in agent.get(f"{INCIDENTS}{inc['id']}/transitions/").json()}
    assert set(names) == {"assign", "start", "cancel"}
    assert names["assign"]["blocked_by"]  # nobody to assign to yet

    resp = take(agent, inc["id"], "assign")
    assert resp.status_code == 400 and "assignee" in resp.json()
    agent.patch(f"{INCIDENTS}{inc['id']}/", {"assignee": personas["agent"].pk}, format="json")
    body = take(agent, inc["id"], "assign").json()
    assert body["state"] == "assigned" and body["responded_at"]

    assert take(agent, inc["id"], "start").json()["state"] == "in_progress"
    assert take(agent, inc["id"], "hold").status_code == 400  # a reason is required
    held = take(agent, inc["id"], "hold", "Waiting for the customer's log files").json()
    assert held["state"] == "on_hold" and held["paused_since"]
    assert take(agent, inc["id"], "resolve").status_code == 409  # not from on hold
    assert take(agent, inc["id"], "resume").json()["state"] == "in_progress"

    resp = take(agent, inc["id"], "resolve")
    assert resp.status_code == 400
    assert {"resolution_code", "resolution_notes"} <= set(resp.json())
    agent.patch(f"{INCIDENTS}{inc['id']}/", RESOLUTION, format="json")
    resolved = take(agent, inc["id"], "resolve").json()
    assert resolved["state"] == "resolved" and resolved["resolved_at"]
    assert take(agent, inc["id"], "reopen").status_code == 400  # reason required
    assert take(agent, inc["id"], "reopen", "Mail is late again").json()["state"] == "in_progress"
    assert take(agent, inc["id"], "resolve").json()["state"] == "resolved"
    closed = take(agent, inc["id"], "close").json()
    assert closed["state"] == "closed" and closed["closed_at"]
    # Closed is final: no transitions, no edits.
    assert agent.get(f"{INCIDENTS}{inc['id']}/transitions/").json() == []
    resp = agent.patch(f"{INCIDENTS}{inc['id']}/", {"title": "Changed"}, format="json")
    assert resp.status_code == 400
    reasons = [h["history_change_reason"] for h in agent.get(f"{INCIDENTS}{inc['id']}/history/").json()]
    assert "Put on hold: Waiting for the customer's log files" in reasons
    assert "Reopen: Mail is late again" in reasons


def test_start_work_takes_the_incident(api, personas):
    agent = api("agent")
    inc = agent.post(INCIDENTS, {"title": "Laptop broken"}, format="json").json()
    body = take(agent, inc["id"], "start").json()
    assert body["state"] == "in_progress" and body["assignee"] == personas["agent"].pk


@pytest.mark.parametrize("state", ["new", "assigned", "in_progress", "on_hold"])
def test_cancel_needs_a_reason(move, api, personas, state, make_incident, reload):
    inc = make_incident(assignee=personas["agent"])
    path = {"new": [], "assigned": ["assign"], "in_progress": ["start"], "on_hold": ["start", "hold"]}[state]
    for name in path:
        inc = move(inc, name, reason="Waiting for the supplier")
    agent = api("agent")
    assert take(agent, inc.pk, "cancel").status_code == 400
    assert take(agent, inc.pk, "cancel", "Logged twice").json()["state"] == "cancelled"
    assert reload(inc).closed_at is not None


def test_forbidden_transition_is_403_and_leaves_no_history(api, make_incident, reload):
    inc = make_incident()
    auditor = api("auditor")
    before = history_count(auditor, inc.pk)
    resp = take(auditor, inc.pk, "start")
    assert resp.status_code == 403
    assert history_count(auditor, inc.pk) == before
    assert reload(inc).state == "new"
    assert take(api("change_approver"), inc.pk, "start").status_code == 403
    assert take(api("process_owner"), inc.pk, "start").status_code == 200


def test_unavailable_transition_is_409_and_changes_nothing(api, make_incident, reload):
    inc = make_incident()
    agent = api("agent")
    before = history_count(agent, inc.pk)
    assert take(agent, inc.pk, "close").status_code == 409
    assert take(agent, inc.pk, "resume").status_code == 409
    assert take(agent, inc.pk, "teleport").status_code == 409
    assert history_count(agent, inc.pk) == before and reload(inc).state == "new"


# --- due times ----------------------------------------------------------------------------
def test_due_times_run_24x7_without_a_calendar(clock, make_incident):
    inc = make_incident(impact=1, urgency=1)  # P1: 15 min response, 4 h resolution
    assert inc.response_due_at == clock.now + dt.timedelta(minutes=15)
    assert inc.resolution_due_at == clock.now + dt.timedelta(hours=4)


def test_due_times_in_the_service_calendar_across_the_weekend(clock, business_service, make_incident):
    clock.set(dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.UTC))  # Friday 16:00 London
    inc = make_incident(service=business_service, impact=2, urgency=2)  # P3: 2 h / 24 working hours
    assert inc.response_due_at == dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)  # Monday 10:00
    # 24 h = three 8-hour days: 1 h on Friday, Mon, Tue, then 7 h on Wednesday.
    assert inc.resolution_due_at == dt.datetime(2026, 3, 11, 16, 0, tzinfo=dt.UTC)


def test_tenant_default_calendar_applies_to_incidents_without_service_calendar(
    clock, personas, tenant_a, in_tenant, make_incident
):
    from tests.factories import ServiceCalendarFactory

    with in_tenant(tenant_a, personas["admin"]):
        row = services.ensure_defaults()
        row.default_calendar = ServiceCalendarFactory(holidays=[])
        row.save()
    clock.set(dt.datetime(2026, 3, 7, 12, 0, tzinfo=dt.UTC))  # Saturday
    inc = make_incident(impact=1, urgency=1)
    assert inc.response_due_at == dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC)


def test_on_hold_pauses_the_resolution_clock(
    move, clock, business_service, personas, make_incident, reload, api, in_tenant, tenant_a
):
    inc = make_incident(service=business_service, impact=2, urgency=2, assignee=personas["agent"])
    due = inc.resolution_due_at
    inc = move(inc, "start")
    clock.advance(hours=1)  # 11:00
    inc = move(inc, "hold", reason="Waiting for the supplier")
    clock.advance(days=1, hours=2)  # Tuesday 13:00: 8 + 2 working hours on hold
    # Remaining time is frozen while on hold.
    with in_tenant(tenant_a):
        assert services.remaining_minutes(reload(inc)) == 23 * 60
    listed = api("agent").get(INCIDENTS, {"state": "on_hold"}).json()["results"][0]
    assert listed["resolution_left_minutes"] is None and listed["resolution_overdue"] is False
    inc = move(inc, "resume")
    inc = reload(inc)
    assert inc.paused_since is None and inc.paused_minutes == 10 * 60
    # Due Thursday 10:00 without the pause; ten working hours later: Friday 12:00.
    assert due == dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.UTC)
    assert inc.resolution_due_at == dt.datetime(2026, 3, 6, 12, 0, tzinfo=dt.UTC)
    with in_tenant(tenant_a):
        assert services.remaining_minutes(inc) == 23 * 60


def test_reopen_window(move, clock, personas, tenant_a, in_tenant, make_incident, api):
    agent = personas["agent"]
    inc = make_incident(assignee=agent, **RESOLUTION)
    inc = move(inc, "start")
    inc = move(inc, "resolve")
    with in_tenant(tenant_a):
        ResolutionSettings.objects.update(reopen_days=2)
    clock.advance(days=2, minutes=1)
    resp = take(api("agent"), inc.pk, "reopen", "Still broken")
    assert resp.status_code == 400 and "reopen window" in resp.json()["detail"]
    clock.advance(days=-1)
    assert take(api("agent"), inc.pk, "reopen", "Still broken").json()["state"] == "in_progress"


def test_reopened_time_resolved_does_not_count(move, clock, personas, make_incident, reload):
    agent = personas["agent"]
    inc = make_incident(assignee=agent, **RESOLUTION)  # 24x7
    due = inc.resolution_due_at
    inc = move(inc, "start")
    inc = move(inc, "resolve")
    clock.advance(hours=5)
    inc = move(inc, "reopen", reason="Back again")
    assert reload(inc).resolution_due_at == due + dt.timedelta(hours=5)


# --- breaches ---------------------------------------------------------------------------------
def test_breach_flags_set_by_the_planned_check(clock, personas, tenant_a, make_incident, reload, api):
    inc = make_incident(impact=1, urgency=1)  # respond in 15 min, resolve in 4 h (24x7)
    later = make_incident(impact=3, urgency=3)
    clock.advance(minutes=16)
    listed = {r["id"]: r for r in api("agent").get(INCIDENTS).json()["results"]}
    assert listed[inc.pk]["response_overdue"] is True and listed[inc.pk]["response_breached"] is False
    assert flag_breaches_for_tenant(tenant_id=tenant_a.pk) == 1
    inc = reload(inc)
    assert inc.response_breached and not inc.resolution_breached
    last = api("agent").get(f"{INCIDENTS}{inc.pk}/history/").json()[0]
    assert last["history_change_reason"] == "Target breached: response"
    assert last["history_user"] == "sms-system"
    assert flag_breaches_for_tenant(tenant_id=tenant_a.pk) == 0  # idempotent
    clock.advance(hours=4)
    assert flag_breaches_for_tenant(tenant_id=tenant_a.pk) == 1
    assert reload(inc).resolution_breached and not reload(later).response_breached
    assert api("agent").get(INCIDENTS, {"breached": "true"}).json()["count"] == 1


def test_beat_task_checks_every_tenant(clock, settings, tenant_a, tenant_b, make_incident, reload):
    from sms.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        inc = make_incident(impact=1, urgency=1)
        clock.advance(minutes=20)
        assert check_breaches() == 2
    finally:
        app.conf.task_always_eager = previous  # later tests rely on the test settings' value
    assert reload(inc).response_breached


def test_late_response_and_resolution_flag_at_the_transition(move, clock, personas, make_incident, reload):
    agent = personas["agent"]
    inc = make_incident(impact=1, urgency=1, assignee=agent, **RESOLUTION)
    clock.advance(hours=5)
    inc = move(inc, "start")
    assert inc.response_breached
    inc = move(inc, "resolve")
    assert reload(inc).resolution_breached


def test_breach_is_never_unset(clock, personas, make_incident, reload, api):
    inc = make_incident(impact=1, urgency=1)
    clock.advance(minutes=30)
    services_inc = reload(inc)
    assert services.refresh_breaches(services_inc)
    services_inc.response_due_at = clock.now + dt.timedelta(hours=1)
    assert not services.refresh_breaches(services_inc) and services_inc.response_breached


def test_incident_kind_is_registered():
    kind = Incident.kind()
    assert kind.prefix == "INC" and kind.clause == "8.1" and kind.closed_states == ("closed", "cancelled")
