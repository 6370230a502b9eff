"""Browser pages of incident management: list, create, detail, edit, the set-up page,
calendars, and the home-page panels."""

import pytest

from processes.resolution.models import (
    Category,
    Incident,
    PriorityMatrixCell,
    ResolutionSettings,
    ServiceCalendar,
    ServiceHours,
)
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
LIST = "/t/acme/incidents/"
SETUP = "/t/acme/resolution/setup/"


def test_list_filters_and_empty_text(web, make_incident, personas):
    assert "No incidents logged" in web("agent").get(LIST).content.decode()
    mine = make_incident(title="VPN drops", assignee=personas["agent"], impact=1, urgency=1)
    other = make_incident(title="Printer jam", impact=3, urgency=3)
    page = web("auditor").get(LIST).content.decode()
    assert mine.reference in page and other.reference in page
    assert f"{LIST}new/" not in page  # auditors do not log incidents
    filtered = web("agent").get(LIST, {"priority": "1"}).content.decode()
    assert "VPN drops" in filtered and "Printer jam" not in filtered
    unassigned = web("agent").get(LIST, {"unassigned": "true"}).content.decode()
    assert "Printer jam" in unassigned and "VPN drops" not in unassigned
    assert web("agent").get(LIST, {"service": "abc", "sort": "resolution_due_at"}).status_code == 200


def test_agent_logs_an_incident_in_the_browser(web, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        service = ServiceFactory()
    client = web("agent")
    form = client.get(f"{LIST}new/").content.decode()
    assert 'name="impact"' in form and 'name="priority_override"' in form
    resp = client.post(
        f"{LIST}new/",
        {
            "title": "Web shop checkout fails",
            "impact": 1,
            "urgency": 2,
            "channel": "phone",
            "service": service.pk,
            "owner": personas["agent"].pk,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:3000]
    with in_tenant(tenant_a):
        inc = Incident.objects.get(title="Web shop checkout fails")
    assert inc.priority == 2 and inc.response_due_at is not None and inc.reference.startswith("INC-")
    page = client.get(resp["Location"]).content.decode()
    assert "Respond by" in page and "from impact and urgency" in page and "Start work" in page


def test_override_in_the_form_needs_a_reason(web, make_incident, reload, tenant_a, in_tenant):
    inc = make_incident(impact=3, urgency=3)
    client = web("agent")
    data = {"title": inc.title, "impact": 3, "urgency": 3, "channel": "phone", "priority_override": 1}
    resp = client.post(f"{LIST}{inc.pk}/edit/", data)
    assert resp.status_code == 200 and "give the reason" in resp.content.decode()
    assert reload(inc).priority == 5
    resp = client.post(f"{LIST}{inc.pk}/edit/", {**data, "priority_override_reason": "Affects payroll run"})
    assert resp.status_code == 302
    inc = reload(inc)
    assert inc.priority == 1 and inc.priority_overridden
    with in_tenant(tenant_a):
        assert inc.history.first().history_change_reason == "Priority overridden to P1: Affects payroll run"


def test_auditor_cannot_create_or_edit(web, make_incident):
    inc = make_incident()
    assert web("auditor").get(f"{LIST}new/").status_code == 403
    assert web("auditor").post(f"{LIST}{inc.pk}/edit/", {"title": "x"}).status_code == 403
    page = web("auditor").get(f"{LIST}{inc.pk}/").content.decode()
    assert inc.reference in page and "Start work" not in page


def test_transitions_from_the_record_page(web, make_incident, reload):
    inc = make_incident()
    client = web("agent")
    resp = client.post(f"/t/acme/records/incident/{inc.pk}/transitions/start/")
    assert resp.status_code == 302 and reload(inc).state == "in_progress"
    # Resolving without code and notes is refused with the reason; the record is unchanged.
    client.post(f"/t/acme/records/incident/{inc.pk}/transitions/resolve/")
    assert reload(inc).state == "in_progress"
    assert (
        web("auditor").post(f"/t/acme/records/incident/{inc.pk}/transitions/hold/", {"reason": "x"}).status_code == 403
    )


def test_setup_page_read_only_for_agents(web):
    page = web("agent").get(SETUP).content.decode()
    assert "Impact × urgency" in page and "P1" in page
    assert 'name="cell-1-1"' not in page
    assert web("agent").post(SETUP, {"form": "matrix", "cell-3-3": "1"}).status_code == 403
    assert web("auditor").get(SETUP).status_code == 200


def test_admin_edits_matrix_targets_settings_and_service_hours(web, personas, tenant_a, in_tenant):
    client = web("admin")
    page = client.get(SETUP).content.decode()
    assert 'name="cell-1-1"' in page
    assert client.post(SETUP, {"form": "matrix", "cell-3-3": "4", "cell-1-1": "x"}).status_code == 302
    with in_tenant(tenant_a):
        assert PriorityMatrixCell.objects.get(impact=3, urgency=3).priority == 4
        level = PriorityMatrixCell.objects.get(impact=1, urgency=1)
        assert level.priority == 1
        from processes.resolution.models import PriorityLevel

        p1 = PriorityLevel.objects.get(level=1)
    client.post(
        SETUP,
        {"form": "level", "level_id": p1.pk, "name": "Critical", "response_minutes": 10, "resolution_minutes": 120},
    )
    with in_tenant(tenant_a):
        assert PriorityLevel.objects.get(level=1).response_minutes == 10
    # A new calendar in the text form people type.
    resp = client.post(
        "/t/acme/resolution/calendars/new/",
        {
            "name": "Office hours",
            "time_zone": "Europe/London",
            "hours": "Mon-Fri 08:00-18:00\nSat 09:00-12:00",
            "holiday_lines": "2026-12-25 Christmas Day",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    with in_tenant(tenant_a, personas["admin"]):
        cal = ServiceCalendar.objects.get(name="Office hours")
        service = ServiceFactory()
    assert len(cal.working_hours) == 6 and cal.holidays == [{"date": "2026-12-25", "name": "Christmas Day"}]
    edit = client.get(f"/t/acme/resolution/calendars/{cal.pk}/").content.decode()
    assert "Mon-Fri 08:00-18:00" in edit
    bad = client.post(
        f"/t/acme/resolution/calendars/{cal.pk}/",
        {"name": "Office hours", "time_zone": "Nowhere", "hours": "Mon 99:00-10:00"},
    )
    assert bad.status_code == 200 and "not a time of day" in bad.content.decode()
    assert client.post(SETUP, {"form": "service_hours", "service": service.pk, "calendar": cal.pk}).status_code == 302
    settings_form = {
        "form": "settings",
        "reopen_days": 5,
        "at_risk_percent": 80,
        "default_calendar": cal.pk,
        "repeat_count": 4,
        "repeat_days": 14,
    }
    missing = client.post(SETUP, {k: v for k, v in settings_form.items() if k != "repeat_days"})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    assert client.post(SETUP, settings_form).status_code == 302
    with in_tenant(tenant_a):
        assert ServiceHours.objects.get(service=service).calendar == cal
        saved = ResolutionSettings.objects.get()
        assert (saved.reopen_days, saved.repeat_count, saved.repeat_days) == (5, 4, 14)
    page = client.get(SETUP).content.decode()
    assert "Office hours" in page and service.reference in page and "5 days" in page
    assert web("process_owner").get("/t/acme/resolution/calendars/new/").status_code == 403


def test_categories_from_the_setup_page(web, tenant_a, in_tenant):
    client = web("process_owner")
    assert client.post(SETUP, {"form": "category", "name": "Network"}).status_code == 302
    with in_tenant(tenant_a):
        parent = Category.objects.get(name="Network")
    assert client.post(SETUP, {"form": "category", "name": "Wi-Fi", "parent": parent.pk}).status_code == 302
    dup = client.post(SETUP, {"form": "category", "name": "wi-fi", "parent": parent.pk})
    assert dup.status_code == 200 and "already has a child" in dup.content.decode()
    assert "Network / Wi-Fi" in client.get(SETUP).content.decode()
    assert web("agent").post(SETUP, {"form": "category", "name": "X"}).status_code == 403


def test_home_panels(web, make_incident, personas, clock):
    mine = make_incident(title="Mine to fix", assignee=personas["agent"])
    nobody = make_incident(title="Nobody's yet")
    late = make_incident(title="Late one", impact=1, urgency=1)
    clock.advance(hours=5)
    home = web("agent").get("/t/acme/").content.decode()
    assert "My open incidents" in home and "Unassigned incidents" in home
    assert mine.reference in home and nobody.reference in home
    owner_home = web("process_owner").get("/t/acme/").content.decode()
    assert "Incidents breached or at risk" in owner_home and late.reference in owner_home
    assert "My open incidents" not in owner_home
