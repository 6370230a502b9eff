"""The schedule of change (clause 9.2): the calendar page, the schedule API, the ICS feed
with its secret addresses, conflicts with other changes and blackout windows over a
range, moving a change, and telling the interested parties."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.control import ics, schedule, services
from processes.control.models import BlackoutWindow, Change
from sms.core.models import FeedToken, OutboundMessage
from sms.core.workflow import run_transition
from sms.tenancy import context
from sms.tenancy.models import Membership
from tests.factories import (
    ConfigurationItemFactory,
    ContactFactory,
    PartyFactory,
    RelationshipFactory,
    ServiceFactory,
)
from tests.factories_control import make_change

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def monday(now=None) -> dt.datetime:
    """Next Monday 00:00 (current time zone), so a week view holds the test's changes."""
    today = timezone.localdate(now)
    day = today + dt.timedelta(days=7 - today.weekday())
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def window(start, hours=2) -> dict:
    return {"planned_start": start, "planned_end": start + dt.timedelta(hours=hours)}


def schedule_it(change, people):
    """Take a change to scheduled through the workflow (default approval rule)."""
    by = people["agent"]
    approver = people["change_approver"]
    run_transition(change, "submit", by=by)
    run_transition(change, "start_assessment", by=approver)
    run_transition(change, "request_approval", by=approver)
    services.decide(change, by=approver, decision="approved", rationale="Fine")
    return run_transition(Change.objects.get(pk=change.pk), "schedule", by=people["process_owner"])


@pytest.fixture
def scene(personas, tenant_a, tenant_b):
    """Changes next week in tenant A: three meeting on the service Shop or the database,
    one elsewhere, one in a blackout of Mail; and one change in tenant B."""
    start = monday() + DAY + 10 * HOUR  # Tuesday 10:00
    with context.tenant_context(tenant_a, personas["admin"]):
        db, app, lonely = ConfigurationItemFactory(), ConfigurationItemFactory(), ConfigurationItemFactory()
        RelationshipFactory(source=app, kind="depends_on", target=db)
        shop, mail, other = ServiceFactory(title="Shop"), ServiceFactory(title="Mail"), ServiceFactory(title="Other")
        mine = make_change(personas, title="Upgrade the database", cis=[db], services=[shop], **window(start))
        same_ci = make_change(personas, title="Patch the database", cis=[db], services=[], **window(start + HOUR))
        related = make_change(personas, title="Release app; v2, now", cis=[app], services=[], **window(start))
        alone = make_change(personas, title="Lonely work", cis=[lonely], services=[other], **window(start + 2 * DAY))
        frozen = make_change(personas, title="Mail move", cis=[], services=[mail], **window(start + 3 * DAY))
        draft = make_change(personas, title="Just an idea", cis=[db], services=[shop], **window(start))
        for c in (mine, same_ci, related, alone, frozen):
            run_transition(c, "submit", by=personas["agent"])
        blackout = BlackoutWindow.objects.create(
            name="Mail freeze",
            starts_at=start + 3 * DAY - HOUR,
            ends_at=start + 3 * DAY + 5 * HOUR,
            reason="Migration of the mail archive",
        )
        blackout.services.set([mail])
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        elsewhere = make_change(personas, by=personas["outsider"], title="Globex change", **window(start))
        run_transition(elsewhere, "submit", by=personas["outsider"])
    return {
        "start": start,
        "week": monday(),
        "shop": shop,
        "mail": mail,
        "db": db,
        "app": app,
        "mine": mine,
        "same_ci": same_ci,
        "related": related,
        "alone": alone,
        "frozen": frozen,
        "draft": draft,
        "blackout": blackout,
        "elsewhere": elsewhere,
    }


# --- conflicts over a range -----------------------------------------------------------------
def test_schedule_flags_conflicts_and_blackouts_in_sql(scene, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        sched = schedule.schedule(scene["week"], scene["week"] + 7 * DAY)
    by_ref = {e.change.reference: e for e in sched.entries}
    assert scene["draft"].reference not in by_ref  # drafts are not in the schedule
    assert scene["elsewhere"].pk not in {e.change.pk for e in sched.entries}  # nor another tenant's changes
    mine = by_ref[scene["mine"].reference]
    assert {c["reference"] for c in mine.conflicts} == {scene["same_ci"].reference, scene["related"].reference}
    shares = {c["reference"]: c["shares"] for c in mine.conflicts}
    assert shares[scene["same_ci"].reference] == [f"the same CI {scene['db'].reference}"]
    assert shares[scene["related"].reference] == [f"{scene['app'].reference}, related to a CI of this change"]
    assert by_ref[scene["same_ci"].reference].flagged and by_ref[scene["related"].reference].flagged
    assert not by_ref[scene["alone"].reference].flagged
    frozen = by_ref[scene["frozen"].reference]
    assert frozen.flagged and not frozen.conflicts and [b.name for b in frozen.blackouts] == ["Mail freeze"]
    assert [b.name for b in sched.blackouts] == ["Mail freeze"]


def test_conflicts_for_one_change_agree_with_the_change_page(scene, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        mine = Change.objects.get(pk=scene["mine"].pk)
        old = [(r["change"].reference, r["shares"]) for r in services.conflicts(mine)]
        new = [(r["change"].reference, r["shares"]) for r in schedule.conflicts_for(mine)]
    assert new == old and len(new) == 2


def test_a_blackout_for_every_service_flags_every_change_in_it(scene, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        BlackoutWindow.objects.create(
            name="Board meeting", starts_at=scene["start"] + 2 * DAY, ends_at=scene["start"] + 2 * DAY + HOUR
        )
        entry = next(
            e
            for e in schedule.schedule(scene["week"], scene["week"] + 7 * DAY).entries
            if e.change.pk == scene["alone"].pk
        )
    assert [b.name for b in entry.blackouts] == ["Board meeting"] and not entry.conflicts


def test_the_schedule_takes_a_fixed_number_of_queries(scene, personas, tenant_a):
    def count() -> int:
        with context.tenant_context(tenant_a, personas["admin"]), CaptureQueriesContext(connection) as ctx:
            schedule.schedule(scene["week"], scene["week"] + 7 * DAY)
        return len(ctx.captured_queries)

    # At most: changes, JIT off and conflict pairs, blackout pairs, CI references, service
    # titles, conflicting changes not in view, blackouts and their services (a query is
    # skipped when it has nothing to look up).
    most = 9
    assert count() <= most
    with context.tenant_context(tenant_a, personas["admin"]):
        for n in range(6):
            extra = make_change(
                personas, title=f"More {n}", cis=[scene["db"]], services=[scene["shop"]], **window(scene["start"])
            )
            run_transition(extra, "submit", by=personas["agent"])
    assert count() <= most


# --- the API ----------------------------------------------------------------------------------
def test_schedule_api(scene, api):
    week = scene["week"]
    base = "/api/v1/changes/schedule/"
    params = {"start": week.isoformat(), "end": (week + 7 * DAY).isoformat()}
    body = api("auditor").get(base, params).json()
    refs = [c["reference"] for c in body["changes"]]
    assert scene["mine"].reference in refs and scene["draft"].reference not in refs
    assert scene["elsewhere"].pk not in {c["id"] for c in body["changes"]}
    assert body["count"] == len(refs) == 5
    mine = next(c for c in body["changes"] if c["reference"] == scene["mine"].reference)
    assert mine["has_conflicts"] is True and len(mine["conflicts"]) == 2
    frozen = next(c for c in body["changes"] if c["reference"] == scene["frozen"].reference)
    assert frozen["blackouts"] == [{"id": scene["blackout"].pk, "name": "Mail freeze"}]
    assert body["blackouts"][0]["services"] == [scene["mail"].pk]
    # Filters: a service, a type, states; dates alone are accepted.
    shop = api("agent").get(base, {**params, "service": scene["shop"].pk}).json()
    assert {c["reference"] for c in shop["changes"]} == {scene["mine"].reference}
    assert api("agent").get(base, {**params, "change_type": "emergency"}).json()["count"] == 0
    drafts = api("agent").get(base, {**params, "state": "draft"}).json()
    assert [c["reference"] for c in drafts["changes"]] == [scene["draft"].reference]
    by_date = api("agent").get(base, {"start": week.date().isoformat(), "end": (week + 7 * DAY).date().isoformat()})
    assert by_date.status_code == 200 and by_date.json()["count"] == 5
    # Another tenant sees none of it, and cannot filter by A's service.
    outsider = api("outsider_admin").get(base, params).json()
    assert [c["id"] for c in outsider["changes"]] == [scene["elsewhere"].pk]
    assert api("outsider_admin").get(base, {**params, "service": scene["shop"].pk}).status_code == 400


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "start"),
        ({"start": "2026-01-10", "end": "2026-01-10"}, "end"),
        ({"start": "2026-01-10", "end": "2028-01-10"}, "end"),
        ({"start": "yesterday", "end": "2026-01-10"}, "start"),
        ({"start": "2026-01-10", "end": "2026-02-10", "state": "nonsense"}, "state"),
        ({"start": "2026-01-10", "end": "2026-02-10", "service": "x"}, "service"),
    ],
)
def test_schedule_api_refuses_bad_ranges_with_field_messages(api, query, field):
    resp = api("agent").get("/api/v1/changes/schedule/", query)
    assert resp.status_code == 400 and field in resp.json(), resp.content


def test_schedule_is_in_the_openapi_schema(api):
    schema = api("agent").get("/api/v1/schema/", {"format": "json"}).json()
    op = schema["paths"]["/api/v1/changes/schedule/"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"start", "end", "service", "change_type", "state"}
    assert "/api/v1/changes/{id}/reschedule/" in schema["paths"]


# --- the calendar page ------------------------------------------------------------------------
def test_calendar_month_and_week_mark_conflicts_and_blackouts(scene, web, tenant_a):
    client = web("auditor")
    base = f"/t/{tenant_a.slug}/changes/calendar/"
    week = scene["week"].date()
    page = client.get(base, {"view": "week", "date": week.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    for key in ("mine", "same_ci", "related", "alone", "frozen"):
        assert scene[key].reference in html, key
    assert scene["draft"].reference not in html and "Globex change" not in html
    assert "Blackout: Mail freeze" in html
    assert html.count('class="cal-change conflict') == 4  # three meeting, one in a blackout
    assert "4 with a conflict" in html
    assert f"Conflicts with <a class=\"mono\" href=\"/t/{tenant_a.slug}/changes/{scene['same_ci'].pk}/\">" in html
    # Month view of the same days, and filtered by a service.
    month = client.get(base, {"date": week.isoformat()}).content.decode()
    assert scene["mine"].reference in month and "Blackout: Mail freeze" in month
    shop = client.get(base, {"view": "week", "date": week.isoformat(), "service": scene["shop"].pk}).content.decode()
    assert scene["mine"].reference in shop and scene["alone"].reference not in shop
    typed = client.get(base, {"view": "week", "date": week.isoformat(), "change_type": "emergency"}).content.decode()
    assert scene["mine"].reference not in typed and "No change is planned in this week with these filters" not in typed
    # Navigation keeps the filters and moves by a week.
    nxt = (week + dt.timedelta(days=7)).isoformat()
    assert f"date={nxt}" in html and "view=week" in html


def test_calendar_empty_state_nav_and_access(personas, web, tenant_a):
    base = f"/t/{tenant_a.slug}/changes/calendar/"
    page = web("agent").get(base, {"date": "2030-02-14"})
    html = page.content.decode()
    assert page.status_code == 200 and "No change is planned in this month" in html and "February 2030" in html
    assert "date=2030-01-01" in html and "date=2030-03-01" in html
    assert "Schedule of change" in web("agent").get(f"/t/{tenant_a.slug}/changes/").content.decode()  # nav entry
    assert web("agent").get(base, {"date": "not-a-date", "view": "nonsense"}).status_code == 200
    assert web("outsider").get(base).status_code == 404
    assert Client().get(base).status_code == 302


def test_calendar_takes_a_fixed_number_of_queries(scene, web, personas, tenant_a):
    client = web("admin")
    url = f"/t/{tenant_a.slug}/changes/calendar/?view=week&date={scene['week'].date().isoformat()}"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.get(url)
    before = count()
    with context.tenant_context(tenant_a, personas["admin"]):
        for n in range(8):
            extra = make_change(personas, title=f"More {n}", cis=[scene["db"]], **window(scene["start"] + n * HOUR))
            run_transition(extra, "submit", by=personas["agent"])
    assert count() == before


# --- the ICS feed -----------------------------------------------------------------------------
def unfold(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def feed_url(web, who, tenant) -> str:
    resp = web(who).post(f"/t/{tenant.slug}/changes/calendar/feed-key/", {"action": "issue"})
    assert resp.status_code == 200
    url = resp.context["feed_url"]
    assert url.encode() in resp.content
    return url


def test_ics_feed_is_valid_and_needs_no_session(scene, web, tenant_a):
    url = feed_url(web, "agent", tenant_a)
    resp = Client().get(url)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    raw = resp.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded at 75 octets
    lines = unfold(raw)
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events = "\r\n".join(lines).split("BEGIN:VEVENT")[1:]
    assert len(events) == 6  # five changes and the blackout; no draft, nothing of tenant B
    mine = next(e for e in events if f"change-{scene['mine'].pk}@" in e)
    fields = dict(line.split(":", 1) for line in mine.strip().split("\r\n") if ":" in line)
    for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "URL", "STATUS"):
        assert name in fields, name
    start = scene["start"].astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert fields["DTSTART"] == start and fields["DTEND"].endswith("Z") and fields["DTSTAMP"].endswith("Z")
    assert fields["STATUS"] == "TENTATIVE"  # submitted, not yet approved
    assert fields["SUMMARY"].startswith("[conflict] ")
    assert fields["URL"].endswith(f"/t/{tenant_a.slug}/changes/{scene['mine'].pk}/")
    assert "\\n" in fields["DESCRIPTION"] and "Conflicts with" in fields["DESCRIPTION"]
    related = next(e for e in events if f"change-{scene['related'].pk}@" in e)
    assert "Release app\\; v2\\, now" in related  # text escaping
    assert "Globex" not in raw.decode() and scene["draft"].reference not in raw.decode()
    assert any("SUMMARY:Blackout: Mail freeze" in e for e in events)


def test_feed_address_is_revocable_regenerable_and_tenant_bound(scene, web, personas, tenant_a, tenant_b):
    first = feed_url(web, "agent", tenant_a)
    assert Client().get(first).status_code == 200
    second = feed_url(web, "agent", tenant_a)
    assert second != first
    assert Client().get(first).status_code == 404  # the old address stops working
    assert Client().get(second).status_code == 200
    # The key only opens its own tenant's feed.
    assert Client().get(second.replace(f"/t/{tenant_a.slug}/", f"/t/{tenant_b.slug}/")).status_code == 404
    assert Client().get(second.replace(".ics", "x.ics")).status_code == 404
    # Revoked: nothing.
    resp = web("agent").post(f"/t/{tenant_a.slug}/changes/calendar/feed-key/", {"action": "revoke"})
    assert resp.status_code == 302
    assert Client().get(second).status_code == 404
    # A member who leaves loses the feed too.
    third = feed_url(web, "agent", tenant_a)
    with context.tenant_context(tenant_a, personas["admin"]):
        Membership.objects.filter(user=personas["agent"]).update(is_active=False)
    assert Client().get(third).status_code == 404
    # The other tenant's member gets their own tenant's schedule only.
    outsider = feed_url(web, "outsider", tenant_b)
    body = Client().get(outsider).content.decode()
    assert "Globex change" in body and "Upgrade the database" not in body
    assert FeedToken.objects.filter(user=personas["outsider"]).count() == 1


def test_calendar_page_shows_the_feed_key_state(personas, web, tenant_a):
    base = f"/t/{tenant_a.slug}/changes/calendar/"
    assert "Make my feed address" in web("auditor").get(base).content.decode()
    feed_url(web, "auditor", tenant_a)
    html = web("auditor").get(base).content.decode()
    assert "You have a feed address" in html and "Revoke" in html


def test_ics_folding_and_escaping():
    line = "SUMMARY:" + "é" * 60  # two octets each
    folded = ics.fold(line)
    parts = folded.encode().split(b"\r\n")
    assert all(len(p) <= 75 for p in parts) and len(parts) == 2
    assert folded.replace("\r\n ", "") == line
    parts[0].decode()  # never split inside a character
    assert ics.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert ics.fold("short") == "short"


# --- moving a change and telling the interested parties -----------------------------------------
@pytest.fixture
def parties_scene(personas, tenant_a):
    """A service with an owner and a customer (address, primary and other contact, and a
    relationship manager); a change on one of its CIs, approved and ready to schedule."""
    from sms.cmdb.services import set_service_links

    with context.tenant_context(tenant_a, personas["admin"]):
        customer = PartyFactory(email="desk@customer.example", relationship_manager=personas["top_management"])
        ContactFactory(party=customer, email="boss@customer.example", is_primary=True)
        ContactFactory(party=customer, email="someone@customer.example", is_primary=False)
        service = ServiceFactory(title="Web shop", owner=personas["process_owner"])
        server = ConfigurationItemFactory()
        set_service_links(service, customers=[customer], components=[server], by=personas["admin"])
        start = timezone.now() + 3 * DAY
        change = make_change(personas, title="Swap the disks", cis=[server], services=[], **window(start))
    return {"change": change, "start": start}


RECIPIENTS = {
    "acme-process_owner@example.test",  # owns the service
    "desk@customer.example",  # the customer
    "boss@customer.example",  # its primary contact
    "acme-top_management@example.test",  # responsible for the customer relationship
}


def outbox(tenant, change) -> list[OutboundMessage]:
    with context.tenant_context(tenant):
        return list(OutboundMessage.objects.filter(topic=schedule.TOPIC_SCHEDULE, object_id=change.pk))


def test_scheduling_a_change_tells_the_interested_parties_once(parties_scene, personas, tenant_a):
    change = parties_scene["change"]
    with context.tenant_context(tenant_a, personas["admin"]):
        schedule_it(change, personas)
    sent = outbox(tenant_a, change)
    assert {m.recipient for m in sent} == RECIPIENTS  # not the contact who is not primary
    assert len(sent) == len(RECIPIENTS)
    assert all("scheduled" in m.subject and change.reference in m.subject for m in sent)
    assert "Web shop" in sent[0].body and "planned for" in sent[0].body


def test_moving_a_scheduled_change_tells_them_once_per_move(parties_scene, api, personas, tenant_a):
    change = parties_scene["change"]
    with context.tenant_context(tenant_a, personas["admin"]):
        schedule_it(change, personas)
    before = len(outbox(tenant_a, change))
    new_start = parties_scene["start"] + 2 * DAY
    body = {
        "planned_start": new_start.isoformat(),
        "planned_end": (new_start + 3 * HOUR).isoformat(),
        "reason": "The supplier's engineer comes on Friday",
    }
    url = f"/api/v1/changes/{change.pk}/reschedule/"
    assert api("auditor").post(url, body, format="json").status_code == 403
    assert api("agent").post(url, body, format="json").status_code == 403  # moving takes change.transition
    resp = api("change_approver").post(url, body, format="json")
    assert resp.status_code == 200, resp.content
    assert dt.datetime.fromisoformat(resp.json()["planned_start"]) == new_start
    moved = [m for m in outbox(tenant_a, change) if "moved" in m.subject]
    assert len(moved) == len(RECIPIENTS) and len(outbox(tenant_a, change)) == before + len(RECIPIENTS)
    assert "supplier's engineer" in moved[0].body and "It was planned for" in moved[0].body
    # The same window again: nothing moves, nobody is told.
    assert api("change_approver").post(url, body, format="json").status_code == 200
    assert len(outbox(tenant_a, change)) == before + len(RECIPIENTS)
    with context.tenant_context(tenant_a):
        stored = Change.objects.get(pk=change.pk)
        assert stored.planned_start == new_start
        assert stored.history.first().history_change_reason.startswith("Moved in the schedule")


def test_moving_an_approved_change_tells_them_and_bad_moves_change_nothing(parties_scene, api, personas, tenant_a):
    change = parties_scene["change"]
    url = f"/api/v1/changes/{change.pk}/reschedule/"
    start = parties_scene["start"]
    ok = {"planned_start": (start + DAY).isoformat(), "planned_end": (start + DAY + HOUR).isoformat(), "reason": "x"}
    # Still a draft: refused, as the request itself can be edited.
    draft = api("change_approver").post(url, ok, format="json")
    assert draft.status_code == 400 and "detail" in draft.json()
    with context.tenant_context(tenant_a, personas["admin"]):
        schedule_it(change, personas)
        Change.objects.filter(pk=change.pk).update(state="approved")
        OutboundMessage.objects.all().delete()
    for bad, field in (
        ({**ok, "planned_end": ok["planned_start"]}, "planned_end"),
        ({**ok, "reason": ""}, "reason"),
        ({**ok, "planned_start": "soon"}, "planned_start"),
    ):
        resp = api("change_approver").post(url, bad, format="json")
        assert resp.status_code == 400 and field in resp.json(), resp.content
    with context.tenant_context(tenant_a):
        assert Change.objects.get(pk=change.pk).planned_start == start
    assert outbox(tenant_a, change) == []
    assert api("change_approver").post(url, ok, format="json").status_code == 200
    assert len(outbox(tenant_a, change)) == len(RECIPIENTS)
    # Another tenant cannot move it.
    assert api("outsider_admin").post(url, ok, format="json").status_code == 404


def test_moving_from_the_change_page(parties_scene, web, personas, tenant_a):
    change = parties_scene["change"]
    with context.tenant_context(tenant_a, personas["admin"]):
        schedule_it(change, personas)
    page = web("change_approver").get(f"/t/{tenant_a.slug}/changes/{change.pk}/").content.decode()
    assert "Move in the schedule of change" in page
    auditor_page = web("auditor").get(f"/t/{tenant_a.slug}/changes/{change.pk}/").content.decode()
    assert "Move in the schedule of change" not in auditor_page
    new = timezone.localtime(parties_scene["start"] + DAY)
    resp = web("change_approver").post(
        f"/t/{tenant_a.slug}/changes/{change.pk}/reschedule/",
        {
            "planned_start": new.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (new + HOUR).strftime("%Y-%m-%dT%H:%M"),
            "reason": "Clash with the sale",
        },
    )
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        assert Change.objects.get(pk=change.pk).planned_start == new.replace(second=0, microsecond=0)
    assert any("moved" in m.subject for m in outbox(tenant_a, change))
    assert web("auditor").post(f"/t/{tenant_a.slug}/changes/{change.pk}/reschedule/", {}).status_code == 403


def test_calendar_with_the_demo_data(personas, tenant_a, web):
    """The demo's changes and blackouts show in the schedule of change, next month too."""
    from processes.control.demo import seed_demo

    with context.tenant_context(tenant_a, personas["admin"]):
        for _ in range(4):
            ServiceFactory()
        for _ in range(3):
            ConfigurationItemFactory()
        seed_demo(tenant_a, personas)
        planned = Change.objects.exclude(state__in=["draft", "rejected", "cancelled"]).filter(
            planned_start__isnull=False
        )
        first = planned.order_by("planned_start").first()
    client = web("change_approver")
    base = f"/t/{tenant_a.slug}/changes/calendar/"
    today = timezone.localdate()
    html = "".join(
        client.get(base, {"date": day.isoformat()}).content.decode()
        for day in (timezone.localdate(first.planned_start), today, today + dt.timedelta(days=31))
    )
    assert "Blackout: Year-end freeze" in html
    assert first.reference in html
    assert 'class="cal-change conflict' in html  # the demo plans a change into the peak sales weekend
    feed = Client().get(feed_url(web, "change_approver", tenant_a)).content.decode()
    assert "SUMMARY:Blackout: Year-end freeze" in feed.replace("\r\n ", "")
