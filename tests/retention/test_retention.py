"""Retention rules, legal holds and approved disposal runs with tombstones (4.3.3)."""

import pytest
from django.core.files.storage import default_storage

from documents.retention import services
from documents.retention.models import DisposalItem, DisposalRun, LegalHold, RetentionRule, Tombstone
from governance.models import Improvement
from sms.core.models import JournalEntry
from sms.core.services import add_journal_entry
from tests.factories import ImprovementFactory, closed_improvement

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        rule = RetentionRule.objects.create(record_kind="improvement", retain_months=24, action="dispose")
        old = closed_improvement(personas, months_ago=30)
        add_journal_entry(old, by=personas["agent"], body="Closed after re-test.")
        recent = closed_improvement(personas, months_ago=6)
        still_open = ImprovementFactory()
        held = closed_improvement(personas, months_ago=40)
        services.place_hold(record_kind="improvement", object_id=held.pk, reason="Dispute", by=personas["admin"])
    return {"rule": rule, "old": old, "recent": recent, "open": still_open, "held": held}


def test_only_closed_expired_unheld_records_are_eligible(setup, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        found = set(services.eligible(setup["rule"]).values_list("pk", flat=True))
    assert found == {setup["old"].pk}


def test_disposal_needs_approval_by_someone_else_then_leaves_tombstones(api, setup, personas, tenant_a, in_tenant):
    admin, owner = api("admin"), api("process_owner")
    created = admin.post("/api/v1/disposal-runs/")
    assert created.status_code == 201, created.content
    run_id = created.json()["id"]
    assert created.json()["item_count"] == 1
    # Executing before approval is not possible; nothing happens.
    assert admin.post(f"/api/v1/disposal-runs/{run_id}/transitions/execute/").status_code == 409
    # The proposer cannot approve their own run.
    assert admin.post(f"/api/v1/disposal-runs/{run_id}/transitions/approve/", {"reason": "ok"}).status_code == 403
    with in_tenant(tenant_a):
        assert Improvement.objects.filter(pk=setup["old"].pk).exists()
    approved = owner.post(f"/api/v1/disposal-runs/{run_id}/transitions/approve/", {"reason": "Retention ended"})
    assert approved.status_code == 200, approved.content
    # Process owners approve but do not execute.
    assert owner.post(f"/api/v1/disposal-runs/{run_id}/transitions/execute/").status_code == 403
    executed = admin.post(f"/api/v1/disposal-runs/{run_id}/transitions/execute/")
    assert executed.status_code == 200, executed.content
    assert executed.json()["state"] == "executed"
    with in_tenant(tenant_a):
        assert not Improvement.objects.filter(pk=setup["old"].pk).exists()
        assert not Improvement.history.filter(id=setup["old"].pk).exists()
        assert not JournalEntry.objects.exists()
        tomb = Tombstone.objects.get()
        item = DisposalItem.objects.get()
    assert tomb.reference == setup["old"].reference and tomb.action == "dispose"
    assert tomb.executed_by == personas["admin"] and tomb.run_id == run_id
    assert item.outcome == "disposed" and item.title == ""
    listed = api("auditor").get("/api/v1/tombstones/").json()["results"]
    assert [t["reference"] for t in listed] == [setup["old"].reference]


def test_archive_keeps_an_export_with_its_digest(api, setup, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        RetentionRule.objects.filter(pk=setup["rule"].pk).update(action="archive")
        run = services.propose_run(by=personas["admin"])
    api("process_owner").post(f"/api/v1/disposal-runs/{run.pk}/transitions/approve/", {"reason": "ok"})
    assert api("admin").post(f"/api/v1/disposal-runs/{run.pk}/transitions/execute/").status_code == 200
    with in_tenant(tenant_a):
        tomb = Tombstone.objects.get()
    assert tomb.action == "archive" and len(tomb.archive_sha256) == 64
    with default_storage.open(tomb.archive_file.name) as fh:
        content = fh.read()
    assert setup["old"].reference.encode() in content and b"Closed after re-test." in content


def test_a_hold_placed_after_proposal_saves_the_record(api, setup, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        run = services.propose_run(by=personas["admin"])
    response = api("admin").post(
        "/api/v1/legal-holds/", {"record_kind": "improvement", "object_id": setup["old"].pk, "reason": "Audit"}
    )
    assert response.status_code == 201, response.content
    api("process_owner").post(f"/api/v1/disposal-runs/{run.pk}/transitions/approve/", {"reason": "ok"})
    api("admin").post(f"/api/v1/disposal-runs/{run.pk}/transitions/execute/")
    with in_tenant(tenant_a):
        assert Improvement.objects.filter(pk=setup["old"].pk).exists()
        assert DisposalItem.objects.get().outcome == "skipped"
        assert not Tombstone.objects.exists()


def test_nothing_to_dispose_is_a_400(api, personas, tenant_a):
    response = api("admin").post("/api/v1/disposal-runs/")
    assert response.status_code == 400
    assert "retention period" in str(response.json())


def test_rule_validation(api, setup):
    admin = api("admin")
    assert (
        admin.post(
            "/api/v1/retention-rules/", {"record_kind": "improvement", "retain_months": 12, "action": "dispose"}
        ).status_code
        == 400
    )  # one per kind
    bad = admin.post("/api/v1/retention-rules/", {"record_kind": "ci", "retain_months": 0, "action": "burn"})
    assert bad.status_code == 400
    assert {"retain_months", "action"} <= set(bad.json())
    # A kind without a closed state cannot have a retention period.
    no_closure = admin.post(
        "/api/v1/retention-rules/", {"record_kind": "disposal", "retain_months": 12, "action": "dispose"}
    )
    assert no_closure.status_code == 400 and "record_kind" in no_closure.json()


def test_only_administrators_manage_rules_and_holds(api, setup):
    for role in ("agent", "process_owner", "auditor"):
        assert (
            api(role)
            .post("/api/v1/retention-rules/", {"record_kind": "improvement", "retain_months": 5, "action": "dispose"})
            .status_code
            == 403
        )
        assert (
            api(role)
            .post("/api/v1/legal-holds/", {"record_kind": "improvement", "object_id": setup["old"].pk, "reason": "x"})
            .status_code
            == 403
        )
    assert api("auditor").get("/api/v1/retention-rules/").status_code == 200
    assert api("auditor").post("/api/v1/disposal-runs/").status_code == 403


def test_hold_release_is_recorded(api, setup, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        hold = LegalHold.objects.get()
    assert api("admin").post(f"/api/v1/legal-holds/{hold.pk}/release/", {}).status_code == 400
    released = api("admin").post(f"/api/v1/legal-holds/{hold.pk}/release/", {"reason": "Dispute settled"})
    assert released.status_code == 200 and released.json()["is_active"] is False
    assert api("admin").post(f"/api/v1/legal-holds/{hold.pk}/release/", {"reason": "again"}).status_code == 400


def test_scheduled_review_proposes_a_run(setup, personas, tenant_a, in_tenant):
    from sms.core.models import PlannedActivity

    with in_tenant(tenant_a, personas["admin"]):
        activity = PlannedActivity.objects.create(
            kind="records_disposal_review", title="Monthly disposal review", next_due="2026-01-01"
        )
        assert services.scheduled_proposal(activity) is True
        assert DisposalRun.objects.get().items.count() == 1
        # A second pass finds nothing new: the record is already in an open run.
        assert services.scheduled_proposal(activity) is True
        assert DisposalRun.objects.count() == 1


def test_browser_pages(web, setup, personas, tenant_a, in_tenant):
    page = web("auditor").get("/t/acme/retention/").content.decode()
    assert "Retention rules" in page and setup["held"].reference in page
    assert 'name="form" value="rule"' not in page  # auditors read only
    admin = web("admin")
    bad = admin.post("/t/acme/retention/", {"form": "hold", "reference": "IMP-99999", "reason": "x"})
    assert "No record with reference" in bad.content.decode()
    response = admin.post("/t/acme/retention/disposals/new/")
    assert response.status_code == 302
    with in_tenant(tenant_a):
        run = DisposalRun.objects.get()
    detail = web("process_owner").get(f"/t/acme/retention/disposals/{run.pk}/").content.decode()
    assert setup["old"].reference in detail and "Approve disposal" in detail
    assert web("agent").post("/t/acme/retention/disposals/new/").status_code == 403
    assert web("auditor").get("/t/acme/retention/tombstones/").status_code == 200
    assert web("outsider_admin").get(f"/t/globex/retention/disposals/{run.pk}/").status_code == 404


def test_cmdb_kinds_can_have_retention(api):
    for kind in ("ci", "service"):
        response = api("admin").post("/api/v1/retention-rules/", {"record_kind": kind, "retain_months": 60,
                                                                   "action": "archive"})
        assert response.status_code == 201, response.content
