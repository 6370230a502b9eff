"""Business rules of change management (clause 9.2): the tenant's policy, saving a
request for change (its major-impact classification), standard change templates, and
the approval of requests for change by their approvers under the tenant's rules.

Views and the API call these; state changes go through ``sms.core.workflow``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sms.core.workflow import TransitionBlocked, TransitionForbidden, TransitionUnavailable, run_transition
from sms.tenancy.models import Membership
from sms.tenancy.roles import Role

from .choices import ALWAYS_MAJOR_ACTIONS, ApprovalRuleKind, ChangeState, ChangeType, Decision, ServiceAction
from .models import ApprovalRule, BlackoutWindow, Change, ChangeApproval, ChangePolicy, StandardChangeTemplate

# Without a rule for a change's type and risk: any one holder of this role decides.
DEFAULT_APPROVER_ROLE = Role.CHANGE_APPROVER


# --- policy --------------------------------------------------------------------------------------
def policy() -> ChangePolicy:
    """The current tenant's policy, created empty on first use."""
    obj = ChangePolicy.objects.first()
    if obj is None:
        with transaction.atomic():
            obj, _ = ChangePolicy.objects.get_or_create()
    return obj


def controlled_ci_types():
    from sms.cmdb.models import CIType

    return CIType.objects.filter(is_active=True).order_by("name")


@transaction.atomic
def set_controlled_ci_types(type_ids, *, by) -> list[str]:
    """Put exactly these CI types under change control (the CMDB's flag on each type);
    every type whose flag changes gets a history entry. Returns the changed names."""
    from sms.cmdb.models import CIType

    wanted = {int(pk) for pk in type_ids}
    changed = []
    for ci_type in CIType.objects.select_for_update().order_by("name"):
        flag = ci_type.pk in wanted
        if ci_type.under_change_control != flag:
            ci_type.under_change_control = flag
            ci_type._history_user = by
            ci_type.save(
                reason="Placed under change control by the change management policy"
                if flag
                else "Taken out of change control by the change management policy"
            )
            changed.append(ci_type.name)
    return changed


def major_impact_reasons(change: Change, pol: ChangePolicy | None = None) -> list[str]:
    """Why the change counts as one with potential major impact (empty: it does not)."""
    pol = pol or policy()
    reasons = []
    if change.service_action in ALWAYS_MAJOR_ACTIONS:
        reasons.append(f"It {ServiceAction(change.service_action).label.lower()}.")
    if change.pk is None:
        return reasons
    services = list(change.services.all())
    if pol.major_service_criticality:
        critical = [s for s in services if s.criticality and s.criticality <= pol.major_service_criticality]
        if critical:
            names = ", ".join(s.title for s in critical)
            reasons.append(
                f"It touches {names}, of criticality {pol.get_major_service_criticality_display()} or higher."
            )
    if pol.major_min_services and len(services) >= pol.major_min_services:
        reasons.append(f"It touches {len(services)} services (the policy's limit is {pol.major_min_services}).")
    return reasons


def refresh_major(change: Change) -> bool:
    """Recompute and store the major-impact flag after the scope or effect changed."""
    is_major = bool(major_impact_reasons(change))
    if is_major != change.is_major:
        Change.objects.filter(pk=change.pk).update(is_major=is_major)
        change.is_major = is_major
    return is_major


@transaction.atomic
def save_change(change: Change, *, by, services=None, cis=None, reason: str = "") -> Change:
    """Create or update a request for change with its scope. Standard changes take the
    plans of their template; the requester defaults to the person recording it; the
    request can only be edited while it has not gone to its approvers."""
    adding = change.pk is None
    if not adding:
        current = Change.objects.select_for_update().get(pk=change.pk)
        if not current.is_editable:
            raise ValidationError(
                {"detail": f"A change that is {current.get_state_display().lower()} can no longer be edited."}
            )
    if change.requester_id is None:
        change.requester = by
    if change.change_type == ChangeType.STANDARD and change.template_id is not None:
        template = change.template
        change.implementation_plan = change.implementation_plan or template.implementation_plan
        change.test_plan = change.test_plan or template.test_plan
        change.remediation_plan = change.remediation_plan or template.remediation_plan
        change.remediation_tested = change.remediation_tested or template.remediation_tested
        change.risk_level = template.risk_level
    change.full_clean(
        exclude=["tenant", "state", "number", "reference", "created_by", "updated_by", "owner", "requester"]
    )
    change._history_user = by
    change.save(reason=reason or ("Recorded" if adding else "Edited"))
    if services is not None:
        change.services.set(services)
    if cis is not None:
        change.cis.set(cis)
    refresh_major(change)
    return change


# --- standard change templates -------------------------------------------------------------------
@transaction.atomic
def approve_template(template: StandardChangeTemplate, *, by, rationale: str) -> StandardChangeTemplate:
    """Pre-approve a standard change template (someone other than its author)."""
    template = StandardChangeTemplate.objects.select_for_update().get(pk=template.pk)
    if not (rationale or "").strip():
        raise ValidationError({"rationale": "Say why this change may be made without further approval."})
    if template.created_by_id == by.pk:
        raise TransitionForbidden("You wrote this template; someone else must pre-approve it.")
    if template.is_approved:
        raise TransitionUnavailable("This template is already approved.")
    template.approved_by = by
    template.approved_at = timezone.now()
    template.approval_rationale = rationale.strip()
    template._history_user = by
    template.save(reason=f"Pre-approved: {rationale.strip()}")
    return template


# --- approval ------------------------------------------------------------------------------------
def rule_for(change: Change) -> ApprovalRule | None:
    return (
        ApprovalRule.objects.filter(change_type=change.change_type, risk_level=change.risk_level)
        .prefetch_related("approvers")
        .first()
    )


def approver_ids(change: Change, rule: ApprovalRule | None) -> list[int]:
    """Who is asked: the rule's role holders and named people (the default: holders of
    the change approver role), never the requester or whoever recorded the change."""
    role = rule.approver_role if rule is not None else DEFAULT_APPROVER_ROLE
    ids: set[int] = set()
    if role:
        ids.update(Membership.objects.active().filter(roles__contains=[role]).values_list("user_id", flat=True))
    if rule is not None:
        ids.update(u.pk for u in rule.approvers.all())
    ids.discard(change.requester_id)
    ids.discard(change.created_by_id)
    members = set(Membership.objects.active().filter(user_id__in=ids).values_list("user_id", flat=True))
    return sorted(ids & members)


def needed_approvals(rule_kind: str, quorum: int | None, asked: int) -> int:
    if rule_kind == ApprovalRuleKind.ALL:
        return asked
    if rule_kind == ApprovalRuleKind.QUORUM:
        return quorum or 1
    return 1


@dataclass
class ApprovalStatus:
    rule: str  # ApprovalRuleKind
    needed: int
    asked: int
    approved: int
    rejected: int
    pending_ids: list[int] = field(default_factory=list)

    @property
    def satisfied(self) -> bool:
        return self.rejected == 0 and self.asked > 0 and self.approved >= self.needed

    @property
    def summary(self) -> str:
        if self.rejected:
            return "Rejected by an approver."
        return (
            f"{self.approved} of {self.needed} approval{'s' if self.needed != 1 else ''} needed ({self.asked} asked)."
        )


def approval_status(change: Change) -> ApprovalStatus:
    """Counts of the change's decisions against the rule frozen when approval was asked."""
    rows = list(change.approvals.all())
    approved = sum(1 for r in rows if r.decision == Decision.APPROVED)
    rejected = sum(1 for r in rows if r.decision == Decision.REJECTED)
    pending = [r.approver_id for r in rows if r.decision == Decision.PENDING]
    return ApprovalStatus(
        rule=change.approval_rule or ApprovalRuleKind.ANY,
        needed=needed_approvals(change.approval_rule, change.approval_quorum, len(rows)),
        asked=len(rows),
        approved=approved,
        rejected=rejected,
        pending_ids=pending,
    )


def open_approvals(change: Change) -> None:
    """Called by the request-approval transitions (inside their row lock): freeze the
    rule that applies and ask its approvers. Refuses, leaving the change as it was, when
    nobody could approve or a quorum cannot be reached."""
    rule = rule_for(change)
    ids = approver_ids(change, rule)
    kind = rule.rule if rule is not None else ApprovalRuleKind.ANY
    quorum = rule.quorum if rule is not None else None
    if not ids:
        raise TransitionBlocked(
            "Nobody can approve this change: the approval rule for its type and risk names no approver other "
            "than its requester. Add approvers to the rule first."
        )
    if kind == ApprovalRuleKind.QUORUM and (quorum or 1) > len(ids):
        raise TransitionBlocked(
            f"The rule needs {quorum} approvals but only {len(ids)} approvers can be asked; change the rule first."
        )
    change.approval_rule = kind
    change.approval_quorum = quorum
    change.approval_requested_at = timezone.now()
    change.approvals.all().delete()
    ChangeApproval.objects.bulk_create(
        [ChangeApproval(tenant_id=change.tenant_id, change=change, approver_id=pk) for pk in ids]
    )


@transaction.atomic
def decide(change: Change, *, by, decision: str, rationale: str) -> Change:
    """Record ``by``'s decision on ``change`` with its rationale, then approve the change
    when its rule is met, or reject it on the first rejection.

    The change's row is locked first, so two approvers deciding at the same moment queue:
    the second sees the first's decision, and each is counted exactly once (the approver's
    row is unique per change). Any refusal raises before anything is written."""
    rationale = (rationale or "").strip()
    if decision not in (Decision.APPROVED, Decision.REJECTED):
        raise ValidationError({"decision": "Decide approved or rejected."})
    if not rationale:
        raise ValidationError({"rationale": "Give the reason for your decision."})
    locked = Change.objects.select_for_update().get(pk=change.pk)
    if locked.requester_id == by.pk or locked.created_by_id == by.pk:
        raise TransitionForbidden("You requested this change; someone else must approve or reject it.")
    membership = Membership.objects.active().filter(user=by).first()
    if membership is None or not membership.can("change.approve"):
        raise TransitionForbidden("Your role in this tenant does not allow this (change.approve).")
    if locked.state != ChangeState.AWAITING_APPROVAL:
        raise TransitionUnavailable(
            f"{locked.reference} is {locked.get_state_display().lower()}, not awaiting approval."
        )
    row = ChangeApproval.objects.select_for_update().filter(change=locked, approver=by).first()
    if row is None:
        raise TransitionForbidden(f"You are not among the approvers asked for {locked.reference}.")
    if row.decision != Decision.PENDING:
        raise TransitionUnavailable(f"You have already decided on {locked.reference}.")
    row.decision = decision
    row.rationale = rationale
    row.decided_at = timezone.now()
    row._history_user = by
    row.save(reason=f"{Decision(decision).label}: {rationale}")
    if decision == Decision.REJECTED:
        return run_transition(locked, "reject", by=by, reason=rationale)
    if approval_status(locked).satisfied:
        return run_transition(locked, "approve", by=by, reason=rationale)
    return locked


# --- impact --------------------------------------------------------------------------------------
IMPACT_LIMIT = 500


def change_impact(change: Change, limit: int = IMPACT_LIMIT) -> dict:
    """What the change may affect, from the CMDB's impact analysis: the services in its
    scope and those depending on its CIs, their customers, and the other CIs depending
    on its CIs (nearest first, at most ``limit`` per CI)."""
    from sms.cmdb.models import Service
    from sms.cmdb.services import impact
    from sms.parties.models import Party

    scope_cis = list(change.cis.select_related("ci_type"))
    service_ids = {s.pk for s in change.services.all()}
    other_cis: dict[int, dict] = {}
    truncated = False
    scope_ids = {c.pk for c in scope_cis}
    for ci in scope_cis:
        result = impact(ci, "down", limit=limit)
        truncated = truncated or result.truncated
        for node in result.nodes:
            if node.kind == "service":
                service_ids.add(node.id)
            elif node.id not in scope_ids:
                other_cis.setdefault(node.id, {"id": node.id, "reference": node.reference, "title": node.title})
    services_ = list(Service.objects.filter(pk__in=service_ids).order_by("title"))
    customers = list(Party.objects.filter(services__in=service_ids).distinct().order_by("name"))
    return {
        "services": [{"id": s.pk, "reference": s.reference, "title": s.title} for s in services_],
        "customers": [{"id": p.pk, "name": p.name} for p in customers],
        "cis": sorted(other_cis.values(), key=lambda c: c["reference"]),
        "truncated": truncated,
        "limit": limit,
    }


# --- conflicts in the schedule --------------------------------------------------------------------
# Changes that hold (or may soon hold) a place in the schedule of change.
SCHEDULED_STATES = (
    ChangeState.SUBMITTED,
    ChangeState.ASSESSMENT,
    ChangeState.AWAITING_APPROVAL,
    ChangeState.APPROVED,
    ChangeState.SCHEDULED,
    ChangeState.IMPLEMENTING,
)


def conflicts(change: Change) -> list[dict]:
    """Other changes whose planned windows overlap this one's and that touch the same
    service, the same CI, or a CI directly related to one of its CIs (its parents or
    children in the CMDB), each with what they share. One query finds them, from the
    change's scope (see ``schedule.conflicts_for``)."""
    from .schedule import conflicts_for

    return conflicts_for(change)


# --- blackout windows ---------------------------------------------------------------------------
def blackouts_for(change: Change, start, end) -> list[BlackoutWindow]:
    """Blackout windows overlapping [start, end] that apply to the change: those for every
    service, and those naming one of the change's services."""
    if start is None or end is None:
        return []
    service_ids = [s.pk for s in change.services.all()]
    rows = (
        BlackoutWindow.objects.filter(starts_at__lt=end, ends_at__gt=start)
        .prefetch_related("services")
        .order_by("starts_at", "id")
    )
    result = []
    for window in rows:
        names = {s.pk for s in window.services.all()}
        if not names or names.intersection(service_ids):
            result.append(window)
    return result


# --- deployment gate -----------------------------------------------------------------------------
GATE_STATES = (ChangeState.APPROVED, ChangeState.SCHEDULED, ChangeState.IMPLEMENTING)


@dataclass
class GateAnswer:
    allowed: bool
    reasons: list[str]


def gate(change: Change, *, now=None) -> GateAnswer:
    """May a deployment under ``change`` go ahead now? Yes when the change is approved
    (or scheduled, or being implemented), now is inside its planned window, and no
    blackout window that applies to it is running. An approved emergency change without
    a window may go ahead at once (it is reviewed afterwards), blackouts permitting. The
    reasons say what is missing."""
    now = now or timezone.now()
    reasons = []
    if change.state not in GATE_STATES:
        reasons.append(f"{change.reference} is {change.get_state_display().lower()}, not approved.")
    emergency_now = change.change_type == ChangeType.EMERGENCY and change.planned_start is None
    if not emergency_now:
        if change.planned_start is None or change.planned_end is None:
            reasons.append(f"{change.reference} has no planned window.")
        elif now < change.planned_start:
            reasons.append(f"The window of {change.reference} opens at {change.planned_start.isoformat()}.")
        elif now > change.planned_end:
            reasons.append(f"The window of {change.reference} closed at {change.planned_end.isoformat()}.")
    for window in blackouts_for(change, now, now + dt.timedelta(seconds=1)):
        reasons.append(f"Blackout {window.name} runs until {window.ends_at.isoformat()}.")
    return GateAnswer(allowed=not reasons, reasons=reasons)


# --- the CMDB's change-control hook ----------------------------------------------------------------
CI_EDIT_STATES = (ChangeState.APPROVED, ChangeState.IMPLEMENTING)


def check_ci_change_reference(ci, reference: str) -> list[str]:
    """Registered with the CMDB (``sms.cmdb.hooks``): a CI of a controlled type is changed
    only under a request for change of this tenant that is approved or being
    implemented, and whose scope covers the CI (it names the CI, or a service the CI is a
    component of). A CI being registered needs only the state."""
    change = Change.objects.filter(reference__iexact=reference.strip()).prefetch_related("cis", "services").first()
    if change is None:
        return [f"There is no request for change {reference} in this tenant."]
    if change.state not in CI_EDIT_STATES:
        return [
            f"{change.reference} is {change.get_state_display().lower()}: controlled CIs are changed only under an "
            "approved change or one being implemented."
        ]
    if getattr(ci, "pk", None) is None:
        return []
    if any(c.pk == ci.pk for c in change.cis.all()):
        return []
    service_ids = {s.pk for s in change.services.all()}
    if service_ids and ci.services.filter(pk__in=service_ids).exists():
        return []
    return [f"{ci.reference} is not in the scope of {change.reference}: add it to the change first."]


def awaiting_my_decision(user):
    """Changes waiting for ``user``'s decision (the approvals inbox)."""
    return (
        Change.objects.filter(
            state=ChangeState.AWAITING_APPROVAL,
            approvals__approver=user,
            approvals__decision=Decision.PENDING,
        )
        .select_related("requester")
        .order_by("planned_start", "number")
    )
