"""Version workflow: review, approval by someone else, issue superseding the version in
force, one issued version per document (also under concurrency), withdrawal."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connections, transaction

from documents.models import Document, DocumentVersion
from sms.core.models import PlannedActivity
from sms.core.workflow import TransitionBlocked, TransitionForbidden, run_transition
from sms.tenancy import context
from tests.conftest import token_client
from tests.factories import DocumentFactory, DocumentVersionFactory


def take(version, name, who, tenant, reason=""):
    with context.tenant_context(tenant, who):
        return run_transition(version, name, by=who, reason=reason)


def test_author_cannot_approve_own_version(personas, tenant_a, document):
    owner = personas["process_owner"]
    with context.tenant_context(tenant_a, owner):
        version = DocumentVersionFactory(document=document, created_by=owner)
    version = take(version, "submit", owner, tenant_a)
    with pytest.raises(TransitionForbidden, match="Segregation of duties"):
        take(version, "approve", owner, tenant_a)
    with context.tenant_context(tenant_a):
        version.refresh_from_db()
        assert version.state == "in_review" and version.approved_by is None
        assert version.history.count() == 2  # created, sent to review: the refusal wrote nothing


def test_approval_needs_the_capability(personas, tenant_a, draft):
    version = take(draft, "submit", personas["admin"], tenant_a)
    # The administrator holds *.transition but not the explicit-only document.approve.
    with pytest.raises(TransitionForbidden, match="document.approve"):
        take(version, "approve", personas["admin"], tenant_a)
    for role in ("agent", "auditor", "change_approver"):
        with pytest.raises(TransitionForbidden):
            take(version, "approve", personas[role], tenant_a)
    # Top management approves the documents it owns, such as the service management policy.
    assert take(version, "approve", personas["top_management"], tenant_a).state == "approved"


def test_submit_needs_content_and_summary(personas, tenant_a, document):
    with context.tenant_context(tenant_a, personas["admin"]):
        version = DocumentVersionFactory(document=document, content="", change_summary="")
    with pytest.raises(TransitionBlocked) as exc:
        take(version, "submit", personas["admin"], tenant_a)
    assert set(exc.value.field_errors) == {"content", "change_summary"}


def test_issue_supersedes_the_previous_version(personas, tenant_a, document, issue):
    first = issue(document)
    second = issue(document, change_summary="Emergency changes added.")
    with context.tenant_context(tenant_a):
        first.refresh_from_db()
        second.refresh_from_db()
        doc = Document.objects.get(pk=document.pk)
        assert first.state == "superseded" and first.superseded_by_id == second.pk and first.obsolete_at
        assert second.state == "issued" and second.approved_by == personas["process_owner"]
        assert doc.current_version_id == second.pk
        assert DocumentVersion.objects.filter(document=document, state="issued").count() == 1
        reasons = list(first.history.values_list("history_change_reason", flat=True))
        assert "Superseded by version 2" in reasons


def test_an_older_version_cannot_replace_a_newer_one(personas, tenant_a, document):
    po, admin = personas["process_owner"], personas["admin"]
    with context.tenant_context(tenant_a, admin):
        v1 = DocumentVersionFactory(document=document)
        v2 = DocumentVersionFactory(document=document)
    for v in (v1, v2):
        take(v, "submit", admin, tenant_a)
        take(v, "approve", po, tenant_a)
    take(v2, "issue", po, tenant_a)
    with pytest.raises(TransitionBlocked, match="newer"):
        take(v1, "issue", po, tenant_a)
    with context.tenant_context(tenant_a):
        assert DocumentVersion.objects.get(pk=v1.pk).state == "approved"
        assert DocumentVersion.objects.get(pk=v2.pk).state == "issued"


def test_database_allows_one_issued_version_per_document(personas, tenant_a, document, issue):
    issue(document)
    with context.tenant_context(tenant_a, personas["admin"]):
        other = DocumentVersionFactory(document=document)
        with pytest.raises(IntegrityError), transaction.atomic():
            # Bypass the workflow: only the partial unique constraint stands in the way.
            DocumentVersion.objects.filter(pk=other.pk).update(state="issued")


@pytest.mark.django_db(transaction=True)
def test_parallel_issues_leave_exactly_one_issued_version(personas, tenant_a):
    po, admin = personas["process_owner"], personas["admin"]
    with context.tenant_context(tenant_a, admin):
        document = DocumentFactory(owner=po)
        versions = [DocumentVersionFactory(document=document) for _ in range(2)]
    for v in versions:
        take(v, "submit", admin, tenant_a)
        take(v, "approve", po, tenant_a)
    clients = [token_client(po, tenant_a), token_client(po, tenant_a)]
    barrier = threading.Barrier(2)
    results = {}

    def go(i):
        try:
            barrier.wait(timeout=30)
            results[i] = clients[i].post(f"/api/v1/document-versions/{versions[i].pk}/transitions/issue/",
                                         {}, format="json")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(r.status_code for r in results.values())
    assert codes[0] == 200 and codes[1] in (200, 400, 409), {k: (v.status_code, v.content) for k, v in results.items()}
    with context.tenant_context(tenant_a):
        issued = list(DocumentVersion.objects.filter(document=document, state="issued"))
        assert len(issued) == 1
        assert Document.objects.get(pk=document.pk).current_version_id == issued[0].pk
        # Whatever the order, the newer version ends up in force.
        assert issued[0].number == 2


def test_withdrawing_the_issued_version_leaves_no_current_version(personas, tenant_a, document, issue):
    version = issue(document)
    with pytest.raises(TransitionBlocked):
        take(version, "withdraw", personas["process_owner"], tenant_a)  # reason required
    take(version, "withdraw", personas["process_owner"], tenant_a, reason="Process outsourced.")
    with context.tenant_context(tenant_a):
        version.refresh_from_db()
        assert version.state == "withdrawn" and version.withdrawal_reason == "Process outsourced."
        assert Document.objects.get(pk=document.pk).current_version_id is None


def test_supersede_is_not_open_to_anyone(personas, tenant_a, document, issue):
    version = issue(document)
    for role in ("process_owner", "admin"):
        with pytest.raises(TransitionForbidden):
            take(version, "supersede", personas[role], tenant_a)


def test_retire_needs_no_issued_version_and_blocks_new_issues(personas, tenant_a, document, issue):
    version = issue(document)
    po = personas["process_owner"]
    with context.tenant_context(tenant_a):
        doc = Document.objects.get(pk=document.pk)
    with pytest.raises(TransitionBlocked):
        take(doc, "retire", po, tenant_a, reason="No longer needed")
    take(version, "withdraw", po, tenant_a, reason="Replaced by the outsourcing contract")
    with context.tenant_context(tenant_a):
        doc = Document.objects.get(pk=document.pk)
    take(doc, "retire", po, tenant_a, reason="No longer needed")
    with context.tenant_context(tenant_a):
        activity = PlannedActivity.objects.get(kind="document_review", subject_id=document.pk)
        assert not activity.is_active


def test_every_document_has_one_review_activity(personas, tenant_a, document):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        activity = PlannedActivity.objects.get(kind="document_review", subject_id=document.pk)
        assert activity.subject == document
        assert activity.owner == personas["process_owner"]
        assert activity.next_due == document.next_review_date
        document.review_interval_months = 6
        document.save()
        assert PlannedActivity.objects.filter(kind="document_review", subject_id=document.pk).count() == 1
        assert PlannedActivity.objects.get(pk=activity.pk).interval_count == 6


def test_completing_the_planned_review_reviews_the_document(web, personas, tenant_a, document):
    import datetime as dt

    from documents.services import review_activity
    from sms.core.models import PlannedActivity

    with context.tenant_context(tenant_a, personas["process_owner"]):
        document.next_review_date = dt.date.today() - dt.timedelta(days=3)
        document.save()
        activity = review_activity(document)
        assert activity.next_due == document.next_review_date
    response = web("process_owner").post(f"/t/acme/planned/{activity.pk}/complete/", {"reason": "Still right"})
    assert response.status_code == 302
    with context.tenant_context(tenant_a, personas["process_owner"]):
        document.refresh_from_db()
        activity = PlannedActivity.objects.get(pk=activity.pk)
    assert document.next_review_date > dt.date.today() and document.last_reviewed_by == personas["process_owner"]
    assert activity.next_due == document.next_review_date and activity.last_done_at is not None
