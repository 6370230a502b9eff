"""Process documentation coverage (4.3.1): which processes lack issued documents."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sms.tenancy.services import add_member
from tests.conftest import make_user
from tests.factories import DocumentFactory, issued_version

pytestmark = pytest.mark.django_db


def row_for(rows, process):
    return next(r for r in rows if r["process"] == process)


def test_missing_and_present_documents_per_process(api, personas, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        policy = DocumentFactory(title="Service management policy", document_type="policy",
                                 processes=["Service management system"])
        issued_version(personas, document=policy)
        procedure = DocumentFactory(title="Change procedure", document_type="procedure",
                                    processes=["Change management"])
        issued_version(personas, document=procedure)
        DocumentFactory(title="Change process (draft)", document_type="process", processes=["Change management"])
    with in_tenant(tenant_b, personas["outsider"]):
        theirs = DocumentFactory(title="Their change process", document_type="process",
                                 processes=["Change management"])
        b_owner = make_user("globex-process-owner")
        add_member(tenant_b, b_owner, ["process_owner"])
        issued_version({"agent": personas["outsider"], "process_owner": b_owner}, document=theirs)
    response = api("auditor").get("/api/v1/documents/process-coverage/")
    assert response.status_code == 200, response.content
    rows = response.json()
    change = row_for(rows, "Change management")
    assert [d["title"] for d in change["policy"]] == ["Service management policy"]  # whole-SMS policy counts
    assert [d["title"] for d in change["procedure"]] == ["Change procedure"]
    assert change["process_description"] == [] and change["missing"] == ["process"]  # draft and B's don't count
    assert not change["complete"]
    incident = row_for(rows, "Incident and service request management")
    assert incident["missing"] == ["process", "procedure"]


def test_page_shows_gaps_and_drafts(web, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        draft = DocumentFactory(title="Incident procedure", document_type="procedure",
                                processes=["Incident and service request management"])
    client = web("top_management")
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/t/acme/documents/processes/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Missing" in html and "in preparation" in html and draft.reference in html
    assert "0 of" in html
    with in_tenant(tenant_a, personas["agent"]):
        for i in range(10):
            DocumentFactory(title=f"Extra {i}", document_type="policy", processes=["Capacity management"])
    with CaptureQueriesContext(connection) as more:
        client.get("/t/acme/documents/processes/")
    assert len(more.captured_queries) == len(ctx.captured_queries)
