import datetime as dt

import pytest

from sms.core.models import PlannedActivity
from tests.factories import PlannedActivityFactory

pytestmark = pytest.mark.django_db
PAGE = "/t/acme/planned/"


@pytest.fixture
def activities(personas, tenant_a, in_tenant):
    today = dt.date.today()
    with in_tenant(tenant_a, personas["admin"]):
        late = PlannedActivityFactory(
            title="Late review",
            next_due=today - dt.timedelta(days=3),
            owner=personas["process_owner"],
            interval_count=6,
        )
        soon = PlannedActivityFactory(title="Soon audit", kind="internal_audit", next_due=today + dt.timedelta(days=5))
        later = PlannedActivityFactory(
            title="Later risk check", kind="risk_assessment", next_due=today + dt.timedelta(days=200)
        )
    return late, soon, later


def test_page_lists_and_filters_due_and_overdue(web, activities):
    client = web("auditor")
    page = client.get(PAGE).content.decode()
    assert "Late review" in page and "Overdue" in page and "Later risk check" in page
    overdue = client.get(PAGE, {"due": "overdue"}).content.decode()
    assert "Late review" in overdue and "Soon audit" not in overdue
    week = client.get(PAGE, {"due": "7"}).content.decode()
    assert "Soon audit" in week and "Late review" not in week
    assert "Internal audit" in client.get(PAGE, {"kind": "internal_audit"}).content.decode()


def test_bad_filter_value_is_explained(web, activities):
    response = web("agent").get(PAGE, {"due": "tomorrow"})
    assert response.status_code == 200
    assert "Use &#x27;overdue&#x27; or a number of days." in response.content.decode()


def test_completing_needs_the_capability_and_moves_the_due_date(web, activities, tenant_a, in_tenant):
    late = activities[0]
    assert web("agent").post(f"{PAGE}{late.pk}/complete/").status_code == 403
    response = web("process_owner").post(f"{PAGE}{late.pk}/complete/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == PAGE
    with in_tenant(tenant_a):
        done = PlannedActivity.objects.get(pk=late.pk)
        reason = done.history.latest().history_change_reason
    assert done.next_due > dt.date.today() and done.last_done_at is not None
    assert "completed" in reason


def test_plan_an_activity_through_the_form(web, personas, tenant_a, in_tenant):
    assert web("agent").get(f"{PAGE}new/").status_code == 403
    due = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    bad = web("admin").post(
        f"{PAGE}new/",
        {
            "kind": "nonsense",
            "title": "",
            "interval_count": 0,
            "interval_unit": "months",
            "next_due": due,
            "lead_days": 500,
        },
    )
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()
    ok = web("admin").post(
        f"{PAGE}new/",
        {
            "kind": "management_review",
            "title": "Half-year review",
            "interval_count": 6,
            "interval_unit": "months",
            "next_due": due,
            "lead_days": 14,
            "owner": personas["top_management"].pk,
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    with in_tenant(tenant_a):
        assert PlannedActivity.objects.get().title == "Half-year review"


def test_other_tenant_cannot_complete(web, activities):
    assert web("outsider_admin").post(f"/t/globex/planned/{activities[0].pk}/complete/").status_code == 404
