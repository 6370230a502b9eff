"""CSV import and export of CIs and relationships (clause 9.1): dry run reporting every
row error, all-or-nothing real runs with history, change control, tenant scoping,
permissions, export honouring the filters, round trip."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sms.cmdb.models import ConfigurationItem, Relationship
from sms.tenancy import context
from tests.factories import ConfigurationItemFactory, RelationshipFactory

CI_IMPORT = "/api/v1/cis/import/"
REL_IMPORT = "/api/v1/relationships/import/"
HEADER = "reference,type,title,owner,status,location,asset_tag,attributes,change_reason,change_reference\n"


def upload(text: str, name: str = "cis.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def post(client, url, text, name="cis.csv", dry_run=None):
    data = {"file": upload(text, name)}
    if dry_run is not None:
        data["dry_run"] = dry_run
    return client.post(url, data, format="multipart")


def rows_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def count(tenant) -> int:
    with context.tenant_context(tenant):
        return ConfigurationItem.objects.count()


def test_dry_run_reports_every_bad_row_and_writes_nothing(api, server_type, tenant_a, tenant_b, personas, make_ci):
    existing = make_ci(title="web-01", asset_tag="AT-1")
    with context.tenant_context(tenant_b):  # references are per tenant: CI-3 exists only in B
        foreign = [ConfigurationItemFactory(title=f"globex-{i}") for i in range(3)][-1]
    text = HEADER + "\n".join([
        ',server,good-01,acme-agent,live,DC1,,"{""ram_gb"": 8}",,',       # 2: fine
        ",nosuchtype,x,,,,,,,",                                             # 3: unknown type
        ',server,x,nobody,,,,"{""ram_gb"": 8}",,',                          # 4: owner not a member
        ',server,x,,,,,"{""ram_gb"": ""lots""}",,',                         # 5: attribute fails the schema
        ',server,x,,,,,not json,,',                                         # 6: attributes not JSON
        ',server,x,,,,,"{""ram_gb"": 8}",,',                             # 7: fine
        f'{foreign.reference},server,x,,,,,"{{""ram_gb"": 8}}",,',          # 8: another tenant's reference
        ',server,,,,,,"{""ram_gb"": 8}",,',                                 # 9: no title
        ',server,x,,disposed,,,"{""ram_gb"": 8}",,',                        # 10: bad initial status
        ',server,x,,,,AT-1,"{""ram_gb"": 8}",,',                            # 11: asset tag taken
        f'{existing.reference},server,web-01,,retired,,AT-1,"{{""ram_gb"": 16}}",,',  # 12: status via transitions
    ]) + "\n"
    before = count(tenant_a)
    resp = post(api("process_owner"), CI_IMPORT, text)
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["dry_run"] is True and body["valid"] is False and body["written"] is False
    errors = {(e["row"], e["column"]) for e in body["errors"]}
    assert errors == {
        (3, "type"), (4, "owner"), (5, "attributes"), (6, "attributes"), (8, "reference"), (9, "title"),
        (10, "status"), (11, "asset_tag"), (12, "status"), (12, "asset_tag"),
    }
    assert any("ram_gb: Expected a whole number." in e["message"] for e in body["errors"])
    assert count(tenant_a) == before


def test_real_run_creates_and_updates_with_history(api, server_type, tenant_a, make_ci):
    ci = make_ci(title="web-01", version="1.0")
    text = HEADER + ',server,new-01,acme-agent,live,DC2,AT-9,"{""ram_gb"": 8}",,\n'
    text += f'{ci.reference},server,web-01 renamed,,,DC3,,"{{""ram_gb"": 64}}",,\n'
    dry = post(api("process_owner"), CI_IMPORT, text)
    assert dry.status_code == 200 and dry.json()["created"] == 1 and dry.json()["updated"] == 1
    assert count(tenant_a) == 1
    resp = post(api("process_owner"), CI_IMPORT, text, dry_run="false")
    assert resp.status_code == 200, resp.content
    assert resp.json()["written"] is True
    with context.tenant_context(tenant_a):
        created = ConfigurationItem.objects.get(title="new-01")
        assert created.owner.username == "acme-agent" and created.state == "live" and created.asset_tag == "AT-9"
        assert created.history.first().history_change_reason == "Imported from cis.csv"
        ci.refresh_from_db()
        assert (ci.title, ci.location, ci.attributes) == ("web-01 renamed", "DC3", {"ram_gb": 64})
        assert ci.history.first().history_change_reason == "Imported from cis.csv"
        assert ci.history.first().history_user.username == "acme-process_owner"


def test_real_run_is_all_or_nothing(api, server_type, tenant_a):
    text = HEADER + ',server,ok-01,,,,,"{""ram_gb"": 8}",,\n,server,bad,,,,,"{""ram_gb"": ""x""}",,\n'
    resp = post(api("process_owner"), CI_IMPORT, text, dry_run="false")
    assert resp.status_code == 400 and resp.json()["written"] is False
    assert count(tenant_a) == 0


def test_change_control_needs_reason_and_rfc(api, controlled_type, tenant_a, personas):
    from tests.factories_control import approved_change

    with context.tenant_context(tenant_a, personas["agent"]):
        rfc = approved_change(personas)
    header = "type,title,attributes,change_reason,change_reference\n"
    bad = post(api("process_owner"), CI_IMPORT, header + 'firewall,fw-01,"{""ram_gb"": 4}",,\n', dry_run="false")
    assert bad.status_code == 400
    assert {e["column"] for e in bad.json()["errors"]} == {"change_reason", "change_reference"}
    unknown = post(
        api("process_owner"), CI_IMPORT, header + 'firewall,fw-01,"{""ram_gb"": 4}",New edge firewall,CHG-12\n',
        dry_run="false",
    )
    assert unknown.status_code == 400 and "no request for change" in unknown.json()["errors"][0]["message"]
    good = post(
        api("process_owner"),
        CI_IMPORT,
        header + f'firewall,fw-01,"{{""ram_gb"": 4}}",New edge firewall,{rfc.reference}\n',
        dry_run="false",
    )
    assert good.status_code == 200, good.content
    with context.tenant_context(tenant_a):
        fw = ConfigurationItem.objects.get(title="fw-01")
        assert fw.last_change_reference == rfc.reference
        assert (
            fw.history.first().history_change_reason
            == f"Imported from cis.csv: New edge firewall (under {rfc.reference})"
        )


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("title\nx\n", ""),
        ("type,title,colour\nserver,x,red\n", ""),
    ],
)
def test_unreadable_files_are_400(api, server_type, text, column):
    resp = post(api("process_owner"), CI_IMPORT, text)
    assert resp.status_code == 400 and resp.json()["errors"][0]["row"] == 1


def test_bad_request_parameters(api, server_type):
    assert api("process_owner").post(CI_IMPORT, {}, format="multipart").status_code == 400
    assert post(api("process_owner"), CI_IMPORT, "").status_code == 400
    resp = post(api("process_owner"), CI_IMPORT, "type,title\n", dry_run="maybe")
    assert resp.status_code == 400 and "dry_run" in resp.json()
    latin = SimpleUploadedFile("x.csv", "type,title\nserver,caf\xe9\n".encode("latin-1"))
    assert api("process_owner").post(CI_IMPORT, {"file": latin}, format="multipart").status_code == 400


@pytest.mark.parametrize(("role", "status"), [("auditor", 403), ("agent", 403), ("change_approver", 403)])
def test_only_cmdb_writers_import(api, server_type, role, status):
    assert post(api(role), CI_IMPORT, "type,title\n").status_code == status
    assert post(api(role), REL_IMPORT, "source,kind,target\n").status_code == status


def test_export_round_trips_through_import(api, make_ci, tenant_a, personas):
    a = make_ci(title="app-01", owner=personas["agent"], asset_tag="AT-5", attributes={"ram_gb": 8, "os": "Linux"})
    b = make_ci(title="app-02")
    with context.tenant_context(tenant_a):
        RelationshipFactory(source=a, target=b, kind="runs_on")
    resp = api("agent").get("/api/v1/cis/export/")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = rows_of(resp)
    assert [r["reference"] for r in rows] == [a.reference, b.reference]
    assert rows[0]["owner"] == "acme-agent" and json.loads(rows[0]["attributes"]) == {"os": "Linux", "ram_gb": 8}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    same = post(api("process_owner"), CI_IMPORT, out.getvalue())
    assert same.status_code == 200 and same.json()["unchanged"] == 2, same.content
    rows[1]["version"] = "2.0"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    changed = post(api("process_owner"), CI_IMPORT, out.getvalue(), dry_run="false")
    assert changed.json()["updated"] == 1 and changed.json()["unchanged"] == 1
    rel_csv = b"".join(api("agent").get("/api/v1/relationships/export/").streaming_content).decode()
    assert f"{a.reference},runs_on,{b.reference}" in rel_csv
    again = post(api("process_owner"), REL_IMPORT, rel_csv, "rels.csv")
    assert again.status_code == 200 and again.json()["unchanged"] == 1


def test_export_is_tenant_scoped_and_filtered(api, make_ci, server_type, tenant_b):
    make_ci(title="live-01", state="live")
    make_ci(title="planned-01", state="planned")
    with context.tenant_context(tenant_b):
        ConfigurationItemFactory(title="globex-01")
    titles = [r["title"] for r in rows_of(api("agent").get("/api/v1/cis/export/", {"state": "live"}))]
    assert titles == ["live-01"]
    assert [r["title"] for r in rows_of(api("outsider").get("/api/v1/cis/export/"))] == ["globex-01"]
    assert api("agent").get("/api/v1/cis/export/", {"state": "nonsense"}).status_code == 400


def test_relationship_import(api, make_ci, tenant_a, tenant_b):
    a, b = make_ci(title="a"), make_ci(title="b")
    with context.tenant_context(tenant_b):
        foreign = ConfigurationItemFactory()
    text = "source,kind,target,note\n" + "\n".join([
        f"{a.reference},depends_on,{b.reference},needed",   # 2 fine
        f"{a.reference},depends_on,{b.reference},again",    # 3 duplicate of row 2
        f"{a.reference},likes,{b.reference},",              # 4 unknown kind
        f"{a.reference},uses,{a.reference},",               # 5 self link
        f"{a.reference},uses,{foreign.reference},",         # 6 another tenant's CI
        f"CI-999999,uses,{b.reference},",                   # 7 unknown
    ]) + "\n"
    resp = post(api("process_owner"), REL_IMPORT, text, "rels.csv", dry_run="false")
    assert resp.status_code == 400
    assert {(e["row"], e["column"]) for e in resp.json()["errors"]} == {
        (3, ""), (4, "kind"), (5, "target"), (6, "target"), (7, "source"),
    }
    with context.tenant_context(tenant_a):
        assert not Relationship.objects.exists()
    ok = post(api("process_owner"), REL_IMPORT, text.split("\n")[0] + "\n" + text.split("\n")[1] + "\n", "rels.csv",
              dry_run="false")
    assert ok.status_code == 200 and ok.json()["created"] == 1
    with context.tenant_context(tenant_a):
        rel = Relationship.objects.get()
        assert rel.history.first().history_change_reason == "Imported from rels.csv"


# --- browser ------------------------------------------------------------------------------------
def test_browser_import_dry_run_then_for_real(web, server_type, tenant_a):
    page = web("process_owner").get("/t/acme/cis/import/")
    assert page.status_code == 200
    text = 'type,title,attributes\nserver,x,"{""ram_gb"": ""no""}"\n'
    bad = web("process_owner").post("/t/acme/cis/import/", {"kind": "cis", "file": upload(text)})
    assert bad.status_code == 400 and "Expected a whole number" in bad.content.decode()
    good = web("process_owner").post(
        "/t/acme/cis/import/", {"kind": "cis", "file": upload('type,title,attributes\nserver,x,"{""ram_gb"": 2}"\n')}
    )
    assert good.status_code == 200 and "Run for real" in good.content.decode()
    assert count(tenant_a) == 0
    token = good.context["token"]
    done = web("process_owner").post("/t/acme/cis/import/", {"token": token})
    assert done.status_code == 200 and count(tenant_a) == 1
    assert web("process_owner").post("/t/acme/cis/import/", {"token": token + "x"}).status_code == 400
    assert web("auditor").get("/t/acme/cis/import/").status_code == 403
    assert web("agent").post("/t/acme/cis/import/", {"token": token}).status_code == 403


def test_browser_export_honours_the_list_filters(web, make_ci):
    make_ci(title="live-01", state="live")
    make_ci(title="planned-01", state="planned")
    listing = web("agent").get("/t/acme/cis/?state=live").content.decode()
    assert "/t/acme/cis/export/?state=live" in listing
    resp = web("agent").get("/t/acme/cis/export/?state=live")
    assert [r["title"] for r in rows_of(resp)] == ["live-01"]
    rels = web("agent").get("/t/acme/cis/export/relationships/?state=live")
    assert rels.status_code == 200 and rows_of(rels) == []
    assert web("outsider").get("/t/acme/cis/export/").status_code == 404
