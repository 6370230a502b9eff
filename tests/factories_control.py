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


# --- release and deployment management (clause 9.3) ---------------------------------------------
RELEASE_PLANS = {
    "deliverables": "Web shop 4.2 container images; updated runbook.",
    "deployment_plan": "Blue-green: deploy to the idle colour, switch the load balancer, watch for 30 minutes.",
    "test_environment": "UAT-1",
    "rollback_plan": "Switch the load balancer back to the previous colour.",
    "rollback_tested": True,
}


def make_release(people, *, services=None, cis=None, changes=None, problems=None, known_errors=None, by=None,
                 criteria=(), **fields):
    """A release recorded through the service, with a CI in scope and the given
    acceptance criteria (descriptions)."""
    from processes.control.models import AcceptanceCriterion, Release
    from processes.control.services_releases import save_criterion, save_release
    from tests.factories import ConfigurationItemFactory

    fields.setdefault("planned_start", timezone.now() + dt.timedelta(days=3))
    release = Release(title=fields.pop("title", "Web shop 4.2"), **{**RELEASE_PLANS, **fields})
    release = save_release(
        release,
        by=by or people["process_owner"],
        services=services,
        cis=cis if cis is not None else [ConfigurationItemFactory()],
        changes=changes,
        problems=problems,
        known_errors=known_errors,
    )
    for i, text in enumerate(criteria, start=1):
        save_criterion(
            AcceptanceCriterion(release=release, position=i, description=text, agreed_with="Customer"),
            by=by or people["process_owner"],
        )
    return release


def release_in_test(people, **kwargs):
    """A release with two criteria, handed over to acceptance test (in the tenant's context)."""
    from sms.core.workflow import run_transition

    kwargs.setdefault("criteria", ("Checkout completes in under 3 seconds.", "No errors in the payment log."))
    release = make_release(people, **kwargs)
    release = run_transition(release, "start_build", by=people["process_owner"])
    return run_transition(release, "start_test", by=people["process_owner"])


def approved_release(people, **kwargs):
    """A release whose criteria all passed, approved by the change approver."""
    from processes.control.services_releases import record_result
    from sms.core.workflow import run_transition

    release = release_in_test(people, **kwargs)
    for criterion in release.criteria.all():
        record_result(criterion, by=people["agent"], result="passed", notes="Seen working.")
    release = run_transition(release, "request_approval", by=people["process_owner"])
    return run_transition(release, "approve", by=people["change_approver"], reason="Criteria met")


def _release(people):
    from processes.resolution.models import KnownError, Problem

    release = make_release(
        people,
        owner=people["process_owner"],
        services=[ServiceFactory()],
        criteria=("The shop answers.",),
        changes=[make_change(people)],
    )
    # Linked records too, so that the list's prefetches are exercised.
    problem = SAMPLE_OBJECTS[Problem](people)
    known_error = SAMPLE_OBJECTS[KnownError](people)
    release.problems.set([problem])
    release.known_errors.set([known_error])
    return release


def _criterion(people):
    return _release(people).criteria.first()


def _release_policy(people):
    from processes.control.models import ReleasePolicy

    return ReleasePolicy.objects.create(service=ServiceFactory(), frequency="Monthly, on the first Tuesday.")


def _register_releases() -> None:
    from processes.control.models import AcceptanceCriterion, Release, ReleasePolicy

    SAMPLE_OBJECTS.update({Release: _release, AcceptanceCriterion: _criterion, ReleasePolicy: _release_policy})


_register_releases()
