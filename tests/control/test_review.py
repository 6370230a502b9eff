"""Looking back on changes (clause 9.2): the major-impact guard (a link to the record of
the new or changed service), the investigation of a failed change with its agreed
actions, and change trend analysis at planned intervals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from governance.models import Improvement
from processes.control.models import Change, ChangeTrendReport
from processes.control.services_review import ACTIVITY_KIND, analyse_changes, period_of
from sms.core.models import LinkType, PlannedActivity, RecordLink
from sms.core.workflow import run_transition
from sms.tenancy import context
from tests.control.test_changes import reload, take, url
from tests.factories import CITypeFactory, ConfigurationItemFactory, ServiceFactory
from tests.factories_control import approved_change, make_change


def failed_change(people, tenant, *, back_out=True, cis=()):
    """An approved change implemented and failed (and backed out), as the process owner."""
    with context.tenant_context(tenant, people["process_owner"]):
        change = approved_change(people, cis=cis)
        now = timezone.now()
        Change.objects.filter(pk=change.pk).update(planned_start=now, planned_end=now + dt.timedelta(hours=1))
        change.refresh_from_db()
        owner = people["process_owner"]
        for name, reason in (("schedule", ""), ("start_implementation", ""), ("fail", "Timed out")):
            change = run_transition(change, name, by=owner, reason=reason)
        if back_out:
            change = run_transition(change, "back_out", by=owner, reason="Snapshot restored")
    return change


# --- major impact needs its new-or-changed-service record -------------------------------------------
def test_major_change_goes_to_approvers_only_with_its_service_record(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, service_action="remove")
        design = make_change(personas, title="Service design: retire the fax gateway")
    assert change.is_major
    assert take(api("agent"), change, "submit").status_code == 200
    assert take(api("change_approver"), change, "start_assessment").status_code == 200
    refused = take(api("change_approver"), change, "request_approval")
    assert refused.status_code == 400
    assert "new or changed service" in refused.json()["detail"]
    assert reload(change, tenant_a).state == "assessment"  # nothing moved

    link = {"link_type": "planned_in", "target_kind": "change", "target_reference": design.reference}
    assert api("agent").post(url(change, "links/"), link, format="json").status_code == 201
    assert take(api("change_approver"), change, "request_approval").json()["state"] == "awaiting_approval"


def test_approval_is_refused_when_the_service_record_link_was_removed(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, service_action="transfer")
        design = make_change(personas, title="Transfer plan")
        link = RecordLink.objects.create(
            source_type=ContentType.objects.get_for_model(Change),
            source_id=change.pk,
            link_type=LinkType.PLANNED_IN,
            target_type=ContentType.objects.get_for_model(Change),
            target_id=design.pk,
        )
    for client, name in ((api("agent"), "submit"), (api("change_approver"), "start_assessment")):
        assert take(client, change, name).status_code == 200
    assert take(api("change_approver"), change, "request_approval").status_code == 200
    with context.tenant_context(tenant_a):
        RecordLink.objects.filter(pk=link.pk).delete()
    resp = api("change_approver").post(
        url(change, "decisions/"), {"decision": "approved", "rationale": "fine"}, format="json"
    )
    assert resp.status_code == 400 and "new or changed service" in resp.json()["detail"]
    after = reload(change, tenant_a)
    assert after.state == "awaiting_approval"
    with context.tenant_context(tenant_a):
        assert after.approvals.get().decision == "pending"  # the decision was not kept either


def test_changes_without_major_impact_need_no_service_record(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        change = make_change(personas, service_action="modify")
    assert not change.is_major
    take(api("agent"), change, "submit")
    take(api("change_approver"), change, "start_assessment")
    assert take(api("change_approver"), change, "request_approval").status_code == 200


# --- a failed change is backed out or remedied, then investigated ------------------------------------
def test_failed_change_is_remedied_or_backed_out_before_review(api, personas, tenant_a):
    change = failed_change(personas, tenant_a, back_out=False)
    po = api("process_owner")
    assert take(po, change, "start_review").status_code in (400, 409)
    assert reload(change, tenant_a).state == "failed"
    assert take(po, change, "remedy", reason="").status_code == 400  # say how it was remedied
    resp = take(po, change, "remedy", reason="Index rebuilt; the release works")
    assert resp.status_code == 200 and resp.json()["state"] == "under_review"
    assert "Remedied: Index rebuilt" in reload(change, tenant_a).implementation_result


def test_failed_change_closes_only_after_its_investigation(api, personas, tenant_a):
    change = failed_change(personas, tenant_a)
    po = api("process_owner")
    assert take(po, change, "start_review").status_code == 200
    with context.tenant_context(tenant_a):
        Change.objects.filter(pk=change.pk).update(review_notes="Back-out worked.")
    refused = take(po, change, "close")
    assert refused.status_code == 400 and "investigation" in refused.json()["detail"]

    blank = po.post(url(change, "investigation/"), {"findings": "  ", "actions": []}, format="json")
    assert blank.status_code == 400 and "findings" in blank.json()
    no_action = po.post(url(change, "investigation/"), {"findings": "The lock timed out."}, format="json")
    assert no_action.status_code == 400 and "actions" in no_action.json()
    past = po.post(
        url(change, "investigation/"),
        {"findings": "x", "actions": [{"title": "Late", "due_date": "2020-01-01"}]},
        format="json",
    )
    assert past.status_code == 400
    outsider = po.post(
        url(change, "investigation/"),
        {"findings": "x", "actions": [{"title": "A", "owner": personas["outsider"].pk}]},
        format="json",
    )
    assert outsider.status_code == 400 and "not a member" in str(outsider.json())
    with context.tenant_context(tenant_a):
        assert not Improvement.objects.exists()  # nothing was written by the refusals

    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    body = {
        "findings": "The migration took a table lock longer than the window allowed.",
        "actions": [
            {"title": "Rehearse migrations on a copy of live data", "owner": personas["agent"].pk, "due_date": due},
            {"title": "Add a lock timeout to migration scripts"},
        ],
    }
    resp = po.post(url(change, "investigation/"), body, format="json")
    assert resp.status_code == 200, resp.content
    data = resp.json()
    assert data["needed"] and data["investigated_by"]["username"] == "acme-process_owner"
    assert [a["owner"]["username"] for a in data["actions"]] == ["acme-agent", "acme-process_owner"]
    with context.tenant_context(tenant_a):
        improvements = list(Improvement.objects.order_by("number"))
        assert {i.improvement_type for i in improvements} == {"corrective"}
        assert {i.source for i in improvements} == {"change_review"}
    assert api("auditor").get(url(change, "investigation/")).json()["actions"][0]["title"].startswith("Rehearse")
    assert take(po, change, "close").json()["state"] == "closed"
    # Closed: no more investigation.
    again = po.post(url(change, "investigation/"), {"findings": "y", "actions": [{"title": "z"}]}, format="json")
    assert again.status_code == 409


def test_investigation_permissions_and_isolation(api, personas, tenant_a):
    change = failed_change(personas, tenant_a)
    body = {"findings": "Broke.", "actions": [{"title": "Fix the runbook"}]}
    for role in ("agent", "auditor", "top_management"):
        assert api(role).post(url(change, "investigation/"), body, format="json").status_code == 403, role
    assert api("outsider_admin").get(url(change, "investigation/")).status_code == 404
    assert api("outsider_admin").post(url(change, "investigation/"), body, format="json").status_code == 404
    assert api("change_approver").post(url(change, "investigation/"), body, format="json").status_code == 200


def test_a_successful_change_is_not_investigated(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        change = approved_change(personas)
    body = {"findings": "x", "actions": [{"title": "y"}]}
    assert api("process_owner").post(url(change, "investigation/"), body, format="json").status_code == 409
    assert api("process_owner").get(url(change, "investigation/")).json()["needed"] is False


def test_investigation_pages(web, personas, tenant_a):
    change = failed_change(personas, tenant_a)
    page = f"/t/acme/changes/{change.pk}/"
    content = web("process_owner").get(page).content
    assert b"Not investigated yet" in content and b"Record the investigation" in content
    assert b"Record the investigation" not in web("auditor").get(page).content
    form = f"/t/acme/changes/{change.pk}/investigation/"
    assert web("agent").get(form).status_code == 403
    bad = web("process_owner").post(form, {"findings": "Broke."})
    assert bad.status_code == 200 and b"Agree at least one action" in bad.content
    resp = web("process_owner").post(
        form,
        {"findings": "Broke because of X.", "action_0_title": "Fix X", "action_0_owner": personas["agent"].pk},
    )
    assert resp.status_code == 302
    content = web("auditor").get(page).content
    assert b"Broke because of X." in content and b"Fix X" in content


# --- trend analysis --------------------------------------------------------------------------------
def _set_times(change, **fields):
    Change.objects.filter(pk=change.pk).update(**fields)


def test_trend_figures(personas, tenant_a):
    from processes.resolution.models import Incident
    from tests.factories import IncidentFactory

    now = timezone.now()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ci = ConfigurationItemFactory(ci_type=CITypeFactory())
        web_service = ServiceFactory(title="Web shop")
        ok = approved_change(personas, services=[web_service])
        bad = approved_change(personas, cis=[ci])
        emergency = make_change(personas, change_type="emergency", services=[web_service])
        linked = approved_change(personas)
        old = approved_change(personas)
        for change, outcome in ((ok, "successful"), (bad, "failed"), (linked, "successful"), (old, "successful")):
            _set_times(
                change,
                outcome=outcome,
                implementation_started_at=now - dt.timedelta(days=10, hours=1),
                implementation_ended_at=now - dt.timedelta(days=10),
            )
        _set_times(old, created_at=now - dt.timedelta(days=400), implementation_ended_at=now - dt.timedelta(days=399))
        # An incident on the failed change's CI two days later, and an incident linked as caused by ``linked``.
        after = IncidentFactory()
        after.affected_cis.add(ci)
        Incident.objects.filter(pk=after.pk).update(created_at=now - dt.timedelta(days=8))
        late = IncidentFactory()
        late.affected_cis.add(ci)  # 10 days after: outside a 7-day window
        Incident.objects.filter(pk=late.pk).update(created_at=now)
        cause = IncidentFactory()
        RecordLink.objects.create(
            source_type=ContentType.objects.get_for_model(Incident),
            source_id=cause.pk,
            link_type=LinkType.CAUSED_BY,
            target_type=ContentType.objects.get_for_model(Change),
            target_id=linked.pk,
        )
        figures = analyse_changes(timezone.localdate() - dt.timedelta(days=30), timezone.localdate())
    assert figures["recorded"] == 4 and figures["emergency"] == 1 and figures["emergency_rate"] == 25.0
    assert figures["by_type"] == {"standard": 0, "normal": 3, "emergency": 1}
    assert figures["implemented"] == 3 and figures["success_rate"] == pytest.approx(66.7)
    assert figures["by_outcome"]["failed"] == 1
    assert figures["by_service"][0] == {"service_id": web_service.pk, "service": "Web shop", "changes": 2}
    causes = {row["reference"]: row["incidents"] for row in figures["top_causes"]}
    assert causes == {bad.reference: 1, linked.reference: 1}
    assert figures["changes_causing_incidents"] == 2
    assert sum(m["implemented"] for m in figures["by_month"]) == 3
    assert emergency.pk


def test_trend_report_api(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        approved_change(personas)
    today = timezone.localdate()
    body = {"period_start": (today - dt.timedelta(days=30)).isoformat(), "period_end": today.isoformat()}
    for role in ("agent", "auditor", "change_approver"):
        assert api(role).post("/api/v1/change-trend-reports/", body, format="json").status_code == 403, role
    bad = api("process_owner").post(
        "/api/v1/change-trend-reports/", {**body, "period_end": "2000-01-01"}, format="json"
    )
    assert bad.status_code == 400 and "period_end" in bad.json()
    wide = api("process_owner").post(
        "/api/v1/change-trend-reports/", {**body, "incident_window_days": 91}, format="json"
    )
    assert wide.status_code == 400 and "incident_window_days" in wide.json()
    resp = api("process_owner").post("/api/v1/change-trend-reports/", body, format="json")
    assert resp.status_code == 201, resp.content
    report = resp.json()
    assert report["figures"]["recorded"] == 1 and report["conclusions"] == ""
    base = f"/api/v1/change-trend-reports/{report['id']}/"
    assert api("auditor").get(base).json()["figures"]["recorded"] == 1
    assert api("auditor").post(f"{base}conclude/", {"conclusions": "x"}, format="json").status_code == 403
    assert api("process_owner").post(f"{base}conclude/", {"conclusions": " "}, format="json").status_code == 400
    done = api("process_owner").post(f"{base}conclude/", {"conclusions": "Stable."}, format="json")
    assert done.json()["reviewed_by"]["username"] == "acme-process_owner"
    assert api("process_owner").patch(base, {"figures": {}}, format="json").status_code == 405  # figures stay
    assert api("outsider_admin").get(base).status_code == 404
    assert api("outsider_admin").get("/api/v1/change-trend-reports/").json()["count"] == 0


def test_planned_trend_analysis_makes_a_report_and_completes(personas, tenant_a):
    from sms.core.outbox import OutboundMessage
    from sms.core.tasks import run_planned_activity

    with context.tenant_context(tenant_a, personas["process_owner"]):
        approved_change(personas)
        activity = PlannedActivity.objects.create(
            kind=ACTIVITY_KIND,
            title="Quarterly change trends",
            owner=personas["process_owner"],
            interval_count=3,
            interval_unit="months",
            next_due=timezone.localdate() + dt.timedelta(days=1),
        )
        start, end = period_of(activity)
        assert end == timezone.localdate() and (end - start).days in range(88, 93)
        due = activity.next_due
    assert run_planned_activity.delay(activity.pk, tenant_id=tenant_a.pk).get() == "completed"
    with context.tenant_context(tenant_a):
        report = ChangeTrendReport.objects.get(activity=activity)
        assert report.figures["recorded"] == 1 and report.period_end == end
        assert PlannedActivity.objects.get(pk=activity.pk).next_due > due
        assert OutboundMessage.objects.filter(topic="change_trends", recipient="acme-process_owner@example.test")


def test_trend_pages(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        approved_change(personas)
    listing = "/t/acme/change-trends/"
    assert b"No change trends analysed yet" in web("auditor").get(listing).content
    assert b"Analyse this period" not in web("auditor").get(listing).content
    assert web("auditor").post(listing, {}).status_code == 403
    today = timezone.localdate()
    bad = web("process_owner").post(
        listing, {"period_start": today, "period_end": today - dt.timedelta(days=1), "incident_window_days": 7}
    )
    assert bad.status_code == 400 and b"ends before it starts" in bad.content
    wide = web("process_owner").post(
        listing, {"period_start": today - dt.timedelta(days=7), "period_end": today, "incident_window_days": 91}
    )
    assert wide.status_code == 400 and b"less than or equal to 90" in wide.content
    resp = web("process_owner").post(
        listing, {"period_start": today - dt.timedelta(days=7), "period_end": today, "incident_window_days": 7}
    )
    assert resp.status_code == 302
    detail = web("auditor").get(resp["Location"])
    assert detail.status_code == 200 and b"Success rate" in detail.content
    assert b"Record conclusions" not in detail.content
    assert web("process_owner").post(resp["Location"], {"conclusions": "Fine."}).status_code == 302
    assert b"Fine." in web("auditor").get(resp["Location"]).content
    assert web("outsider").get(resp["Location"]).status_code == 404


def test_policy_page_title_is_plain_text(web, personas):
    """The blackout section once sat inside the title block and landed in <title>."""
    import re

    content = web("auditor").get("/t/acme/change-policy/").content.decode()
    title = re.search(r"<title>(.*?)</title>", content, re.S).group(1)
    assert "<" not in title and "Change management policy" in title
    assert content.count('id="blackout-title"') == 1
