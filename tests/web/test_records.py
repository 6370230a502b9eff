"""The generic record pages, exercised through the improvement register."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import Improvement
from sms.core.models import Attachment, JournalEntry, RecordLink, Watcher
from tests.factories import ImprovementFactory

pytestmark = pytest.mark.django_db
LIST = "/t/acme/improvements/"


def url(record, suffix=""):
    return f"/t/acme/records/improvement/{record.pk}/{suffix}"


def reload(record, tenant, in_tenant):
    with in_tenant(tenant):
        return Improvement.objects.get(pk=record.pk)


# --- list ----------------------------------------------------------------------------------
def test_empty_list_explains_and_offers_to_create(web):
    page = web("agent").get(LIST).content.decode()
    assert "No improvements recorded" in page
    assert f"{LIST}new/" in page


def test_auditor_list_has_no_create_button(web, improvement):
    page = web("auditor").get(LIST).content.decode()
    assert improvement.reference in page
    assert f"{LIST}new/" not in page


def test_list_filters_sorts_and_pages(web, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        for i in range(30):
            ImprovementFactory(title=f"Item {i:02d}", priority="1" if i % 2 else "3")
    client = web("process_owner")
    first = client.get(LIST).content.decode()
    assert "1–25 of 30" in first
    assert "Item 29" in first and "Item 04" not in first  # newest first
    second = client.get(LIST, {"page": 2}).content.decode()
    assert "Item 04" in second
    high = client.get(LIST, {"priority": "1"}).content.decode()
    assert "of 15" in high and "Item 02" not in high
    by_title = client.get(LIST, {"sort": "title"}).content.decode()
    assert by_title.index("Item 00") < by_title.index("Item 01")
    assert client.get(LIST, {"q": "Item 07"}).content.decode().count("Item 07") >= 1
    # Unknown sort keys fall back to the default order rather than failing.
    assert client.get(LIST, {"sort": "password"}).status_code == 200


def test_invalid_filter_is_reported_not_a_500(web):
    response = web("agent").get(LIST, {"created_after": "not-a-date", "state": "nonsense"})
    assert response.status_code == 200
    assert "filters are not valid" in response.content.decode()


def test_htmx_request_gets_only_the_results(web, improvement):
    response = web("agent").get(LIST, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert improvement.reference in html
    assert "<html" not in html and "<table" in html


def test_list_page_queries_do_not_grow_with_rows(web, personas, tenant_a, in_tenant):
    client = web("process_owner")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST, {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    with in_tenant(tenant_a, personas["agent"]):
        for _ in range(3):
            ImprovementFactory(owner=personas["process_owner"])
    few = count()
    with in_tenant(tenant_a, personas["agent"]):
        for _ in range(40):
            ImprovementFactory(owner=personas["agent"])
    assert count() == few


def test_other_tenants_records_are_not_listed(web, improvement):
    assert improvement.reference not in web("outsider").get("/t/globex/improvements/").content.decode()


# --- detail --------------------------------------------------------------------------------
def test_detail_shows_state_transitions_journal_and_history(web, improvement):
    page = web("process_owner").get(f"{LIST}{improvement.pk}/").content.decode()
    assert improvement.reference in page and "Proposed" in page
    assert "Approve" in page and "Reject" in page
    assert 'id="journal"' in page and 'id="links"' in page and 'id="attachments"' in page
    assert "Created" in page  # the first history row


def test_auditor_reads_but_gets_no_editing_controls(web, improvement):
    page = web("auditor").get(f"{LIST}{improvement.pk}/").content.decode()
    assert improvement.title in page
    assert "/edit/" not in page
    assert 'name="body"' not in page  # no journal form
    assert "Next steps" not in page  # no transitions
    assert web("auditor").get(f"{LIST}{improvement.pk}/edit/").status_code == 403
    assert web("auditor").post(url(improvement, "journal/"), {"body": "x"}).status_code == 403
    assert web("auditor").post(url(improvement, "transitions/approve/"), {"reason": "x"}).status_code == 403


def test_record_of_another_tenant_is_404_everywhere(web, improvement):
    outsider = web("outsider")
    assert outsider.get(f"/t/globex/improvements/{improvement.pk}/").status_code == 404
    assert web("outsider_admin").get(f"/t/globex/improvements/{improvement.pk}/edit/").status_code == 404
    base = f"/t/globex/records/improvement/{improvement.pk}/"
    for suffix in ("journal/", "links/", "watch/", "attachments/", "transitions/cancel/"):
        assert outsider.post(base + suffix, {"body": "x", "reason": "x"}).status_code == 404, suffix
    # and using the victim's tenant in the URL is refused outright
    assert outsider.get(f"{LIST}{improvement.pk}/").status_code == 404


def test_unknown_kind_is_404(web, improvement):
    assert web("agent").post(f"/t/acme/records/nothing/{improvement.pk}/journal/", {"body": "x"}).status_code == 404


# --- create / edit ---------------------------------------------------------------------------
def test_create_through_the_form(web, tenant_a, in_tenant, personas):
    response = web("agent").post(
        f"{LIST}new/",
        {
            "title": "Automate the monthly availability report",
            "improvement_type": "improvement",
            "source": "staff",
            "priority": "2",
            "owner": personas["process_owner"].pk,
        },
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        created = Improvement.objects.get()
    assert response["Location"] == f"{LIST}{created.pk}/"
    assert created.reference == "IMP-1" and created.created_by == personas["agent"]


def test_invalid_form_shows_errors_and_saves_nothing(web, tenant_a, in_tenant, personas):
    response = web("agent").post(
        f"{LIST}new/",
        {
            "title": "",
            "improvement_type": "bogus",
            "source": "staff",
            "owner": personas["outsider"].pk,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "Select a valid choice" in html  # bad type, and an owner from another tenant
    with in_tenant(tenant_a):
        assert not Improvement.objects.exists()


def test_edit_records_the_reason_in_the_history(web, improvement, tenant_a, in_tenant, personas):
    response = web("process_owner").post(
        f"{LIST}{improvement.pk}/edit/",
        {
            "title": "Sharper title",
            "improvement_type": "improvement",
            "source": "staff",
            "priority": "1",
            "owner": personas["process_owner"].pk,
            "change_reason": "Agreed in the weekly review",
        },
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        latest = Improvement.objects.get(pk=improvement.pk).history.latest()
    assert latest.history_change_reason == "Agreed in the weekly review"
    assert latest.history_user == personas["process_owner"]
    page = web("process_owner").get(f"{LIST}{improvement.pk}/").content.decode()
    assert "Agreed in the weekly review" in page and "Sharper title" in page


def test_agent_cannot_edit(web, improvement):
    assert web("agent").get(f"{LIST}{improvement.pk}/edit/").status_code == 403


# --- transitions -----------------------------------------------------------------------------
def test_transition_through_the_page(web, improvement, tenant_a, in_tenant):
    response = web("process_owner").post(url(improvement, "transitions/approve/"), {"reason": "Worth it"}, follow=True)
    assert response.status_code == 200
    assert reload(improvement, tenant_a, in_tenant).state == "approved"
    assert "approved" in response.content.decode().lower()


def test_transition_without_reason_is_refused_and_changes_nothing(web, improvement, tenant_a, in_tenant):
    response = web("process_owner").post(url(improvement, "transitions/approve/"), {"reason": " "}, follow=True)
    assert "A reason is required." in response.content.decode()
    with in_tenant(tenant_a):
        after = Improvement.objects.get(pk=improvement.pk)
        assert after.state == "proposed" and after.history.count() == 1


def test_segregation_of_duties_in_the_browser(web, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["process_owner"]):
        own = ImprovementFactory(owner=personas["process_owner"], created_by=personas["process_owner"])
    page = web("process_owner").get(f"{LIST}{own.pk}/").content.decode()
    assert "transitions/approve/" not in page  # not offered to its author
    response = web("process_owner").post(url(own, "transitions/approve/"), {"reason": "mine"})
    assert response.status_code == 403
    assert reload(own, tenant_a, in_tenant).state == "proposed"


def test_unavailable_transition_is_a_message_not_an_error(web, improvement):
    response = web("process_owner").post(url(improvement, "transitions/close/"), {}, follow=True)
    assert response.status_code == 200
    assert "Cannot close" in response.content.decode()


# --- journal, attachments, links, watching ---------------------------------------------------
def test_journal_entry_with_htmx_returns_the_section(web, improvement, tenant_a, in_tenant):
    response = web("agent").post(
        url(improvement, "journal/"), {"body": "Customer called back.", "visibility": "public"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Customer called back." in html and "Journal entry added." in html and "<html" not in html
    with in_tenant(tenant_a):
        assert JournalEntry.objects.get().visibility == "public"


def test_empty_journal_entry_is_refused(web, improvement, tenant_a, in_tenant):
    response = web("agent").post(url(improvement, "journal/"), {"body": "  "}, follow=True)
    assert "Write something." in response.content.decode()
    with in_tenant(tenant_a):
        assert not JournalEntry.objects.exists()


def test_attachment_upload_and_download(web, improvement, tenant_a, in_tenant):
    upload = SimpleUploadedFile("evidence.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    response = web("agent").post(url(improvement, "attachments/"), {"file": upload})
    assert response.status_code == 302
    with in_tenant(tenant_a):
        attachment = Attachment.objects.get()
    download = web("auditor").get(url(improvement, f"attachments/{attachment.pk}/"))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 evidence"
    assert (
        web("outsider").get(f"/t/globex/records/improvement/{improvement.pk}/attachments/{attachment.pk}/").status_code
        == 404
    )


def test_attachment_of_refused_type_is_reported(web, improvement, tenant_a, in_tenant):
    upload = SimpleUploadedFile("run.sh", b"#!/bin/sh", content_type="application/x-sh")
    response = web("agent").post(url(improvement, "attachments/"), {"file": upload}, follow=True)
    assert "are not accepted" in response.content.decode()
    with in_tenant(tenant_a):
        assert not Attachment.objects.exists()


def test_link_by_reference_and_unlink(web, improvement, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        other = ImprovementFactory()
    client = web("agent")
    response = client.post(
        url(improvement, "links/"),
        {"link_type": "relates_to", "target_kind": "improvement", "target": other.reference},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and other.reference in response.content.decode()
    # shown from the other side with the inverse wording
    assert improvement.reference in client.get(f"{LIST}{other.pk}/").content.decode()
    again = client.post(
        url(improvement, "links/"),
        {"link_type": "relates_to", "target_kind": "improvement", "target": other.reference},
        follow=True,
    )
    assert "already linked" in again.content.decode()
    itself = client.post(
        url(improvement, "links/"),
        {"link_type": "relates_to", "target_kind": "improvement", "target": improvement.reference},
        follow=True,
    )
    assert "cannot be linked to itself" in itself.content.decode()
    with in_tenant(tenant_a):
        link = RecordLink.objects.get()
    assert client.post(url(improvement, f"links/{link.pk}/delete/")).status_code == 302
    with in_tenant(tenant_a):
        assert not RecordLink.objects.exists()


def test_link_to_another_tenants_record_is_not_found(web, improvement, personas, tenant_b, in_tenant):
    with in_tenant(tenant_b, personas["outsider"]):
        theirs = ImprovementFactory()
    response = web("agent").post(
        url(improvement, "links/"),
        {"link_type": "relates_to", "target_kind": "improvement", "target": str(theirs.pk)},
        follow=True,
    )
    assert "No improvement with that id or reference" in response.content.decode()


def test_watch_toggles(web, improvement, personas, tenant_a, in_tenant):
    client = web("auditor")  # auditors may follow records they read
    client.post(url(improvement, "watch/"))
    with in_tenant(tenant_a):
        assert Watcher.objects.filter(user=personas["auditor"]).count() == 1
    assert improvement.reference in client.get("/t/acme/").content.decode()  # on the home page
    client.post(url(improvement, "watch/"))
    with in_tenant(tenant_a):
        assert not Watcher.objects.exists()
