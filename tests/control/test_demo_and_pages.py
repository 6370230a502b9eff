"""Demo data and browser pages of change management (clause 9.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from processes.control.demo import seed_demo
from processes.control.models import ApprovalRule, Change, ChangeApproval, StandardChangeTemplate
from sms.tenancy import context
from tests.factories import ConfigurationItemFactory, ServiceFactory
from tests.factories_control import approved_template, make_change


@pytest.fixture
def demo(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        for _ in range(4):
            ServiceFactory()
        for _ in range(3):
            ConfigurationItemFactory()
        seed_demo(tenant_a, personas)
    return tenant_a


def test_demo_has_every_type_and_stage_and_is_idempotent(demo, personas):
    with context.tenant_context(demo, personas["admin"]):
        states = set(Change.objects.values_list("state", flat=True))
        assert {
            "draft",
            "submitted",
            "assessment",
            "awaiting_approval",
            "approved",
            "scheduled",
            "implementing",
            "under_review",
            "closed",
            "rejected",
            "cancelled",
        } <= states
        assert set(Change.objects.values_list("change_type", flat=True)) == {"standard", "normal", "emergency"}
        assert Change.objects.filter(is_major=True).exists()
        # Major changes that went to their approvers did so with their service transition plan.
        from processes.control.models.changes import service_design_links

        for major in Change.objects.filter(is_major=True, approval_requested_at__isnull=False):
            assert service_design_links(major).exists(), major.reference
        # The failed change was investigated; a trend report waits with its conclusions.
        from processes.control.models import ChangeTrendReport
        from processes.control.models.changes import investigation_actions

        failed = Change.objects.get(outcome="backed_out")
        assert failed.investigation_findings and investigation_actions(failed).count() == 2
        assert ChangeTrendReport.objects.filter(activity__isnull=False).exclude(conclusions="").exists()
        # Nobody decided on a change they requested; every decision has its rationale.
        for row in ChangeApproval.objects.exclude(decision="pending").select_related("change"):
            assert row.approver_id not in (row.change.requester_id, row.change.created_by_id)
            assert row.rationale
        count = Change.objects.count()
        seed_demo(demo, personas)
        assert Change.objects.count() == count
        assert ApprovalRule.objects.count() == 5 and StandardChangeTemplate.objects.count() == 3


def test_pages_render(demo, web, personas):
    slug = demo.slug
    client = web("change_approver")
    for path in ("changes/", "changes/approvals/", "change-policy/", "changes/?state=approved&change_type=normal"):
        resp = client.get(f"/t/{slug}/{path}")
        assert resp.status_code == 200, path
    with context.tenant_context(demo):
        waiting = Change.objects.get(state="awaiting_approval")
    page = client.get(f"/t/{slug}/changes/{waiting.pk}/")
    assert page.status_code == 200
    assert b"peak sales weekend" in page.content  # the blackout its planned window overlaps
    assert b"Year-end freeze" in client.get(f"/t/{slug}/change-policy/").content
    # The process owner still has to decide on this one: the form is theirs, not the CAB member's.
    assert b"Your decision" not in page.content
    assert b"Your decision" in web("process_owner").get(f"/t/{slug}/changes/{waiting.pk}/").content
    inbox = web("process_owner").get(f"/t/{slug}/changes/approvals/")
    assert waiting.reference.encode() in inbox.content
    assert web("auditor").get(f"/t/{slug}/changes/new/").status_code == 403
    assert web("outsider").get(f"/t/{slug}/changes/").status_code == 404


def test_pages_offer_only_what_the_role_may_do(demo, web):
    """Links to forms a role would get a 403 from are not shown to it: starting a change
    from a template (change.create) and updating a CI the change still has to update."""
    slug = demo.slug
    policy = f"/t/{slug}/change-policy/"
    assert b"New change from it" in web("process_owner").get(policy).content
    for role in ("change_approver", "auditor", "top_management"):
        assert b"New change from it" not in web(role).get(policy).content, role
    # A change under review that still has a CI to update in the CMDB.
    with context.tenant_context(demo):
        change = Change.objects.filter(state="under_review").first()
        ci = ConfigurationItemFactory()
        Change.objects.filter(pk=change.pk).update(
            outcome="successful", implementation_started_at=timezone.now() + dt.timedelta(minutes=5)
        )
        change.cis.add(ci)
    page = f"/t/{slug}/changes/{change.pk}/"
    edit = f'href="/t/{slug}/cis/{ci.pk}/edit/"'.encode()
    assert b"CMDB not yet updated" in web("admin").get(page).content
    assert edit in web("admin").get(page).content
    agent_page = web("agent").get(page).content
    assert b"CMDB not yet updated" in agent_page and edit not in agent_page
    assert f'href="/t/{slug}/cis/{ci.pk}/"'.encode() in agent_page


def test_list_queries_do_not_grow(demo, web, django_assert_max_num_queries):
    client = web("admin")
    client.get(f"/t/{demo.slug}/changes/?page_size=5")
    with django_assert_max_num_queries(25) as few:
        client.get(f"/t/{demo.slug}/changes/?page_size=5")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/t/{demo.slug}/changes/?page_size=100")


def test_browser_create_submit_and_decide(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        service = ServiceFactory()
    slug = tenant_a.slug
    agent = web("agent")
    resp = agent.post(
        f"/t/{slug}/changes/new/",
        {
            "title": "Add disk to the file server",
            "description": "Nearly full.",
            "change_type": "normal",
            "service_action": "modify",
            "services": [service.pk],
            "risk_level": "medium",
            "implementation_plan": "Add the disk",
            "test_plan": "Check free space",
            "remediation_plan": "Remove it",
            **{
                f: "None"
                for f in (
                    "security_impact",
                    "continuity_impact",
                    "capacity_impact",
                    "cost_impact",
                    "release_impact",
                    "technical_feasibility",
                    "business_benefit",
                )
            },
            "owner": personas["agent"].pk,
            "risk_untested": "no",
            "risk_slow_back_out": "yes",
            "risk_failed_before": "yes",
            "risk_needs_outage": "no",
            "risk_many_users": "no",
            "risk_new_technology": "no",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    with context.tenant_context(tenant_a):
        change = Change.objects.get(title="Add disk to the file server")
        assert change.risk_level == "medium" and change.risk_answers["slow_back_out"] is True
        assert change.requester == personas["agent"] and list(change.services.all()) == [service]
    # Standard without a template: a field message, nothing saved.
    bad = agent.post(
        f"/t/{slug}/changes/new/",
        {
            "title": "x",
            "change_type": "standard",
            "service_action": "modify",
            "risk_level": "low",
            "owner": personas["agent"].pk,
        },
    )
    assert bad.status_code == 200 and b"standard change template" in bad.content
    tr = f"/t/{slug}/records/change/{change.pk}/transitions"
    assert agent.post(f"{tr}/submit/").status_code == 302
    cab = web("change_approver")
    cab.post(f"{tr}/start_assessment/")
    cab.post(f"{tr}/request_approval/")
    # The requester may not decide (403); the CAB member decides with a rationale.
    assert (
        agent.post(f"/t/{slug}/changes/{change.pk}/decide/", {"decision": "approved", "rationale": "x"}).status_code
        == 403
    )
    cab.post(f"/t/{slug}/changes/{change.pk}/decide/", {"decision": "approved", "rationale": ""})
    with context.tenant_context(tenant_a):
        assert Change.objects.get(pk=change.pk).state == "awaiting_approval"
    cab.post(f"/t/{slug}/changes/{change.pk}/decide/", {"decision": "approved", "rationale": "Fine"})
    with context.tenant_context(tenant_a):
        assert Change.objects.get(pk=change.pk).state == "approved"


def test_policy_page_sets_controlled_types_and_templates_are_preapproved(web, personas, tenant_a):
    from tests.factories import CITypeFactory
    from tests.factories_control import StandardChangeTemplateFactory

    with context.tenant_context(tenant_a, personas["process_owner"]):
        ci_type = CITypeFactory(under_change_control=False)
        template = StandardChangeTemplateFactory(created_by=personas["process_owner"])
    slug = tenant_a.slug
    assert web("auditor").post(f"/t/{slug}/change-policy/", {}).status_code == 403
    resp = web("process_owner").post(
        f"/t/{slug}/change-policy/",
        {
            "emergency_definition": "Down for customers.",
            "major_impact_criteria": "Critical services.",
            "controlled_ci_types": [ci_type.pk],
        },
    )
    assert resp.status_code == 302
    with context.tenant_context(tenant_a):
        ci_type.refresh_from_db()
        assert ci_type.under_change_control
    page = web("auditor").get(f"/t/{slug}/change-policy/")
    assert b"Down for customers." in page.content and ci_type.name.encode() in page.content
    approve = f"/t/{slug}/change-policy/templates/{template.pk}/approve/"
    assert web("process_owner").post(approve, {"rationale": "mine"}).status_code == 403
    web("change_approver").post(approve, {"rationale": "Routine and reversible"})
    with context.tenant_context(tenant_a):
        template.refresh_from_db()
        assert template.is_approved and template.approved_by == personas["change_approver"]
    rule = web("process_owner").post(
        f"/t/{slug}/change-policy/rules/new/",
        {
            "change_type": "normal",
            "risk_level": "high",
            "rule": "quorum",
            "quorum": "",
            "approver_role": "change_approver",
        },
    )
    assert rule.status_code == 200 and b"number of approvals" in rule.content
    rule = web("process_owner").post(
        f"/t/{slug}/change-policy/rules/new/",
        {
            "change_type": "normal",
            "risk_level": "high",
            "rule": "quorum",
            "quorum": "2",
            "approver_role": "change_approver",
        },
    )
    assert rule.status_code == 302
    blackout = f"/t/{slug}/change-policy/blackouts/new/"
    bad = web("process_owner").post(
        blackout, {"name": "Freeze", "starts_at": "2030-01-02T00:00", "ends_at": "2030-01-01T00:00"}
    )
    assert bad.status_code == 200 and b"ends after it starts" in bad.content
    assert web("auditor").post(blackout, {"name": "x"}).status_code == 403
    ok = web("process_owner").post(
        blackout, {"name": "Freeze", "starts_at": "2030-01-01T00:00", "ends_at": "2030-01-02T00:00"}
    )
    assert ok.status_code == 302
    assert b"Freeze" in web("auditor").get(f"/t/{slug}/change-policy/").content


def test_closed_change_form_edits_only_the_review(web, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        template = approved_template(personas)
        change = make_change(personas, change_type="standard", template=template)
    from sms.core.workflow import run_transition

    with context.tenant_context(tenant_a, personas["agent"]):
        run_transition(change, "submit", by=personas["agent"])
        run_transition(change, "accept_standard", by=personas["agent"])
    page = web("process_owner").get(f"/t/{tenant_a.slug}/changes/{change.pk}/edit/")
    assert page.status_code == 200
    web("process_owner").post(
        f"/t/{tenant_a.slug}/changes/{change.pk}/edit/",
        {
            "title": "Renamed",
            "review_notes": "Worked.",
            "change_reason": "Review",
        },
    )
    with context.tenant_context(tenant_a):
        change.refresh_from_db()
        assert change.title != "Renamed" and change.review_notes == "Worked."
