"""Release and deployment management (clause 9.3) after deployment and in the browser:
incidents counted against a release, the release calendar, releases on the change page,
the pages and forms, and the demo data."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.control import services_releases as rs
from processes.control.demo import seed_demo
from processes.control.demo_releases import seed_releases
from processes.control.models import Release, ReleasePolicy
from processes.resolution.models import Incident
from sms.core.models import RecordLink
from sms.core.workflow import run_transition
from sms.tenancy import context
from tests.factories import ConfigurationItemFactory, IncidentFactory, ServiceFactory
from tests.factories_control import approved_release, make_change, make_release, release_in_test


def _deployed(people, **kwargs) -> Release:
    release = approved_release(people, **kwargs)
    release = run_transition(release, "start_deployment", by=people["process_owner"])
    return run_transition(release, "complete_deployment", by=people["process_owner"], reason="Live")


def _at(incident, when) -> None:
    Incident.objects.filter(pk=incident.pk).update(created_at=when)


def test_incidents_after_deployment_are_counted_in_sql(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ReleasePolicy.objects.create(frequency="Monthly.", incident_window_days=5, release_types=["minor"])
        ci, other_ci = ConfigurationItemFactory(), ConfigurationItemFactory()
        release = _deployed(personas, cis=[ci])
        assert release.incident_window_days == 5
        start, end = release.deployment_started_at, release.incident_period_end
        on_ci = IncidentFactory(affected_cis=[ci, other_ci])  # counted once, though on two CIs
        before = IncidentFactory(affected_cis=[ci])
        _at(before, start - dt.timedelta(hours=1))
        late = IncidentFactory(affected_cis=[ci])
        _at(late, end + dt.timedelta(hours=1))
        linked = IncidentFactory()
        RecordLink.objects.create(
            source_type=ContentType.objects.get_for_model(Incident), source_id=linked.pk, link_type="caused_by",
            target_type=ContentType.objects.get_for_model(Release), target_id=release.pk,
        )
        IncidentFactory(affected_cis=[other_ci])  # unrelated
        other = _deployed(personas, cis=[other_ci])  # deployed after: only later incidents count for it
        with CaptureQueriesContext(connection) as queries:
            count = rs.incidents_after(release).count()
        assert len(queries) == 1
        assert count == 2
        assert set(rs.incidents_after(release).values_list("pk", flat=True)) == {on_ci.pk, linked.pk}
        counts = dict(rs.with_incident_counts(Release.objects.all()).values_list("pk", "incidents_after_count"))
        assert counts == {release.pk: 2, other.pk: 0}
        not_deployed = make_release(personas, cis=[ci])
        assert rs.incidents_after(not_deployed).count() == 0
    body = api("agent").get(f"/api/v1/releases/{release.pk}/").json()
    assert body["incidents_after"] == 2
    listed = {r["id"]: r["incidents_after"] for r in api("agent").get("/api/v1/releases/").json()["results"]}
    assert listed[release.pk] == 2 and listed[not_deployed.pk] == 0
    detail = api("agent").get(f"/api/v1/releases/{release.pk}/incidents/").json()
    assert detail["count"] == 2 and {i["id"] for i in detail["incidents"]} == {on_ci.pk, linked.pk}


def test_release_list_queries_do_not_grow_with_the_page(api, personas, tenant_a):
    client = api("agent")
    with context.tenant_context(tenant_a, personas["process_owner"]):
        make_release(personas, criteria=("a",), services=[ServiceFactory()], changes=[make_change(personas)])
    client.get("/api/v1/releases/")  # warm up: the token's last use and the content type cache
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/releases/").status_code == 200
    with context.tenant_context(tenant_a, personas["process_owner"]):
        for _ in range(4):
            make_release(personas, criteria=("a", "b"), services=[ServiceFactory()],
                         changes=[make_change(personas)])
    with CaptureQueriesContext(connection) as five:
        resp = client.get("/api/v1/releases/")
    assert resp.json()["count"] == 5
    assert len(five) == len(one), ([q["sql"][:150] for q in one.captured_queries],
                                   [q["sql"][:150] for q in five.captured_queries])


def test_api_filters_releases_by_deployment_date_and_service(api, personas, tenant_a):
    now = timezone.now()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        service = ServiceFactory()
        soon = make_release(personas, services=[service], planned_start=now + dt.timedelta(days=2))
        later = make_release(personas, planned_start=now + dt.timedelta(days=40))
    client = api("agent")
    day = (now + dt.timedelta(days=10)).date().isoformat()
    ids = {r["id"] for r in client.get("/api/v1/releases/", {"deploys_before": day}).json()["results"]}
    assert soon.pk in ids and later.pk not in ids
    ids = {r["id"] for r in client.get("/api/v1/releases/", {"deploys_after": day}).json()["results"]}
    assert ids == {later.pk}
    ids = {r["id"] for r in client.get("/api/v1/releases/", {"service": service.pk}).json()["results"]}
    assert ids == {soon.pk}
    assert client.get("/api/v1/releases/", {"deploys_after": "soon"}).status_code == 400


def test_calendar_page_groups_by_month_and_filters_by_service(web, personas, tenant_a):
    now = timezone.now()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        service = ServiceFactory()
        upcoming = make_release(personas, title="Upcoming one", services=[service],
                                planned_start=now + dt.timedelta(days=3))
        other = make_release(personas, title="Somewhere else", planned_start=now + dt.timedelta(days=4))
        deployed = _deployed(personas, title="Went out today")
    client = web("agent")
    base = f"/t/{tenant_a.slug}/releases/calendar/"
    resp = client.get(base)
    assert resp.status_code == 200
    page = resp.content.decode()
    for r in (upcoming, other, deployed):
        assert r.reference in page
    assert "Successful" in page
    page = client.get(base, {"service": service.pk}).content.decode()
    assert upcoming.reference in page and other.reference not in page
    bad = client.get(base, {"start": "2026-05-01", "end": "2026-01-01"})
    assert bad.status_code == 200 and "before the start" in bad.content.decode()
    assert web("outsider").get(base).status_code == 404


def test_change_page_shows_upcoming_releases_on_its_services(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        service = ServiceFactory()
        change = make_change(personas, services=[service])
        release = make_release(personas, title="On the same service", services=[service])
        unrelated = make_release(personas, title="Elsewhere", services=[ServiceFactory()])
    page = web("change_approver").get(f"/t/{tenant_a.slug}/changes/{change.pk}/").content.decode()
    assert release.reference in page and unrelated.reference not in page


def test_pages_render_and_buttons_follow_the_roles(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        release = release_in_test(personas)
        ReleasePolicy.objects.create(frequency="Monthly, first Tuesday.")
    slug = tenant_a.slug
    owner, agent, auditor = web("process_owner"), web("agent"), web("auditor")
    for path in ("releases/", "releases/?state=in_test&release_type=minor", f"releases/{release.pk}/",
                 "releases/new/", f"releases/{release.pk}/edit/", "release-policy/", "release-policy/new/",
                 "releases/calendar/"):
        resp = owner.get(f"/t/{slug}/{path}")
        assert resp.status_code == 200, (path, resp.status_code)
    page = owner.get(f"/t/{slug}/releases/{release.pk}/").content.decode()
    assert "Request approval" in page and "Record the result" in page and "Add criterion" in page
    with context.tenant_context(tenant_a, personas["process_owner"]):
        awaiting = release_in_test(personas)
        for c in awaiting.criteria.all():
            rs.record_result(c, by=personas["process_owner"], result="passed", notes="ok")
        run_transition(awaiting, "request_approval", by=personas["process_owner"])
    approve_button = ">Approve</button>"
    assert approve_button in web("change_approver").get(f"/t/{slug}/releases/{awaiting.pk}/").content.decode()
    assert approve_button not in owner.get(f"/t/{slug}/releases/{awaiting.pk}/").content.decode()  # its manager
    page = agent.get(f"/t/{slug}/releases/{release.pk}/").content.decode()
    assert "Request approval" not in page and "Record the result" not in page and "Add criterion" not in page
    assert auditor.get(f"/t/{slug}/releases/").status_code == 200
    assert auditor.get(f"/t/{slug}/releases/new/").status_code == 403
    assert auditor.get(f"/t/{slug}/release-policy/new/").status_code == 403
    with context.tenant_context(tenant_a):
        criterion = release.criteria.first()
    resp = auditor.post(f"/t/{slug}/releases/{release.pk}/criteria/{criterion.pk}/result/",
                        {"result": "passed", "notes": "x"})
    assert resp.status_code == 403
    assert web("outsider").get(f"/t/{slug}/releases/{release.pk}/").status_code == 404


def test_browser_forms_plan_a_release_and_record_results(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        ci = ConfigurationItemFactory()
    slug = tenant_a.slug
    client = web("process_owner")
    resp = client.post(f"/t/{slug}/releases/new/", {
        "title": "", "release_type": "minor", "deployment_method": "big_bang", "cis": [ci.pk],
    })
    assert resp.status_code == 200 and "This field is required" in resp.content.decode()
    resp = client.post(f"/t/{slug}/releases/new/", {
        "title": "Planned in the browser", "release_type": "minor", "deployment_method": "big_bang",
        "cis": [ci.pk], "test_environment": "UAT-3", "rollback_plan": "Back.",
        "planned_start": "2030-02-01T20:00",
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    with context.tenant_context(tenant_a):
        release = Release.objects.get(title="Planned in the browser")
        assert release.release_manager_id == personas["process_owner"].pk
    client.post(f"/t/{slug}/releases/{release.pk}/criteria/", {"description": "It works.", "agreed_with": "Cust"})
    with context.tenant_context(tenant_a, personas["process_owner"]):
        criterion = release.criteria.get()
        run_transition(release, "start_build", by=personas["process_owner"])
        run_transition(release, "start_test", by=personas["process_owner"])
    result_url = f"/t/{slug}/releases/{release.pk}/criteria/{criterion.pk}/result/"
    client.post(result_url, {"result": "passed", "notes": ""})
    with context.tenant_context(tenant_a):
        criterion.refresh_from_db()
        assert criterion.result == "untested"  # refused: no evidence
    client.post(result_url, {"result": "passed", "notes": "Seen.", "environment": ""})
    with context.tenant_context(tenant_a):
        criterion.refresh_from_db()
        assert criterion.result == "passed" and criterion.environment == "UAT-3"
    policy = client.post(f"/t/{slug}/release-policy/new/", {
        "release_types": ["minor", "major"], "frequency": "Weekly.", "incident_window_days": 21,
    })
    assert policy.status_code == 302
    with context.tenant_context(tenant_a):
        assert ReleasePolicy.objects.get(service__isnull=True).incident_window_days == 21


def test_demo_has_releases_of_several_outcomes_with_baselines(personas, tenant_a, web):
    with context.tenant_context(tenant_a, personas["admin"]):
        for _ in range(4):
            ServiceFactory()
        for _ in range(6):
            ConfigurationItemFactory()
        IncidentFactory(affected_cis=[ConfigurationItemFactory()])
        seed_demo(tenant_a, personas)
        seed_releases(tenant_a, personas)
        states = set(Release.objects.values_list("state", flat=True))
        assert {"planned", "in_build", "in_test", "awaiting_approval", "approved", "deployed", "under_review",
                "closed"} <= states
        assert {"successful", "rolled_back"} <= set(Release.objects.values_list("outcome", flat=True))
        assert Release.objects.filter(release_type="emergency", state="deployed").exists()
        deployed = Release.objects.filter(deployment_started_at__isnull=False)
        assert deployed.exists() and not deployed.filter(baseline__isnull=True).exists()
        for release in deployed:
            assert release.approved_by_id not in (release.release_manager_id, release.created_by_id)
        assert ReleasePolicy.objects.filter(service__isnull=True).count() == 1
        count = Release.objects.count()
        seed_releases(tenant_a, personas)
        assert Release.objects.count() == count
        ids = list(Release.objects.values_list("pk", flat=True))
        closed = Release.objects.get(state="closed")
        assert closed.baseline.item_count >= 1 and "retired" in closed.follow_up and "resolved" in closed.follow_up
    for who in ("agent", "auditor", "change_approver"):
        client = web(who)
        for path in ["releases/", "releases/calendar/", "release-policy/", *[f"releases/{pk}/" for pk in ids]]:
            resp = client.get(f"/t/{tenant_a.slug}/{path}")
            assert resp.status_code == 200, (who, path)
    page = web("agent").get(f"/t/{tenant_a.slug}/releases/{closed.pk}/").content.decode()
    assert "before deployment" in page and "Records moved on" in page


def test_service_desk_home_shows_the_releases_of_the_next_two_weeks(web, personas, tenant_a):
    now = timezone.now()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        soon = make_release(personas, title="Soon", planned_start=now + dt.timedelta(days=2))
        far = make_release(personas, title="Far", planned_start=now + dt.timedelta(days=30))
        done = _deployed(personas, title="Done")
    page = web("agent").get(f"/t/{tenant_a.slug}/").content.decode()
    assert "Releases in the next two weeks" in page
    assert soon.reference in page and far.reference not in page and done.reference not in page
    assert "Releases in the next two weeks" not in web("auditor").get(f"/t/{tenant_a.slug}/").content.decode()


def test_calendar_from_a_start_date_shows_the_same_span_after_it(web, personas, tenant_a):
    now = timezone.now()
    with context.tenant_context(tenant_a, personas["process_owner"]):
        far = make_release(personas, title="Far ahead", planned_start=now + dt.timedelta(days=200))
    start = (now + dt.timedelta(days=190)).date().isoformat()
    page = web("agent").get(f"/t/{tenant_a.slug}/releases/calendar/", {"start": start}).content.decode()
    assert far.reference in page
