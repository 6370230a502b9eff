"""Escalation (clause 8.1): each rule action (notify the group, a role or the customer;
reassign; raise the priority), once per rule and incident, in service time, paused on
hold; the notice when a target is missed; the rules' API and pages."""

from __future__ import annotations

import datetime as dt

import pytest

from processes.resolution import services
from processes.resolution.models import Escalation, EscalationRule, GroupMember, Incident
from processes.resolution.services_escalation import evaluate
from processes.resolution.tasks import check_escalations
from sms.core.models import OutboundMessage, Watcher
from sms.tenancy import context
from tests.factories import ContactFactory, PartyFactory

pytestmark = pytest.mark.django_db
P3_RESOLUTION = 3 * 8 * 60  # default target of P3 (impact 2 x urgency 2), minutes


@pytest.fixture
def group(personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        party = PartyFactory(name="Second line", party_type="internal_group", email="second-line@acme.example")
        GroupMember.objects.create(group=party, user=personas["process_owner"])
        return party


@pytest.fixture
def rule(personas, tenant_a, in_tenant):
    def make(**kwargs):
        kwargs.setdefault("name", "Rule")
        kwargs.setdefault("target", "resolution")
        kwargs.setdefault("percent", 75)
        with in_tenant(tenant_a, personas["admin"]):
            obj = EscalationRule(**kwargs)
            obj.full_clean(exclude=["tenant"])
            obj.save()
            return obj

    return make


def run(tenant, who=None):
    with context.tenant_context(tenant, who):
        return evaluate()


def mails(tenant, incident):
    with context.tenant_context(tenant):
        return sorted(
            OutboundMessage.objects.filter(object_id=incident.pk, topic="escalation").values_list(
                "recipient", flat=True
            )
        )


def test_notify_group_at_75_percent_once(clock, rule, group, make_incident, personas, tenant_a, reload):
    rule(name="Warn the group", action="notify", notify="assignment_group")
    inc = make_incident(assignment_group=group, assignee=personas["agent"])
    clock.advance(minutes=int(P3_RESOLUTION * 0.75) - 1)
    assert run(tenant_a) == 0
    clock.advance(minutes=2)
    assert run(tenant_a) == 1
    assert run(tenant_a) == 0  # once per rule and incident
    assert mails(tenant_a, inc) == [
        "acme-agent@example.test",
        "acme-process_owner@example.test",
        "second-line@acme.example",
    ]
    with context.tenant_context(tenant_a):
        (esc,) = Escalation.objects.filter(incident=inc)
        assert (esc.rule_name, esc.action, esc.percent) == ("Warn the group", "notify", 75)
        assert "second-line@acme.example" in esc.detail
        assert reload(inc).history.latest().history_change_reason.startswith("Escalated (Warn the group)")


def test_notify_role_and_customer(clock, rule, make_incident, personas, tenant_a, in_tenant):
    rule(name="Owners", action="notify", notify="role", role="process_owner", percent=50)
    rule(name="Customer", action="notify", notify="customer", percent=50)
    with in_tenant(tenant_a, personas["admin"]):
        caller = ContactFactory(email="pat@customer.example")
    inc = make_incident(caller=caller)
    silent = make_incident()  # no caller: nobody to tell, still recorded once
    clock.advance(minutes=P3_RESOLUTION // 2 + 1)
    assert run(tenant_a) == 4
    assert mails(tenant_a, inc) == ["acme-process_owner@example.test", "pat@customer.example"]
    with context.tenant_context(tenant_a):
        customer_msg = OutboundMessage.objects.get(object_id=inc.pk, recipient="pat@customer.example")
        assert "taking longer" in customer_msg.body and "rule" not in customer_msg.body.lower()
        nobody = Escalation.objects.get(incident=silent, rule_name="Customer")
        assert nobody.detail.startswith("Nobody to notify")


def test_reassign_to_another_group(clock, rule, group, make_incident, personas, tenant_a, reload, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        first = PartyFactory(name="First line", party_type="internal_group")
    rule(name="Hand over", action="reassign", reassign_to=group, target="response", percent=100)
    inc = make_incident(assignment_group=first, assignee=None)
    clock.advance(minutes=121)  # P3 responds in 120 minutes
    assert run(tenant_a) == 1
    after = reload(inc)
    assert after.assignment_group_id == group.pk and after.assignee_id is None
    assert "second-line@acme.example" in mails(tenant_a, inc)
    with context.tenant_context(tenant_a):
        assert "Reassigned from First line to Second line" in Escalation.objects.get(incident=inc).detail


def test_response_rule_does_not_act_once_responded(clock, rule, make_incident, move, tenant_a):
    rule(name="Late response", action="notify", notify="role", role="admin", target="response", percent=100)
    answered = make_incident()
    waiting = make_incident()
    move(answered, "start")
    clock.advance(minutes=121)
    assert run(tenant_a) == 1
    with context.tenant_context(tenant_a):
        assert list(Escalation.objects.values_list("incident_id", flat=True)) == [waiting.pk]


def test_raise_priority_keeps_due_times(clock, rule, make_incident, tenant_a, reload):
    rule(name="Raise", action="raise_priority", raise_by=1, percent=100)
    inc = make_incident()
    top = make_incident(impact=1, urgency=1)
    due = (inc.response_due_at, inc.resolution_due_at)
    clock.advance(minutes=P3_RESOLUTION + 1)
    assert run(tenant_a) == 2
    after = reload(inc)
    assert (after.priority, after.priority_overridden) == (2, True)
    assert "Raise" in after.priority_override_reason
    assert (after.response_due_at, after.resolution_due_at) == due
    assert reload(top).priority == 1
    with context.tenant_context(tenant_a):
        assert "already" in Escalation.objects.get(incident=top).detail


def test_priority_filter(clock, rule, make_incident, tenant_a):
    rule(name="Only P1", action="notify", notify="role", role="admin", percent=10, priorities=[1])
    make_incident()  # P3
    p1 = make_incident(impact=1, urgency=1)
    clock.advance(minutes=P3_RESOLUTION)
    assert run(tenant_a) == 1
    with context.tenant_context(tenant_a):
        assert list(Escalation.objects.values_list("incident_id", flat=True)) == [p1.pk]


def test_time_on_hold_does_not_count(clock, rule, make_incident, move, tenant_a):
    rule(name="Half way", action="notify", notify="role", role="admin", percent=50)
    inc = make_incident(assignee=None)
    move(inc, "start")
    clock.advance(minutes=60)
    move(inc, "hold", reason="Waiting for the customer")
    clock.advance(minutes=P3_RESOLUTION)  # a long wait on hold
    assert run(tenant_a) == 0  # on hold: the clock is paused
    move(inc, "resume")
    clock.advance(minutes=P3_RESOLUTION // 2 - 60 - 5)
    assert run(tenant_a) == 0  # half the target of service time has not gone yet
    clock.advance(minutes=10)
    assert run(tenant_a) == 1


def test_counts_service_hours_not_the_wall_clock(clock, rule, make_incident, business_service, tenant_a):
    """Mon-Fri 09:00-17:00: 75% of a 24-working-hour target is 18 working hours, i.e.
    Wednesday 12:00 for an incident logged on Monday at 10:00."""
    rule(name="Three quarters", action="notify", notify="role", role="admin", percent=75)
    make_incident(service=business_service)
    clock.set(dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC))  # 24 wall-clock hours, 8 working hours
    assert run(tenant_a) == 0
    clock.set(dt.datetime(2026, 3, 4, 11, 59, tzinfo=dt.UTC))
    assert run(tenant_a) == 0
    clock.set(dt.datetime(2026, 3, 4, 12, 1, tzinfo=dt.UTC))
    assert run(tenant_a) == 1


def test_inactive_rules_and_finished_incidents_do_nothing(clock, rule, make_incident, tenant_a, personas, move):
    rule(name="Off", action="notify", notify="role", role="admin", percent=10, is_active=False)
    rule(name="On", action="notify", notify="role", role="admin", percent=10)
    inc = make_incident(assignee=personas["agent"])
    move(inc, "cancel", reason="Duplicate")
    clock.advance(minutes=P3_RESOLUTION)
    assert run(tenant_a) == 0


def test_missed_target_informs_customer_and_interested_parties(clock, make_incident, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        caller = ContactFactory(email="pat@customer.example")
        caller.party.email = "desk@customer.example"
        caller.party.save()
    inc = make_incident(caller=caller, customer=caller.party, assignee=personas["agent"])
    with in_tenant(tenant_a, personas["admin"]):
        from django.contrib.contenttypes.models import ContentType

        Watcher.objects.create(
            content_type=ContentType.objects.get_for_model(Incident), object_id=inc.pk, user=personas["process_owner"]
        )
    clock.advance(minutes=P3_RESOLUTION + 1)  # both targets missed
    with context.tenant_context(tenant_a):
        assert services.flag_breaches() == 1
        assert services.flag_breaches() == 0
        rows = list(Escalation.objects.filter(incident=inc).order_by("target"))
        messages = list(OutboundMessage.objects.filter(object_id=inc.pk, topic="escalation"))
    assert [(r.action, r.target) for r in rows] == [("breach_notice", "resolution"), ("breach_notice", "response")]
    to_customer = [m for m in messages if m.recipient == "pat@customer.example"]
    assert len(to_customer) == 2 and "not been able to" in to_customer[0].body
    assert {m.recipient for m in messages} == {
        "pat@customer.example",
        "desk@customer.example",
        "acme-process_owner@example.test",
        "acme-agent@example.test",
    }


def test_beat_task_runs_every_tenant(clock, rule, make_incident, tenant_a, personas):
    rule(name="Soon", action="notify", notify="role", role="admin", percent=1)
    inc = make_incident()
    clock.advance(minutes=60)
    assert check_escalations() == 2  # acme and globex, eager Celery
    with context.tenant_context(tenant_a):
        assert Escalation.objects.filter(incident=inc).count() == 1


# --- API -------------------------------------------------------------------------------------------
RULES = "/api/v1/escalation-rules/"


def test_rules_api_and_validation(api, group, personas, tenant_a, in_tenant):
    admin = api("admin")
    ok = admin.post(
        RULES,
        {
            "name": "Warn",
            "target": "resolution",
            "percent": 80,
            "action": "notify",
            "notify": "assignment_group",
            "priorities": [2, 1, 1],
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["priorities"] == [1, 2] and "80%" in ok.json()["summary"]
    assert api("agent").post(RULES, {"name": "x", "percent": 10}, format="json").status_code == 403
    assert api("agent").get(RULES).json()["count"] == 1
    with in_tenant(tenant_a, personas["admin"]):
        customer = PartyFactory()
    for bad, field in [
        ({"name": "x", "percent": 0, "action": "notify", "notify": "role", "role": "admin"}, "percent"),
        ({"name": "x", "percent": 10, "action": "notify"}, "notify"),
        ({"name": "x", "percent": 10, "action": "notify", "notify": "role"}, "role"),
        ({"name": "x", "percent": 10, "action": "reassign"}, "reassign_to"),
        ({"name": "x", "percent": 10, "action": "reassign", "reassign_to": customer.pk}, "reassign_to"),
        ({"name": "x", "percent": 10, "action": "raise_priority", "priorities": [9]}, "priorities"),
        ({"name": "x", "percent": 10, "action": "raise_priority", "raise_by": 9}, "raise_by"),
    ]:
        resp = admin.post(RULES, bad, format="json")
        assert resp.status_code == 400 and field in resp.json(), (bad, resp.content)
    rule_id = ok.json()["id"]
    assert admin.patch(f"{RULES}{rule_id}/", {"action": "reassign"}, format="json").status_code == 400
    resp = admin.patch(f"{RULES}{rule_id}/", {"action": "reassign", "reassign_to": group.pk}, format="json")
    assert resp.status_code == 200 and resp.json()["reassign_to"] == group.pk
    assert api("outsider_admin").get(f"{RULES}{rule_id}/").status_code == 404


def test_escalations_listed_on_the_incident(clock, rule, make_incident, api, tenant_a):
    rule(name="Soon", action="notify", notify="role", role="admin", percent=1)
    inc = make_incident()
    clock.advance(minutes=60)
    run(tenant_a)
    rows = api("auditor").get(f"/api/v1/incidents/{inc.pk}/escalations/").json()
    assert [r["rule_name"] for r in rows] == ["Soon"]
    listed = api("auditor").get("/api/v1/incident-escalations/", {"incident": inc.pk}).json()["results"]
    assert [r["incident_reference"] for r in listed] == [inc.reference]
    assert api("outsider_admin").get(f"/api/v1/incident-escalations/{listed[0]['id']}/").status_code == 404


# --- pages -------------------------------------------------------------------------------------------
PAGE = "/t/acme/resolution/escalation-rules/"


def test_rules_pages(web, group, tenant_a, clock, make_incident, rule):
    assert "No escalation rules yet" in web("agent").get(PAGE).content.decode()
    assert web("agent").get(f"{PAGE}new/").status_code == 403
    resp = web("admin").post(
        f"{PAGE}new/",
        {
            "name": "Group at 75%",
            "is_active": "on",
            "target": "resolution",
            "percent": 75,
            "action": "notify",
            "notify": "assignment_group",
            "priorities": ["1", "2"],
            "raise_by": 1,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    bad = web("admin").post(
        f"{PAGE}new/", {"name": "No group", "target": "resolution", "percent": 75, "action": "reassign", "raise_by": 1}
    )
    assert bad.status_code == 200 and "Choose the group" in bad.content.decode()
    page = web("agent").get(PAGE).content.decode()
    assert "Group at 75%" in page and "P1, P2" in page and "New rule" not in page
    with context.tenant_context(tenant_a):
        pk = EscalationRule.objects.get(name="Group at 75%").pk
    assert web("agent").post(f"{PAGE}{pk}/delete/").status_code == 403
    assert web("admin").post(f"{PAGE}{pk}/delete/").status_code == 302
    assert web("outsider_admin").get(PAGE).status_code == 404
    # The escalation shows on the incident's page.
    rule(name="Early warning", action="notify", notify="role", role="admin", percent=1)
    inc = make_incident()
    clock.advance(minutes=60)
    run(tenant_a)
    detail = web("agent").get(f"/t/acme/incidents/{inc.pk}/").content.decode()
    assert "Early warning" in detail


def test_a_second_evaluator_cannot_act_twice(clock, rule, make_incident, tenant_a, personas):
    """Two workers that both picked the incident: the unique escalation row lets one act."""
    from processes.resolution.services_escalation import escalate

    warn = rule(name="Warn", action="notify", notify="role", role="admin", percent=1)
    raise_rule = rule(name="Raise", action="raise_priority", raise_by=2, percent=1)
    inc = make_incident()
    with context.tenant_context(tenant_a):
        assert escalate(Incident.objects.get(pk=inc.pk), warn) is not None
        assert escalate(Incident.objects.get(pk=inc.pk), warn) is None
        assert escalate(Incident.objects.get(pk=inc.pk), raise_rule) is not None
        assert escalate(Incident.objects.get(pk=inc.pk), raise_rule) is None
        assert Incident.objects.get(pk=inc.pk).priority == 1  # raised once, from P3 by two levels
        assert OutboundMessage.objects.filter(object_id=inc.pk, topic="escalation").count() == 1
        assert Escalation.objects.filter(incident=inc).count() == 2
