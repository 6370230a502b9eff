"""CMDB audits and health (clause 9.1): data-quality checks, the audit workflow with
segregation of duties, verification of CIs, the planned activity, health endpoint."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sms.cmdb.auditing import ACTIVITY_KIND, scheduled_audit
from sms.cmdb.models import CMDBAudit, ConfigurationItem
from sms.cmdb.quality import run_checks
from sms.cmdb.services import set_service_links
from sms.core.models import PlannedActivity
from sms.core.registry import activity_kinds
from sms.tenancy import context
from tests.factories import (
    CITypeFactory,
    CMDBAuditFactory,
    ConfigurationItemFactory,
    RelationshipFactory,
    ServiceFactory,
)

AUDITS = "/api/v1/cmdb-audits/"
HEALTH = "/api/v1/cis/health/"


@pytest.fixture
def planted(as_admin, server_type, personas):
    """A CMDB with exactly one CI failing each rule, and healthy CIs around them."""
    owner = personas["process_owner"]
    with as_admin():
        db_type = CITypeFactory(name="Database", code="database")
        good_a = ConfigurationItemFactory(ci_type=server_type, owner=owner, title="good-a", serial_number="SN-1")
        good_b = ConfigurationItemFactory(ci_type=server_type, owner=owner, title="good-b")
        RelationshipFactory(source=good_a, target=good_b)
        in_service = ConfigurationItemFactory(ci_type=db_type, owner=owner, title="db-01")
        set_service_links(ServiceFactory(owner=owner), components=[in_service])
        cis = {
            "no_owner": ConfigurationItemFactory(ci_type=server_type, owner=None, title="no-owner"),
            "orphan": ConfigurationItemFactory(ci_type=db_type, owner=owner, title="lonely"),
            "stale": ConfigurationItemFactory(ci_type=server_type, owner=owner, title="old"),
            "dup_name": ConfigurationItemFactory(ci_type=server_type, owner=owner, title="GOOD-A"),
            "dup_serial": ConfigurationItemFactory(ci_type=db_type, owner=owner, title="db-02", serial_number="sn-1"),
            "bad_schema": ConfigurationItemFactory(ci_type=server_type, owner=owner, title="bad"),
            "disposed": ConfigurationItemFactory(ci_type=server_type, owner=None, title="gone", state="disposed"),
        }
        for name in ("no_owner", "stale", "dup_name", "bad_schema"):
            RelationshipFactory(source=cis[name], target=good_b)
        RelationshipFactory(source=cis["dup_serial"], target=in_service, kind="depends_on")
        ConfigurationItem.objects.filter(pk=cis["stale"].pk).update(
            created_at=timezone.now() - dt.timedelta(days=400)
        )
        # The attribute was valid when recorded; the type's schema changed afterwards.
        ConfigurationItem.objects.filter(pk=cis["bad_schema"].pk).update(attributes={"ram_gb": "lots"})
    cis.update(good_a=good_a, good_b=good_b, in_service=in_service, db_type=db_type)
    return cis


def refs(rows) -> set[str]:
    return {r["reference"] for r in rows}


def test_each_rule_finds_exactly_the_planted_cis(planted, tenant_a):
    with context.tenant_context(tenant_a):
        result = run_checks({}, stale_after_days=365)
    found = result["findings"]
    assert refs(found["without_owner"]) == {planted["no_owner"].reference}
    assert refs(found["orphans"]) == {planted["orphan"].reference}
    assert refs(found["stale"]) == {planted["stale"].reference}
    duplicates = [planted["good_a"].reference, planted["dup_name"].reference]
    assert [g["cis"] for g in found["duplicate_names"]] == [duplicates]
    assert [g["cis"] for g in found["duplicate_serials"]] == [
        [planted["good_a"].reference, planted["dup_serial"].reference]
    ]
    assert refs(found["schema_failures"]) == {planted["bad_schema"].reference}
    assert found["schema_failures"][0]["errors"] == {"ram_gb": ["Expected a whole number."]}
    server = next(r for r in result["by_type"] if r["code"] == "server")
    assert server["cis"] == 6  # the disposed CI is left out
    assert (server["without_owner"], server["stale"], server["duplicate_names"], server["schema_failures"]) == (
        1, 1, 2, 1,
    )
    assert result["totals"]["orphans"] == 1 and result["totals"]["duplicate_serials"] == 2


def test_checks_take_a_fixed_number_of_queries(planted, tenant_a, server_type):
    def count() -> int:
        with context.tenant_context(tenant_a), CaptureQueriesContext(connection) as ctx:
            run_checks({}, stale_after_days=365)
        return len(ctx.captured_queries)

    before = count()
    with context.tenant_context(tenant_a):
        for i in range(15):
            ci_type = CITypeFactory(name=f"Extra {i}", code=f"extra-{i}")
            ConfigurationItemFactory(ci_type=ci_type, owner=None, title="same")
            ConfigurationItemFactory(ci_type=server_type, owner=None, title=f"more-{i}", serial_number="X")
    assert count() == before


def test_scope_by_type_or_service(planted, tenant_a):
    with context.tenant_context(tenant_a):
        by_type = run_checks({"ci_types": [planted["db_type"].pk]})
        service = ServiceFactory()
        set_service_links(service, components=[planted["no_owner"]])
        by_service = run_checks({"services": [service.pk]})
    assert by_type["totals"]["cis"] == 3 and {r["code"] for r in by_type["by_type"]} == {"database"}
    assert by_service["totals"]["cis"] == 1 and refs(by_service["findings"]["without_owner"]) == {
        planted["no_owner"].reference
    }


# --- health ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["agent", "auditor", "top_management", "change_approver"])
def test_health_endpoint_is_readable_by_every_role(api, planted, role):
    resp = api(role).get(HEALTH)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["totals"]["without_owner"] == 1
    assert {r["code"] for r in body["by_type"]} >= {"server", "database"}


def test_health_validates_its_parameter_and_is_tenant_scoped(api, planted):
    assert api("agent").get(HEALTH, {"stale_after_days": "x"}).status_code == 400
    assert api("agent").get(HEALTH, {"stale_after_days": 0}).status_code == 400
    assert api("agent").get(HEALTH, {"stale_after_days": 10}).json()["totals"]["stale"] >= 1
    outsider = api("outsider").get(HEALTH).json()
    assert outsider["totals"]["cis"] == 0


def test_health_page(web, planted):
    resp = web("agent").get("/t/acme/cis/health/")
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "CMDB health" in page and "Server" in page and planted["orphan"].reference in page
    assert web("outsider").get("/t/acme/cis/health/").status_code == 404


# --- audit workflow ------------------------------------------------------------------------
def create(api, who="auditor", **extra):
    return api(who).post(AUDITS, {"title": "Half-yearly CMDB audit", **extra}, format="json")


def test_audit_lifecycle_with_verification(api, planted, personas, tenant_a):
    resp = create(api, auditor=personas["auditor"].pk, ci_types=[planted["db_type"].pk])
    assert resp.status_code == 201, resp.content
    audit = resp.json()
    assert audit["reference"].startswith("CMA-") and audit["state"] == "planned"
    assert audit["area_owner_detail"]["username"] == "acme-process_owner"
    base = f"{AUDITS}{audit['id']}/"
    # Nothing is verified before the audit starts.
    early = api("auditor").post(f"{base}verifications/", {"ci": planted["orphan"].pk, "result": "ok"}, format="json")
    assert early.status_code == 409
    started = api("auditor").post(f"{base}transitions/start/", {}, format="json")
    assert started.status_code == 200, started.content
    results = api("auditor").get(f"{base}results/").json()
    assert refs(results["findings"]["orphans"]) == {planted["orphan"].reference}

    client = api("auditor")
    resp = client.post(f"{base}verifications/", {"ci": planted["orphan"].pk, "result": "deficient"}, format="json")
    assert resp.status_code == 400 and "note" in resp.json()
    resp = client.post(f"{base}verifications/", {"ci": planted["no_owner"].pk, "result": "ok"}, format="json")
    assert resp.status_code == 400 and "ci" in resp.json()  # a server: not in this audit's scope
    resp = client.post(
        f"{base}verifications/",
        {"ci": planted["orphan"].pk, "result": "deficient", "note": "No longer used by anything."},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    with context.tenant_context(tenant_a):
        ci = ConfigurationItem.objects.get(pk=planted["orphan"].pk)
        assert ci.last_verified_by == personas["auditor"] and ci.last_verified_at is not None
        assert ci.history.first().history_change_reason.startswith("Verified in CMA-")

    blocked = client.post(f"{base}transitions/complete/", {}, format="json")
    assert blocked.status_code == 400 and "actions_taken" in blocked.json()
    patch = client.patch(
        base, {"deficiencies": "Orphan database.", "actions_taken": "Owner asked to retire it."}, format="json"
    )
    assert patch.status_code == 200, patch.content
    assert client.patch(base, {"stale_after_days": 30}, format="json").status_code == 400
    done = client.post(f"{base}transitions/complete/", {}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "completed"
    assert client.patch(base, {"actions_taken": "later"}, format="json").status_code == 400


def test_the_area_owner_cannot_be_the_auditor(api, planted, personas):
    resp = create(api, "admin", auditor=personas["process_owner"].pk)
    assert resp.status_code == 400 and "auditor" in resp.json()


def test_the_area_owner_cannot_start_or_complete_it(api, planted, personas, tenant_a):
    audit = create(api, "process_owner", auditor=personas["auditor"].pk).json()
    resp = api("process_owner").post(f"{AUDITS}{audit['id']}/transitions/start/", {}, format="json")
    assert resp.status_code == 403 and "Segregation" in resp.json()["detail"]
    names = {t["name"]: t["allowed"] for t in api("process_owner").get(f"{AUDITS}{audit['id']}/transitions/").json()}
    assert names["start"] is False
    assert api("auditor").post(f"{AUDITS}{audit['id']}/transitions/start/", {}, format="json").status_code == 200


def test_ownership_moving_to_the_auditor_blocks_the_start(api, planted, personas, tenant_a):
    audit = create(api, auditor=personas["auditor"].pk, ci_types=[planted["db_type"].pk]).json()
    with context.tenant_context(tenant_a):
        ConfigurationItem.objects.filter(ci_type=planted["db_type"]).update(owner=personas["auditor"])
    resp = api("auditor").post(f"{AUDITS}{audit['id']}/transitions/start/", {}, format="json")
    assert resp.status_code in (400, 403), resp.content


def test_an_audit_needs_an_auditor_to_start(api, planted):
    audit = create(api).json()
    resp = api("auditor").post(f"{AUDITS}{audit['id']}/transitions/start/", {}, format="json")
    assert resp.status_code == 400 and "auditor" in resp.json()


@pytest.mark.parametrize(("role", "allowed"), [("auditor", True), ("agent", False), ("change_approver", False)])
def test_who_may_create_audits(api, planted, role, allowed):
    assert (create(api, role).status_code == 201) is allowed


@pytest.mark.parametrize(
    "payload",
    [
        {"title": ""},
        {"title": "x", "stale_after_days": 0},
        {"title": "x", "ci_types": [999999]},
        {"title": "x", "services": ["abc"]},
        {"title": "x", "auditor": 999999},
    ],
)
def test_bad_audit_input_is_400(api, planted, payload):
    resp = api("auditor").post(AUDITS, payload, format="json")
    assert resp.status_code == 400, resp.content


def test_another_tenants_audit_and_scope_do_not_resolve(api, planted, personas, tenant_a):
    audit = create(api, auditor=personas["auditor"].pk).json()
    outsider = api("outsider_admin")
    assert outsider.get(f"{AUDITS}{audit['id']}/results/").status_code == 404
    assert outsider.get(f"{AUDITS}{audit['id']}/verifications/").status_code == 404
    resp = outsider.post(AUDITS, {"title": "x", "ci_types": [planted["db_type"].pk]}, format="json")
    assert resp.status_code == 400 and "ci_types" in resp.json()


def test_raise_an_improvement_linked_to_the_audit(api, planted, personas, tenant_a):
    audit = create(api, auditor=personas["auditor"].pk).json()
    base = f"{AUDITS}{audit['id']}/raise-improvement/"
    assert api("auditor").post(base, {"title": "x"}, format="json").status_code == 403
    assert api("process_owner").post(base, {"title": " "}, format="json").status_code == 400
    resp = api("process_owner").post(base, {"title": "Keep VM memory in step with the CMDB"}, format="json")
    assert resp.status_code == 201, resp.content
    links = api("auditor").get(f"{AUDITS}{audit['id']}/links/").json()["results"]
    assert [link["source"]["reference"] for link in links] == [resp.json()["reference"]]


# --- planned activity ------------------------------------------------------------------------
def test_activity_kind_opens_the_audit_with_checks(planted, tenant_a, personas, api):
    assert activity_kinds.get(ACTIVITY_KIND).handler is scheduled_audit
    with context.tenant_context(tenant_a, personas["admin"]):
        activity = PlannedActivity(
            kind=ACTIVITY_KIND, title="CMDB audit", owner=personas["process_owner"],
            next_due=timezone.localdate(), interval_count=6, interval_unit="months",
        )
        activity.save()
        assert scheduled_audit(activity) is False
        assert scheduled_audit(activity) is False  # idempotent per occurrence
        audit = CMDBAudit.objects.get()
        assert audit.activity == activity and audit.results["totals"]["orphans"] == 1
        due = activity.next_due
        audit.auditor = personas["auditor"]
        audit.save()
    client = api("auditor")
    assert client.post(f"{AUDITS}{audit.pk}/transitions/start/", {}, format="json").status_code == 200
    assert client.post(f"{AUDITS}{audit.pk}/transitions/complete/", {}, format="json").status_code == 200
    with context.tenant_context(tenant_a):
        activity.refresh_from_db()
        assert activity.next_due > due and activity.last_done_at is not None


def test_audit_pages(web, planted, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        audit = CMDBAuditFactory(auditor=personas["auditor"])
    assert "CMDB audits" in web("agent").get("/t/acme/cmdb-audits/").content.decode()
    page = web("auditor").get(f"/t/acme/cmdb-audits/{audit.pk}/")
    assert page.status_code == 200 and audit.reference in page.content.decode()
    resp = web("auditor").post(f"/t/acme/records/cmdbaudit/{audit.pk}/transitions/start/", {})
    assert resp.status_code == 302
    page = web("auditor").get(f"/t/acme/cmdb-audits/{audit.pk}/").content.decode()
    assert planted["orphan"].reference in page  # the automatic results are shown
    resp = web("auditor").post(
        f"/t/acme/cmdb-audits/{audit.pk}/verify/",
        {"ci": planted["orphan"].reference, "result": "deficient", "note": "Unused."},
    )
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        assert audit.verifications.get().ci == planted["orphan"]
    assert web("agent").post(f"/t/acme/cmdb-audits/{audit.pk}/verify/", {}).status_code == 403
    create = web("auditor").get("/t/acme/cmdb-audits/new/")
    assert create.status_code == 200
