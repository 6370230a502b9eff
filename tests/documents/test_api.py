"""The documents API: current version by default, drafting, transitions, permissions per
role, acknowledgements, distribution, register export, and tenant isolation of the
special endpoints."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Acknowledgement, DistributionEntry, DocumentVersion
from sms.tenancy import context
from tests.factories import DocumentFactory, DocumentVersionFactory


def v_url(version, tail=""):
    return f"/api/v1/document-versions/{version.pk}/{tail}"


def test_document_returns_the_current_issued_version(api, document, issue):
    client = api("auditor")
    body = client.get(f"/api/v1/documents/{document.pk}/").json()
    assert body["current_version"] is None
    assert client.get(f"/api/v1/documents/{document.pk}/current/").status_code == 404
    first = issue(document)
    second = issue(document, content="# Version two\n\nNew text.")
    body = client.get(f"/api/v1/documents/{document.pk}/").json()
    assert body["current_version"]["id"] == second.pk
    assert body["current_version"]["approved_by"]["username"] == "acme-process_owner"
    current = client.get(f"/api/v1/documents/{document.pk}/current/").json()
    assert current["number"] == 2 and "<h1>Version two</h1>" in current["content_html"]
    # The superseded version is still retrievable, marked obsolete.
    old = client.get(v_url(first)).json()
    assert old["state"] == "superseded" and old["is_obsolete"] is True


def test_draft_submit_approve_issue_through_the_api(api, document):
    author, approver = api("admin"), api("process_owner")
    resp = author.post("/api/v1/document-versions/", {
        "document": document.pk, "change_summary": "First issue", "reason": "New process",
        "content": "Do the thing.",
    }, format="json")
    assert resp.status_code == 201, resp.content
    vid = resp.json()["id"]
    assert resp.json()["number"] == 1 and resp.json()["state"] == "draft"
    url = f"/api/v1/document-versions/{vid}/"
    assert author.patch(url, {"content": "Do the thing carefully."}, format="json").status_code == 200
    assert author.post(f"{url}transitions/submit/", {}, format="json").status_code == 200
    # Not editable once sent to review.
    resp = author.patch(url, {"content": "sneaky"}, format="json")
    assert resp.status_code == 400 and "non_field_errors" in resp.json()
    # The author (admin) cannot approve; the admin role lacks document.approve anyway.
    assert author.post(f"{url}transitions/approve/", {}, format="json").status_code == 403
    transitions = {t["name"]: t["allowed"] for t in approver.get(f"{url}transitions/").json()}
    assert transitions["approve"] is True
    assert approver.post(f"{url}transitions/approve/", {"reason": "Fine"}, format="json").status_code == 200
    resp = approver.post(f"{url}transitions/issue/", {}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["state"] == "issued" and resp.json()["approved_by"]["username"] == "acme-process_owner"


def test_process_owner_cannot_approve_own_version_via_api(api, document):
    client = api("process_owner")
    vid = client.post("/api/v1/document-versions/", {"document": document.pk, "change_summary": "x",
                                                      "content": "y"}, format="json").json()["id"]
    assert client.post(f"/api/v1/document-versions/{vid}/transitions/submit/", {}, format="json").status_code == 200
    resp = client.post(f"/api/v1/document-versions/{vid}/transitions/approve/", {}, format="json")
    assert resp.status_code == 403 and "Segregation of duties" in resp.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"document": 999999, "content": "x"}, {"document": "abc"}, {"document": None}],
)
def test_bad_version_input_is_400(api, payload):
    resp = api("admin").post("/api/v1/document-versions/", payload, format="json")
    assert resp.status_code == 400 and resp.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "", "document_type": "policy"}, "title"),
        ({"title": "x", "document_type": "novel"}, "document_type"),
        ({"title": "x", "document_type": "policy", "clauses": ["four"]}, "clauses"),
        ({"title": "x", "document_type": "policy", "processes": ["Astrology"]}, "processes"),
        ({"title": "x", "document_type": "external"}, "origin"),
        ({"title": "x", "document_type": "policy", "review_interval_months": 0}, "review_interval_months"),
        ({"title": "x", "document_type": "policy", "processes": "Change management"}, "processes"),
    ],
)
def test_bad_document_input_is_400_with_field(api, payload, field):
    resp = api("process_owner").post("/api/v1/documents/", payload, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()


def test_external_document_fields(api):
    resp = api("process_owner").post("/api/v1/documents/", {
        "title": "ISO/IEC 20000-1 copy", "document_type": "external", "origin": "ISO", "external_reference":
        "ISO/IEC 20000-1:2011", "version_received": "2011", "copy_holders": "Quality team only",
        "processes": ["change management"], "clauses": ["4.3", " 4.3 "],
    }, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["reference"].startswith("DOC-") and body["origin"] == "ISO"
    assert body["processes"] == ["Change management"] and body["clauses"] == ["4.3"]
    assert body["next_review_date"]


def test_find_the_issued_procedure_for_a_process(api, personas, tenant_a, issue):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        proc = DocumentFactory(document_type="procedure", processes=["Incident and service request management"])
        DocumentFactory(document_type="procedure", processes=["Change management"])
    issue(proc)
    rows = api("agent").get("/api/v1/documents/", {
        "process": "Incident and service request management", "document_type": "procedure", "has_issued": "true",
    }).json()["results"]
    assert [r["id"] for r in rows] == [proc.pk]


@pytest.mark.parametrize("role", ["auditor", "agent", "change_approver"])
def test_readers_read_but_never_edit(api, role, document, issue):
    version = issue(document)
    client = api(role)
    assert client.get("/api/v1/documents/").status_code == 200
    assert client.get(v_url(version)).status_code == 200
    assert client.get(v_url(version, "pdf/")).status_code == 200
    new = {"title": "x", "document_type": "policy"}
    assert client.post("/api/v1/documents/", new, format="json").status_code == 403
    assert client.patch(f"/api/v1/documents/{document.pk}/", {"title": "x"}, format="json").status_code == 403
    assert client.post("/api/v1/document-versions/", {"document": document.pk, "content": "x"},
                       format="json").status_code == 403
    assert client.post(v_url(version, "transitions/withdraw/"), {"reason": "x"}, format="json").status_code == 403
    assert client.post(f"/api/v1/documents/{document.pk}/review/", {}, format="json").status_code == 403
    assert client.post("/api/v1/document-distribution/", {"document": document.pk, "role": "agent"},
                       format="json").status_code == 403


def test_uploaded_file_keeps_sha256_and_downloads(api, document, settings, tmp_path):
    import hashlib

    settings.MEDIA_ROOT = tmp_path
    content = b"%PDF-1.4 signed contract"
    upload = SimpleUploadedFile("contract.pdf", content, content_type="application/pdf")
    resp = api("admin").post("/api/v1/document-versions/", {"document": document.pk, "file": upload,
                                                             "change_summary": "Signed copy"}, format="multipart")
    assert resp.status_code == 201, resp.content
    assert resp.json()["sha256"] == hashlib.sha256(content).hexdigest()
    got = api("auditor").get(f"/api/v1/document-versions/{resp.json()['id']}/download/")
    assert got.status_code == 200 and got["Content-Type"] == "application/octet-stream"
    assert b"".join(got.streaming_content) == content
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")
    resp = api("admin").post("/api/v1/document-versions/", {"document": document.pk, "file": bad},
                             format="multipart")
    assert resp.status_code == 400 and "file" in resp.json()


# --- distribution and acknowledgement ---------------------------------------------------------
def test_issue_asks_the_distribution_list_to_acknowledge(api, personas, tenant_a, document, issue,
                                                         django_capture_on_commit_callbacks):
    client = api("process_owner")
    assert client.post("/api/v1/document-distribution/", {"document": document.pk, "role": "agent"},
                       format="json").status_code == 201
    assert client.post("/api/v1/document-distribution/", {"document": document.pk, "user": personas["auditor"].pk},
                       format="json").status_code == 201
    dup = client.post("/api/v1/document-distribution/", {"document": document.pk, "role": "agent"}, format="json")
    assert dup.status_code == 400 and "role" in dup.json()
    two = client.post("/api/v1/document-distribution/", {"document": document.pk, "role": "admin",
                                                         "user": personas["agent"].pk}, format="json")
    assert two.status_code == 400
    outsider = client.post("/api/v1/document-distribution/", {"document": document.pk,
                                                              "user": personas["outsider"].pk}, format="json")
    assert outsider.status_code == 400 and "user" in outsider.json()

    with django_capture_on_commit_callbacks(execute=True):
        version = issue(document)
    with context.tenant_context(tenant_a):
        asked = set(Acknowledgement.objects.filter(version=version).values_list("user__username", flat=True))
    assert asked == {"acme-agent", "acme-auditor"}
    assert sorted(m.to[0] for m in mail.outbox) == ["acme-agent@example.test", "acme-auditor@example.test"]
    assert document.reference in mail.outbox[0].subject

    rows = api("auditor").get("/api/v1/document-acknowledgements/", {"mine": "true", "outstanding": "true"}).json()
    assert [r["version"] for r in rows["results"]] == [version.pk]
    resp = api("auditor").post(v_url(version, "acknowledge/"))
    assert resp.status_code == 200 and resp.json()["acknowledged_at"]
    assert api("auditor").get("/api/v1/document-acknowledgements/", {"mine": "true", "outstanding": "true"}
                              ).json()["count"] == 0
    ack_id = api("agent").get("/api/v1/document-acknowledgements/", {"mine": "true"}).json()["results"][0]["id"]
    # Nobody acknowledges for someone else.
    assert api("auditor").post(f"/api/v1/document-acknowledgements/{ack_id}/acknowledge/").status_code == 403
    assert api("agent").post(f"/api/v1/document-acknowledgements/{ack_id}/acknowledge/").status_code == 200
    body = api("auditor").get(v_url(version)).json()
    assert body["acknowledgements_requested"] == 2 and body["acknowledgements_outstanding"] == 0


def test_obsolete_versions_cannot_be_acknowledged(api, personas, tenant_a, document, issue):
    with context.tenant_context(tenant_a, personas["admin"]):
        DistributionEntry.objects.create(document=document, role="agent")
    first = issue(document)
    issue(document)
    resp = api("agent").post(v_url(first, "acknowledge/"))
    assert resp.status_code == 400 and "version" in resp.json()
    with context.tenant_context(tenant_a):
        assert not Acknowledgement.objects.filter(version=first, acknowledged_at__isnull=False).exists()
    with context.tenant_context(tenant_a, personas["admin"]):
        draft = DocumentVersionFactory(document=document)
    assert api("agent").post(v_url(draft, "acknowledge/")).status_code == 400


def test_mail_failure_does_not_undo_the_issue(api, personas, tenant_a, document, issue, monkeypatch,
                                              django_capture_on_commit_callbacks):
    from django.core.mail import EmailMessage

    from sms.core.models import OutboundMessage

    def boom(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", boom)
    with context.tenant_context(tenant_a, personas["admin"]):
        DistributionEntry.objects.create(document=document, role="agent")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version = issue(document)
    assert callbacks
    with context.tenant_context(tenant_a):
        assert DocumentVersion.objects.get(pk=version.pk).state == "issued"
        assert Acknowledgement.objects.filter(version=version).count() == 1
        # The notice waits in the outbox with the error, to be tried again.
        message = OutboundMessage.objects.get(topic="document_issue")
        assert (message.status, message.attempts) == ("queued", 1)
        assert "mail server down" in message.last_error


# --- register and reviews ------------------------------------------------------------------
def test_register_csv(api, personas, tenant_a, document, issue):
    issue(document)
    with context.tenant_context(tenant_a, personas["process_owner"]):
        DocumentFactory(title="=HYPERLINK(evil)", owner=personas["process_owner"])
    resp = api("auditor").get("/api/v1/documents/register/")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    assert rows[0][:3] == ["Reference", "Title", "Type"]
    by_ref = {r[0]: r for r in rows[1:]}
    assert by_ref[document.reference][5] == "1"  # current version
    assert by_ref[document.reference][10] == "acme-process_owner"
    assert any(r[1] == "'=HYPERLINK(evil)" for r in rows[1:])


def test_review_moves_the_next_review_date(api, personas, tenant_a, document):
    import datetime as dt

    from sms.core.models import PlannedActivity

    with context.tenant_context(tenant_a, personas["process_owner"]):
        document.next_review_date = dt.date.today() - dt.timedelta(days=3)
        document.save()
    assert api("process_owner").get(f"/api/v1/documents/{document.pk}/").json()["review_overdue"] is True
    assert api("agent").get("/api/v1/documents/", {"review_overdue": "true"}).json()["count"] == 1
    resp = api("process_owner").post(f"/api/v1/documents/{document.pk}/review/", {"note": "Still right"},
                                     format="json")
    assert resp.status_code == 200 and resp.json()["review_overdue"] is False
    with context.tenant_context(tenant_a):
        activity = PlannedActivity.objects.get(kind="document_review", subject_id=document.pk)
        assert activity.next_due > dt.date.today() and activity.last_done_at


# --- isolation of the special endpoints ------------------------------------------------------
def test_other_tenant_cannot_reach_special_endpoints(api, document, issue):
    version = issue(document)
    outsider = api("outsider_admin")
    for path in (f"/api/v1/documents/{document.pk}/current/", v_url(version, "pdf/"), v_url(version, "download/"),
                 v_url(version, "transitions/")):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(v_url(version, "acknowledge/")).status_code == 404
    assert outsider.post(v_url(version, "transitions/withdraw/"), {"reason": "x"}, format="json").status_code == 404
    assert outsider.post(f"/api/v1/documents/{document.pk}/review/", {}, format="json").status_code == 404
    resp = outsider.post("/api/v1/document-versions/", {"document": document.pk, "content": "x"}, format="json")
    assert resp.status_code == 400 and "document" in resp.json()
    resp = outsider.post("/api/v1/document-distribution/", {"document": document.pk, "role": "agent"},
                         format="json")
    assert resp.status_code == 400 and "document" in resp.json()
    rows = list(csv.reader(io.StringIO(outsider.get("/api/v1/documents/register/").content.decode())))
    assert [r for r in rows[1:] if r[0] == document.reference] == []
