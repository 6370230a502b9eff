"""Service requests (8.1): submission against the item's questions, approval (approve,
reject, no self-approval, items without approval skip it), fulfilment tasks gating
fulfilment, due times in the service's calendar with the approval pause, breach flags,
and permissions over the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from processes.resolution import catalogue_schema as cs
from processes.resolution import services_requests as sr
from processes.resolution.models import FulfilmentTask, RequestDecision, ServiceRequest
from tests.factories_requests import CatalogueItemFactory, submit_request

pytestmark = pytest.mark.django_db
REQS = "/api/v1/service-requests/"
ITEMS = "/api/v1/catalogue-items/"
TASKS = "/api/v1/fulfilment-tasks/"
GOOD = {"model": "13-inch", "needed_by": "2026-04-01"}


@pytest.fixture
def make_item(personas, tenant_a, in_tenant):
    def make(**kwargs):
        with in_tenant(tenant_a, personas["admin"]):
            return CatalogueItemFactory(**kwargs)

    return make


@pytest.fixture
def reload(tenant_a, in_tenant):
    def get(req):
        with in_tenant(tenant_a):
            return ServiceRequest.objects.get(pk=req.pk)

    return get


def tasks_of(tenant, in_tenant, req) -> list[FulfilmentTask]:
    with in_tenant(tenant):
        return list(FulfilmentTask.objects.filter(request_id=req["id"] if isinstance(req, dict) else req.pk))


# --- the questions and the answers ---------------------------------------------------------
@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("not a list", "list"),
        ([{"type": "text"}], "label is required"),
        ([{"label": "Size", "type": "colour"}], "unknown type"),
        ([{"label": "Size", "type": "choice"}], "allowed values"),
        ([{"label": "Size", "type": "text", "choices": ["S"]}], "only questions of type 'choice'"),
        ([{"label": "Size"}, {"label": "size"}], "already uses the name"),
        ([{"label": "Size", "required": "yes"}], "true or false"),
        ([{"label": "Size", "name": "9bad"}], "must start with a letter"),
    ],
)
def test_bad_schemas_are_refused_naming_the_question(schema, message):
    with pytest.raises(cs.SchemaError, match=message):
        cs.normalise_schema(schema)


def test_schema_is_normalised_and_lines_round_trip():
    schema = cs.normalise_schema([{"label": "Needed by", "type": "date", "required": True}])
    assert schema == [
        {"name": "needed_by", "label": "Needed by", "type": "date", "required": True, "choices": [], "help": ""}
    ]
    lines = "Model | choice | required | 13-inch, 15-inch\nReason | textarea\n\n"
    parsed = cs.parse_lines(lines)
    assert [q["name"] for q in parsed] == ["model", "reason"]
    assert parsed[0]["choices"] == ["13-inch", "15-inch"] and parsed[0]["required"]
    assert cs.parse_lines(cs.format_lines(parsed)) == parsed
    with pytest.raises(cs.SchemaError, match="Line 1"):
        cs.parse_lines("Model | choice | maybe")
    assert cs.parse_task_lines("Order it | from the supplier\nHand over") == [
        {"title": "Order it", "description": "from the supplier"},
        {"title": "Hand over", "description": ""},
    ]


def test_answers_are_checked_against_the_schema():
    schema = cs.normalise_schema(
        [
            {"label": "Model", "type": "choice", "required": True, "choices": ["13-inch", "15-inch"]},
            {"label": "Needed by", "type": "date", "required": True},
            {"label": "Licences", "type": "number"},
            {"label": "Manager", "type": "email"},
            {"label": "I accept the policy", "type": "boolean", "required": True},
            {"label": "Reason", "type": "text"},
        ]
    )
    good = cs.validate_answers(
        schema,
        {
            "model": "15-inch",
            "needed_by": "2026-05-01",
            "licences": "2",
            "manager": "Boss@Example.com",
            "i_accept_the_policy": True,
            "reason": "  new starter ",
        },
    )
    assert good == {
        "model": "15-inch",
        "needed_by": "2026-05-01",
        "licences": 2,
        "manager": "boss@example.com",
        "i_accept_the_policy": True,
        "reason": "new starter",
    }
    with pytest.raises(ValidationError) as exc:
        cs.validate_answers(
            schema,
            {
                "model": "17-inch",
                "needed_by": "soon",
                "licences": "many",
                "manager": "nobody",
                "i_accept_the_policy": False,
                "colour": "red",
            },
        )
    errors = exc.value.message_dict
    assert set(errors) == {"model", "needed_by", "licences", "manager", "i_accept_the_policy", "colour"}
    assert "13-inch, 15-inch" in errors["model"][0]
    assert "YYYY-MM-DD" in errors["needed_by"][0]
    with pytest.raises(ValidationError) as exc:
        cs.validate_answers(schema, {})
    assert {"model", "needed_by", "i_accept_the_policy"} == set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        cs.validate_answers(schema, ["not", "a", "dict"])


def test_api_refuses_bad_answers_with_400_naming_the_field(api, make_item, personas, tenant_a, in_tenant):
    item = make_item()
    client = api("agent")
    resp = client.post(REQS, {"catalogue_item": item.pk, "answers": {"model": "17-inch"}}, format="json")
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert set(body["answers"]) == {"model", "needed_by"}
    assert "Choose one of" in body["answers"]["model"][0]
    for bad in ({"catalogue_item": item.pk, "answers": "text"}, {"answers": GOOD}, {"catalogue_item": 999999}):
        assert client.post(REQS, bad, format="json").status_code == 400
    with in_tenant(tenant_a):
        assert not ServiceRequest.objects.exists()
    inactive = make_item(is_active=False)
    resp = client.post(REQS, {"catalogue_item": inactive.pk, "answers": GOOD}, format="json")
    assert resp.status_code == 400 and "catalogue_item" in resp.json()


# --- approval ------------------------------------------------------------------------------
def test_item_without_approval_skips_it_and_creates_the_tasks(api, make_item, tenant_a, in_tenant, personas):
    item = make_item(approval="none")
    resp = api("agent").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["reference"].startswith("REQ-")
    assert body["state"] == "approved" and body["needs_approval"] is False
    assert body["title"] == item.name and body["requester"] == personas["agent"].pk
    assert [t["title"] for t in body["tasks"]] == ["Order the laptop", "Install the image", "Hand it over"]
    assert body["decisions"] == [] and body["answers"] == GOOD
    with in_tenant(tenant_a):
        req = ServiceRequest.objects.get(pk=body["id"])
        reasons = list(req.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == ["Submitted", "Accept (no approval needed)"]


def test_approve_with_rationale_creates_tasks(api, make_item, personas, tenant_a, in_tenant):
    item = make_item(approval="role", approver_role="process_owner")
    body = api("agent").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    assert body["state"] == "awaiting_approval" and body["tasks"] == [] and body["paused_since"]
    owner = api("process_owner")
    names = {t["name"]: t["allowed"] for t in owner.get(f"{REQS}{body['id']}/transitions/").json()}
    assert names == {"approve": True, "reject": True, "cancel": True}
    resp = owner.post(f"{REQS}{body['id']}/transitions/approve/", {}, format="json")
    assert resp.status_code == 400 and "reason" in resp.json()
    resp = owner.post(f"{REQS}{body['id']}/transitions/approve/", {"reason": "Within budget."}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["state"] == "approved" and body["paused_since"] is None and body["decided_at"]
    assert [(d["decision"], d["rationale"], d["decided_by"]["username"]) for d in body["decisions"]] == [
        ("approved", "Within budget.", "acme-process_owner")
    ]
    assert len(body["tasks"]) == 3
    # A second decision is not possible.
    again = owner.post(f"{REQS}{body['id']}/transitions/reject/", {"reason": "Changed my mind"}, format="json")
    assert again.status_code == 409


def test_reject_with_rationale_stops_the_request(api, make_item, personas, tenant_a, in_tenant):
    item = make_item(approval="named", approvers=[personas["top_management"]])
    body = api("agent").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    resp = api("top_management").post(
        f"{REQS}{body['id']}/transitions/reject/", {"reason": "Not in this year's budget."}, format="json"
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["state"] == "rejected" and body["closed_at"] and body["tasks"] == []
    assert body["decisions"][0]["decision"] == "rejected"
    assert api("agent").post(f"{REQS}{body['id']}/transitions/start/", format="json").status_code == 409
    # Finished requests cannot be edited.
    assert api("agent").patch(f"{REQS}{body['id']}/", {"title": "x"}, format="json").status_code == 400


def test_requester_and_submitter_never_approve_their_own_request(api, make_item, personas, tenant_a, in_tenant):
    item = make_item(approval="named", approvers=[personas["process_owner"], personas["agent"], personas["admin"]])
    # The agent submits on behalf of the process owner: neither of them may decide.
    body = (
        api("agent")
        .post(
            REQS, {"catalogue_item": item.pk, "answers": GOOD, "requester": personas["process_owner"].pk}, format="json"
        )
        .json()
    )
    url = f"{REQS}{body['id']}/transitions/approve/"
    for who in ("process_owner", "agent"):
        resp = api(who).post(url, {"reason": "Fine by me"}, format="json")
        assert resp.status_code == 403, (who, resp.content)
        assert "someone else" in resp.json()["detail"]
        allowed = {t["name"]: t["allowed"] for t in api(who).get(f"{REQS}{body['id']}/transitions/").json()}
        assert allowed["approve"] is False and allowed["reject"] is False
    with in_tenant(tenant_a):
        req = ServiceRequest.objects.get(pk=body["id"])
        assert req.state == "awaiting_approval" and not RequestDecision.objects.exists()
    # Someone else among the named approvers may.
    assert api("admin").post(url, {"reason": "Fine"}, format="json").status_code == 200
    # The requester cannot be changed afterwards to get round the rule.
    resp = api("agent").patch(f"{REQS}{body['id']}/", {"requester": personas["agent"].pk}, format="json")
    assert resp.status_code == 400 and "requester" in resp.json()


def test_only_the_items_approvers_decide(api, make_item, personas):
    by_role = make_item(approval="role", approver_role="top_management")
    body = api("agent").post(REQS, {"catalogue_item": by_role.pk, "answers": GOOD}, format="json").json()
    url = f"{REQS}{body['id']}/transitions/approve/"
    for who in ("process_owner", "admin", "change_approver", "auditor"):
        assert api(who).post(url, {"reason": "ok"}, format="json").status_code == 403, who
    assert api("top_management").post(url, {"reason": "ok"}, format="json").status_code == 200
    named = make_item(approval="named", approvers=[personas["change_approver"]])
    body = api("agent").post(REQS, {"catalogue_item": named.pk, "answers": GOOD}, format="json").json()
    url = f"{REQS}{body['id']}/transitions/reject/"
    assert api("process_owner").post(url, {"reason": "no"}, format="json").status_code == 403
    assert api("change_approver").post(url, {"reason": "no"}, format="json").status_code == 200


def test_awaiting_my_decision_filter(api, make_item, personas):
    item = make_item(approval="role", approver_role="process_owner")
    other = make_item(approval="named", approvers=[personas["top_management"]])
    client = api("agent")
    mine = client.post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    theirs = client.post(REQS, {"catalogue_item": other.pk, "answers": GOOD}, format="json").json()
    own = api("process_owner").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()

    def ids(who):
        rows = api(who).get(REQS, {"awaiting_my_decision": "true"}).json()["results"]
        return {r["id"] for r in rows}

    assert ids("process_owner") == {mine["id"]}  # never its own request
    assert ids("top_management") == {theirs["id"]}
    assert ids("agent") == set()
    assert own["id"] not in ids("process_owner")


# --- fulfilment tasks ----------------------------------------------------------------------
def test_tasks_gate_fulfilment(api, make_item, personas, tenant_a, in_tenant):
    item = make_item(approval="none")
    client = api("agent")
    body = client.post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    url = f"{REQS}{body['id']}/"
    task_ids = [t["id"] for t in body["tasks"]]
    # Tasks are worked once fulfilment has started.
    resp = client.post(f"{TASKS}{task_ids[0]}/complete/", {}, format="json")
    assert resp.status_code == 400 and "Start fulfilment" in resp.json()["state"][0]
    assert client.post(f"{url}transitions/start/", format="json").status_code == 200
    resp = client.post(f"{url}transitions/fulfil/", format="json")
    assert resp.status_code == 400 and "tasks" in resp.json()
    assert client.post(f"{TASKS}{task_ids[0]}/complete/", {"notes": "Ordered: PO-77"}, format="json").status_code == 200
    resp = client.post(f"{TASKS}{task_ids[1]}/complete/", {"state": "not_needed"}, format="json")
    assert resp.status_code == 400 and "notes" in resp.json()
    resp = client.post(f"{TASKS}{task_ids[1]}/complete/", {"state": "not_needed", "notes": "Pre-imaged"}, format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "not_needed"
    assert client.post(f"{TASKS}{task_ids[1]}/complete/", {}, format="json").status_code == 400  # already finished
    assert client.post(f"{url}transitions/fulfil/", format="json").status_code == 400
    assert api("auditor").post(f"{TASKS}{task_ids[2]}/complete/", {}, format="json").status_code == 403
    done = client.post(f"{TASKS}{task_ids[2]}/complete/", {}, format="json").json()
    assert done["state"] == "done" and done["done_by"]["username"] == "acme-agent" and done["done_at"]
    resp = client.post(f"{url}transitions/fulfil/", format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "fulfilled" and resp.json()["fulfilled_at"]
    assert client.post(f"{url}transitions/close/", format="json").json()["state"] == "closed"
    assert client.get(TASKS, {"request": body["id"], "state": "open"}).json()["count"] == 0


def test_cancelling_marks_open_tasks_not_needed(api, make_item, tenant_a, in_tenant):
    item = make_item(approval="none")
    client = api("agent")
    body = client.post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    assert client.post(f"{REQS}{body['id']}/transitions/cancel/", {}, format="json").status_code == 400
    resp = client.post(f"{REQS}{body['id']}/transitions/cancel/", {"reason": "No longer needed"}, format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "cancelled"
    assert {t.state for t in tasks_of(tenant_a, in_tenant, body)} == {"not_needed"}


# --- due times and breaches ----------------------------------------------------------------
def test_due_times_run_in_the_service_calendar_and_pause_for_approval(
    clock, business_service, make_item, personas, tenant_a, in_tenant, reload
):
    """Monday 2 March 2026 10:00 London; the service works Mon-Fri 09:00-17:00."""
    item = make_item(
        service=business_service, approval="role", approver_role="process_owner", priority=4, fulfilment_minutes=600
    )
    without = make_item(service=business_service, approval="none", priority=4, fulfilment_minutes=600)
    with in_tenant(tenant_a, personas["agent"]):
        quick = submit_request(without, by=personas["agent"])
        # P4 responds in 240 working minutes; the item is fulfilled in 600 (10 working hours).
        assert quick.response_due_at == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
        assert quick.fulfilment_due_at == dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
        req = submit_request(item, by=personas["agent"])
        assert req.state == "awaiting_approval" and req.paused_since == clock.now
        assert sr.remaining_minutes(req) == 600
    clock.set(dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC))  # Tuesday 10:00: 480 working minutes later
    with in_tenant(tenant_a, personas["process_owner"]):
        assert sr.remaining_minutes(reload(req)) == 600  # frozen while waiting
        from sms.core.workflow import run_transition

        req = run_transition(reload(req), "approve", by=personas["process_owner"], reason="ok")
    assert req.paused_minutes == 480 and req.paused_since is None
    # Both targets move out by the wait: response Tue 14:00, fulfilment Wed 12:00.
    assert req.response_due_at == dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    assert req.fulfilment_due_at == dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    assert not req.response_breached and not req.fulfilment_breached


def test_item_without_its_own_time_uses_the_priority_target(
    clock, business_service, make_item, personas, tenant_a, in_tenant
):
    item = make_item(service=business_service, approval="none", priority=3, fulfilment_minutes=None)
    with in_tenant(tenant_a, personas["agent"]):
        req = submit_request(item, by=personas["agent"])
    # P3: response 120, resolution 1440 working minutes: Mon 420 + Tue 480 + Wed 480 + Thu 60.
    assert req.response_due_at == dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert req.fulfilment_due_at == dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.UTC)


def test_breach_flags_are_kept_current(clock, business_service, make_item, personas, tenant_a, in_tenant, reload):
    from processes.resolution.tasks import check_breaches
    from sms.core.workflow import run_transition

    item = make_item(service=business_service, approval="none", priority=4, fulfilment_minutes=600)
    waiting = make_item(service=business_service, approval="role", approver_role="process_owner")
    with in_tenant(tenant_a, personas["agent"]):
        req = submit_request(item, by=personas["agent"])
        paused = submit_request(waiting, by=personas["agent"])
    clock.set(dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC))  # past the response due time
    with in_tenant(tenant_a):
        assert sr.flag_breaches() == 1
        assert sr.flag_breaches() == 0  # flags are set once
    req = reload(req)
    assert req.response_breached and not req.fulfilment_breached
    with in_tenant(tenant_a):
        assert req.history.order_by("-history_id").first().history_change_reason == "Target breached: response"
    assert not reload(paused).response_breached  # waiting for approval: the clock is paused
    with in_tenant(tenant_a, personas["agent"]):
        req = run_transition(req, "start", by=personas["agent"])
    clock.set(dt.datetime(2026, 3, 3, 12, 30, tzinfo=dt.UTC))  # past the fulfilment due time
    from sms.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        assert check_breaches() >= 1  # the beat task queues each tenant's checks
    finally:
        app.conf.task_always_eager = previous  # later tests rely on the test settings' value
    assert reload(req).fulfilment_breached


# --- permissions and the catalogue ------------------------------------------------------------
def test_who_may_request_and_edit_the_catalogue(api, make_item, personas):
    item = make_item()
    payload = {"catalogue_item": item.pk, "answers": GOOD}
    for who in ("agent", "top_management", "change_approver", "process_owner", "admin"):
        assert api(who).post(REQS, payload, format="json").status_code == 201, who
    assert api("auditor").post(REQS, payload, format="json").status_code == 403
    assert api("auditor").get(REQS).json()["count"] == 5
    new_item = {
        "service": item.service_id,
        "name": "Mailbox access",
        "fields": [{"label": "Mailbox", "type": "email", "required": True}],
        "tasks": ["Grant access", {"title": "Tell the requester"}],
        "approval": "named",
        "approvers": [personas["top_management"].pk],
        "priority": 4,
    }
    for who in ("agent", "auditor", "top_management"):
        assert api(who).post(ITEMS, new_item, format="json").status_code == 403, who
    resp = api("process_owner").post(ITEMS, new_item, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["fields"][0]["name"] == "mailbox"
    assert resp.json()["tasks"] == [
        {"title": "Grant access", "description": ""},
        {"title": "Tell the requester", "description": ""},
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fields": [{"label": "Size", "type": "colour"}]}, "fields"),
        ({"fields": "nope"}, "fields"),
        ({"tasks": [{"description": "no title"}]}, "tasks"),
        ({"approval": "named", "approvers": []}, "approvers"),
        ({"approval": "role", "approver_role": ""}, "approver_role"),
        ({"approval": "role", "approver_role": "auditor"}, "approver_role"),
        ({"approvers": [999999]}, "approvers"),
        ({"name": ""}, "name"),
        ({"priority": 9}, "priority"),
        ({"fulfilment_minutes": 0}, "fulfilment_minutes"),
    ],
)
def test_catalogue_item_validation(api, make_item, change, field):
    item = make_item()
    payload = {"service": item.service_id, "name": "Something else", "priority": 4, **change}
    resp = api("process_owner").post(ITEMS, payload, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()


def test_duplicate_item_name_and_deleting_items_in_use(api, make_item):
    item = make_item()
    client = api("admin")
    dup = {"service": item.service_id, "name": item.name.upper(), "priority": 4}
    assert client.post(ITEMS, dup, format="json").status_code == 400
    client.post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json")
    resp = client.delete(f"{ITEMS}{item.pk}/")
    assert resp.status_code == 400 and "deactivate" in resp.json()["detail"][0]
    unused = make_item()
    assert client.delete(f"{ITEMS}{unused.pk}/").status_code == 204


def test_answers_and_item_are_fixed_after_submission(api, make_item):
    item = make_item()
    client = api("agent")
    body = client.post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    resp = client.patch(f"{REQS}{body['id']}/", {"answers": {"model": "15-inch"}}, format="json")
    assert resp.status_code == 400 and "answers" in resp.json()
    resp = client.patch(f"{REQS}{body['id']}/", {"title": "Laptop for the new starter"}, format="json")
    assert resp.status_code == 200 and resp.json()["answers"] == GOOD


def test_who_may_cancel(api, make_item, personas):
    item = make_item(approval="role", approver_role="process_owner")
    mine = api("top_management").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    theirs = api("agent").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    # Someone outside the service desk cancels only what they asked for.
    url = f"{REQS}{theirs['id']}/transitions/cancel/"
    assert api("top_management").post(url, {"reason": "x"}, format="json").status_code == 403
    assert api("auditor").post(url, {"reason": "x"}, format="json").status_code == 403
    resp = api("top_management").post(f"{REQS}{mine['id']}/transitions/cancel/", {"reason": "Found one"}, format="json")
    assert resp.status_code == 200 and resp.json()["state"] == "cancelled"
    assert api("agent").post(url, {"reason": "Duplicate"}, format="json").json()["state"] == "cancelled"


def test_request_left_waiting_when_its_item_stops_needing_approval(api, make_item, personas, tenant_a, in_tenant):
    item = make_item(approval="role", approver_role="top_management")
    body = api("agent").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    resp = api("process_owner").patch(f"{ITEMS}{item.pk}/", {"approval": "none"}, format="json")
    assert resp.status_code == 200, resp.content
    url = f"{REQS}{body['id']}/transitions/approve/"
    assert api("agent").post(url, {"reason": "ok"}, format="json").status_code == 403  # its submitter
    assert api("process_owner").post(url, {"reason": "No approval needed any more"}, format="json").status_code == 200


def test_approvers_and_the_requester_are_told_through_the_outbox(api, make_item, personas, tenant_a, in_tenant):
    from sms.core.models.outbox import OutboundMessage

    def mail(req_id) -> list[tuple[str, str]]:
        with in_tenant(tenant_a):
            rows = OutboundMessage.objects.filter(topic="service_request", object_id=req_id).order_by("id")
            return [(m.recipient, m.subject) for m in rows]

    item = make_item(approval="role", approver_role="process_owner")
    body = (
        api("agent")
        .post(
            REQS,
            {"catalogue_item": item.pk, "answers": GOOD, "requester": personas["change_approver"].pk},
            format="json",
        )
        .json()
    )
    assert mail(body["id"]) == [
        ("acme-process_owner@example.test", f"[Acme IT Services] {body['reference']} awaits your approval")
    ]
    api("process_owner").post(f"{REQS}{body['id']}/transitions/reject/", {"reason": "No budget"}, format="json")
    told = mail(body["id"])[1:]
    assert sorted(r for r, _ in told) == ["acme-agent@example.test", "acme-change_approver@example.test"]
    assert all("was rejected" in s for _, s in told)
    with in_tenant(tenant_a):
        assert (
            "Reason: No budget"
            in OutboundMessage.objects.filter(topic="service_request", object_id=body["id"]).order_by("id").last().body
        )
    # A refused decision sends nothing.
    other = api("agent").post(REQS, {"catalogue_item": item.pk, "answers": GOOD}, format="json").json()
    before = len(mail(other["id"]))
    assert (
        api("agent").post(f"{REQS}{other['id']}/transitions/approve/", {"reason": "x"}, format="json").status_code
        == 403
    )
    assert len(mail(other["id"])) == before
    # Items without approval tell nobody at submission.
    quick = api("agent").post(REQS, {"catalogue_item": make_item().pk, "answers": GOOD}, format="json").json()
    assert mail(quick["id"]) == []
