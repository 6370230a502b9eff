"""Approvers per document type (4.3.2 a)."""

import pytest

from documents.models import ApprovalRule
from sms.tenancy import context

pytestmark = pytest.mark.django_db


def _submitted(api, document):
    author = api("admin")
    vid = author.post("/api/v1/document-versions/", {
        "document": document.pk, "change_summary": "First issue", "reason": "New", "content": "Text.",
    }, format="json").json()["id"]
    assert author.post(f"/api/v1/document-versions/{vid}/transitions/submit/", {}, format="json").status_code == 200
    return f"/api/v1/document-versions/{vid}/"


def test_rule_limits_approval_to_its_roles(api, personas, tenant_a, document):
    with context.tenant_context(tenant_a, personas["admin"]):
        document.document_type = "policy"
        document.save()
        ApprovalRule.objects.create(document_type="policy", roles=["top_management"])
    url = _submitted(api, document)
    owner = api("process_owner")
    offered = {t["name"]: t["allowed"] for t in owner.get(f"{url}transitions/").json()}
    assert offered["approve"] is False
    refused = owner.post(f"{url}transitions/approve/", {"reason": "ok"}, format="json")
    assert refused.status_code == 403
    assert "Top management" in str(refused.json())
    approved = api("top_management").post(f"{url}transitions/approve/", {"reason": "Adopted"}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved"


def test_types_without_a_rule_keep_the_general_capability(api, document):
    url = _submitted(api, document)  # a procedure; no rule for procedures
    assert api("process_owner").post(f"{url}transitions/approve/", {"reason": "ok"}, format="json").status_code == 200


def test_rule_validation_and_permissions(api):
    admin = api("admin")
    assert admin.post("/api/v1/document-approval-rules/", {"document_type": "sla", "roles": ["agent"]},
                      format="json").status_code == 400
    assert admin.post("/api/v1/document-approval-rules/", {"document_type": "sla", "roles": []},
                      format="json").status_code == 400
    ok = admin.post("/api/v1/document-approval-rules/", {"document_type": "sla", "roles": ["process_owner"]},
                    format="json")
    assert ok.status_code == 201, ok.content
    again = admin.post("/api/v1/document-approval-rules/", {"document_type": "sla", "roles": ["top_management"]},
                       format="json")
    assert again.status_code == 400 and "document_type" in again.json()
    assert api("process_owner").post("/api/v1/document-approval-rules/", {
        "document_type": "plan", "roles": ["process_owner"]}, format="json").status_code == 403
    assert api("auditor").get("/api/v1/document-approval-rules/").status_code == 200


def test_rules_page(web, tenant_a, in_tenant):
    response = web("admin").post("/t/acme/documents/approval-rules/", {"document_type": "policy",
                                                                        "roles": ["top_management"]})
    assert response.status_code == 302
    with in_tenant(tenant_a):
        assert ApprovalRule.objects.get().roles == ["top_management"]
    bad = web("admin").post("/t/acme/documents/approval-rules/", {"document_type": "plan", "roles": ["auditor"]})
    assert "cannot approve documents at all" in bad.content.decode()
    page = web("auditor").get("/t/acme/documents/approval-rules/").content.decode()
    assert "Top management" in page or "top_management" in page
    assert "Set the approvers" not in page
    refused = web("process_owner").post("/t/acme/documents/approval-rules/",
                                        {"document_type": "plan", "roles": ["process_owner"]})
    assert refused.status_code == 403
