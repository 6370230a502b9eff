"""Factories of change management (processes.control, clause 9.2) and their entries in
``tests.factories.SAMPLE_OBJECTS`` (imported by tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from tests.factories import SAMPLE_OBJECTS, ServiceFactory

PLANS = {
    "implementation_plan": "1. Drain the node. 2. Apply the update. 3. Return it to the pool.",
    "test_plan": "Health checks green; smoke test of the login page.",
    "remediation_plan": "Restore the snapshot taken before step 2.",
    "security_impact": "None: no change to access or data flows.",
    "continuity_impact": "None: the standby is untouched.",
    "capacity_impact": "One node fewer for 20 minutes; peak load fits.",
    "cost_impact": "Staff time only.",
    "release_impact": "None.",
    "technical_feasibility": "Done the same way last quarter.",
    "business_benefit": "Closes known vulnerabilities.",
}


class StandardChangeTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "control.StandardChangeTemplate"

    name = factory.Sequence(lambda n: f"Patch a web server {n}")
    description = "Monthly operating system patches on one web server behind the load balancer."
    risk_level = "low"
    implementation_plan = PLANS["implementation_plan"]
    test_plan = PLANS["test_plan"]
    remediation_plan = PLANS["remediation_plan"]
    remediation_tested = True


def approved_template(people, **kwargs):
    template = StandardChangeTemplateFactory(**kwargs)
    template.approved_by = people["change_approver"]
    template.approved_at = timezone.now()
    template.approval_rationale = "Done monthly for two years without a failure."
    template.save()
    return template


def make_change(people, *, services=None, cis=None, by=None, **fields):
    """A request for change recorded through the service, with a service in scope."""
    from processes.control.models import Change
    from processes.control.services import save_change

    change = Change(title=fields.pop("title", "Upgrade the web tier"), **{**PLANS, **fields})
    return save_change(
        change,
        by=by or people["agent"],
        services=services if services is not None else [ServiceFactory()],
        cis=cis,
    )


def _change(people):
    from processes.control.services import open_approvals

    change = make_change(people, owner=people["process_owner"])
    # An approval row as well, so that the list's prefetches are exercised.
    from processes.control.models import ApprovalRule

    ApprovalRule.objects.get_or_create(
        change_type="normal", risk_level="medium", defaults={"rule": "any", "approver_role": "change_approver"}
    )
    open_approvals(change)
    change.save()
    return change


def _change_approval(people):
    return _change(people).approvals.first()


def _policy(people):
    from processes.control.services import policy

    return policy()


def _template(people):
    return approved_template(people)


def _rule(people):
    from processes.control.models import ApprovalRule

    rule = ApprovalRule.objects.filter(change_type="emergency").order_by("-id").first()
    risks = ["low", "medium", "high"]
    used = set(ApprovalRule.objects.values_list("change_type", "risk_level"))
    for change_type in ("emergency", "normal"):
        for risk in risks:
            if (change_type, risk) not in used:
                rule = ApprovalRule.objects.create(
                    change_type=change_type, risk_level=risk, rule="any", approver_role="change_approver"
                )
                rule.approvers.set([people["process_owner"]])
                return rule
    return rule


def _blackout(people):
    from processes.control.models import BlackoutWindow

    now = timezone.now()
    window = BlackoutWindow.objects.create(name="Freeze", starts_at=now, ends_at=now + dt.timedelta(days=1))
    window.services.set([ServiceFactory()])
    return window


def _register() -> None:
    from processes.control.models import (
        ApprovalRule,
        BlackoutWindow,
        Change,
        ChangeApproval,
        ChangePolicy,
        StandardChangeTemplate,
    )

    SAMPLE_OBJECTS.update(
        {
            Change: _change,
            ChangeApproval: _change_approval,
            ChangePolicy: _policy,
            StandardChangeTemplate: _template,
            ApprovalRule: _rule,
            BlackoutWindow: _blackout,
        }
    )


_register()


def approved_change(people, *, cis=(), services=None, **fields):
    """A normal request for change taken through assessment and approved by the change
    approver (call inside the tenant's context)."""
    from processes.control.services import decide
    from sms.core.workflow import run_transition

    if services is None:
        services = [] if cis else [ServiceFactory()]
    change = make_change(people, cis=list(cis), services=services, **fields)
    change = run_transition(change, "submit", by=people["agent"])
    change = run_transition(change, "start_assessment", by=people["change_approver"])
    change = run_transition(change, "request_approval", by=people["change_approver"])
    return decide(change, by=people["change_approver"], decision="approved", rationale="Plans complete")


def _trend_report(people):
    from processes.control.services_review import create_trend_report

    today = timezone.localdate()
    return create_trend_report(today - dt.timedelta(days=90), today, by=people["process_owner"])


def _register_review() -> None:
    from processes.control.models import ChangeTrendReport

    SAMPLE_OBJECTS[ChangeTrendReport] = _trend_report


_register_review()
