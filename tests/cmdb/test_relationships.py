"""Relationships between CIs: typed, directed, checked against the types, no self-links,
no duplicates (in the API and in the database)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from sms.cmdb.models import Relationship
from sms.tenancy import context
from tests.factories import CITypeFactory, ConfigurationItemFactory

URL = "/api/v1/relationships/"


def test_create_list_and_remove(api, make_ci):
    app, server = make_ci(title="app"), make_ci(title="srv")
    client = api("process_owner")
    resp = client.post(URL, {"source": app.pk, "kind": "runs_on", "target": server.pk}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["kind_label"] == "runs on"
    assert body["source_detail"]["reference"] == app.reference
    assert body["created_by"]["username"] == "acme-process_owner"

    seen_from_server = client.get(f"/api/v1/cis/{server.pk}/relationships/").json()["results"]
    assert seen_from_server == [
        {
            "id": body["id"],
            "kind": "runs_on",
            "direction": "incoming",
            "label": "runs",
            "other": {"id": app.pk, "reference": app.reference, "title": "app", "type": "Server", "state": "live"},
            "note": "",
            "created_at": body["created_at"],
        }
    ]
    assert client.get(URL, {"ci": server.pk}).json()["count"] == 1
    assert client.get(URL, {"kind": "uses"}).json()["count"] == 0

    assert client.delete(f"{URL}{body['id']}/").status_code == 204
    assert client.get(URL).json()["count"] == 0
    with context.tenant_context(app.tenant):
        rows = list(Relationship.history.filter(id=body["id"]).order_by("history_date"))
    assert [r.history_type for r in rows] == ["+", "-"]


def test_kind_must_be_allowed_by_the_source_type(api, as_admin, make_ci):
    with as_admin():
        licence_type = CITypeFactory(
            name="Licence", code="licence", allowed_relationships=["part_of"], attribute_schema=[]
        )
        licence = ConfigurationItemFactory(ci_type=licence_type, attributes={})
    server = make_ci()
    client = api("process_owner")
    resp = client.post(URL, {"source": licence.pk, "kind": "runs_on", "target": server.pk}, format="json")
    assert resp.status_code == 400
    assert resp.json()["kind"] == ["A Licence cannot have a 'runs on' relationship; allowed: is part of."]
    # The other way round is the server's type's business, which allows it.
    resp = client.post(URL, {"source": server.pk, "kind": "licensed_by", "target": licence.pk}, format="json")
    assert resp.status_code == 201


def test_no_self_links_and_no_duplicates(api, make_ci):
    a, b = make_ci(), make_ci()
    client = api("process_owner")
    resp = client.post(URL, {"source": a.pk, "kind": "depends_on", "target": a.pk}, format="json")
    assert resp.status_code == 400 and "itself" in resp.json()["target"][0]
    assert client.post(URL, {"source": a.pk, "kind": "depends_on", "target": b.pk}, format="json").status_code == 201
    resp = client.post(URL, {"source": a.pk, "kind": "depends_on", "target": b.pk}, format="json")
    assert resp.status_code == 400 and "already" in resp.json()["kind"][0]
    # Another kind between the same CIs is a different relationship.
    assert client.post(URL, {"source": a.pk, "kind": "uses", "target": b.pk}, format="json").status_code == 201


def test_database_refuses_self_links_and_duplicates(make_ci, as_admin):
    a, b = make_ci(), make_ci()
    with as_admin():
        with pytest.raises(IntegrityError), transaction.atomic():
            Relationship(source=a, kind="uses", target=a).save()
        Relationship(source=a, kind="uses", target=b).save()
        with pytest.raises(IntegrityError), transaction.atomic():
            Relationship(source=a, kind="uses", target=b).save()


def test_disposed_cis_get_no_new_relationships(api, make_ci):
    a, gone = make_ci(), make_ci(state="disposed")
    resp = api("process_owner").post(URL, {"source": a.pk, "kind": "uses", "target": gone.pk}, format="json")
    assert resp.status_code == 400 and "disposed" in resp.json()["target"][0]


def test_controlled_source_needs_a_reason(api, make_ci, controlled_type):
    fw, srv = make_ci(ci_type=controlled_type), make_ci()
    client = api("process_owner")
    data = {"source": fw.pk, "kind": "connected_to", "target": srv.pk}
    assert "change_reason" in client.post(URL, data, format="json").json()
    resp = client.post(URL, {**data, "change_reason": "New DMZ leg, CHG-9"}, format="json")
    assert resp.status_code == 201
    link = resp.json()["id"]
    assert client.delete(f"{URL}{link}/").status_code == 400
    assert client.delete(f"{URL}{link}/?change_reason=Decommissioned%20under%20CHG-10").status_code == 204
    with context.tenant_context(fw.tenant):
        reasons = [h.history_change_reason for h in Relationship.history.filter(id=link).order_by("history_date")]
    assert reasons == ["New DMZ leg, CHG-9", "Decommissioned under CHG-10"]


@pytest.mark.parametrize("role", ["agent", "auditor", "change_approver", "top_management"])
def test_read_only_roles_cannot_relate(api, role, make_ci, as_admin):
    a, b = make_ci(), make_ci()
    with as_admin():
        existing = Relationship.objects.create(source=a, kind="uses", target=b)
    client = api(role)
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"source": b.pk, "kind": "uses", "target": a.pk}, format="json").status_code == 403
    assert client.delete(f"{URL}{existing.pk}/").status_code == 403


def test_cannot_relate_to_another_tenants_ci(api, make_ci, personas, tenant_b):
    mine = make_ci()
    with context.tenant_context(tenant_b, personas["outsider_admin"]):
        theirs = ConfigurationItemFactory()
    resp = api("process_owner").post(URL, {"source": mine.pk, "kind": "uses", "target": theirs.pk}, format="json")
    assert resp.status_code == 400 and "target" in resp.json()
    resp = api("outsider_admin").post(URL, {"source": theirs.pk, "kind": "uses", "target": mine.pk}, format="json")
    assert resp.status_code == 400 and "target" in resp.json()
