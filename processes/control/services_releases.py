"""Business rules of release and deployment management (clause 9.3): the release
policy that applies to a release, saving releases and their acceptance criteria,
recording test results, the baseline taken when deployment starts, moving on the known
errors and problems a successful release fixes, the incidents that followed a
release, and the release calendar.

Views and the API call these; state changes go through ``sms.core.workflow``."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, Exists, F, Func, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from sms.core.workflow import TransitionBlocked, WorkflowError, run_transition

from .models import AcceptanceCriterion, Change, Release, ReleasePolicy
from .models.releases import DEFAULT_INCIDENT_WINDOW_DAYS
from .release_choices import (
    RELEASE_EDITABLE_STATES,
    RELEASE_UPCOMING_STATES,
    CriterionResult,
    ReleaseState,
    ReleaseType,
)


# --- policy --------------------------------------------------------------------------------------
def tenant_policy() -> ReleasePolicy | None:
    """The tenant-wide release policy, if one is agreed."""
    return ReleasePolicy.objects.filter(service__isnull=True).first()


def policies_for(release: Release) -> list[ReleasePolicy]:
    """The policies that apply to the release: each of its services' own policy, or the
    tenant-wide one for services without their own (and for a release without services)."""
    service_ids = [s.pk for s in release.services.all()] if release.pk else []
    rows = list(ReleasePolicy.objects.filter(Q(service__isnull=True) | Q(service_id__in=service_ids)))
    default = next((p for p in rows if p.service_id is None), None)
    own = {p.service_id: p for p in rows if p.service_id is not None}
    result = [own[pk] for pk in service_ids if pk in own]
    if default is not None and (not service_ids or any(pk not in own for pk in service_ids)):
        result.append(default)
    return result


def release_type_errors(release: Release, policies: list[ReleasePolicy] | None = None) -> list[str]:
    """Why the release's type is not one the applicable policies agree (empty: it is)."""
    policies = policies_for(release) if policies is None else policies
    return [
        f"{policy} does not allow {ReleaseType(release.release_type).label.lower()} releases "
        f"(only {', '.join(ReleaseType(t).label.lower() for t in policy.release_types)})."
        for policy in policies
        if release.release_type not in policy.release_types
    ]


def check_release_type(release: Release) -> None:
    """Called by the transitions that commit to the release: refuses a type the policy
    does not allow (the policy may have changed since the release was recorded)."""
    errors = release_type_errors(release)
    if errors:
        raise TransitionBlocked(" ".join(errors), field_errors={"release_type": errors})


def incident_window_for(release: Release) -> int:
    """Days after deployment in which incidents count against the release: the longest
    period of the policies that apply to it (the default without a policy)."""
    days = [p.incident_window_days for p in policies_for(release)]
    return max(days) if days else DEFAULT_INCIDENT_WINDOW_DAYS


@transaction.atomic
def save_policy(policy: ReleasePolicy, *, by, reason: str = "") -> ReleasePolicy:
    adding = policy.pk is None
    policy.full_clean(exclude=["tenant", "created_by", "updated_by"])
    policy._history_user = by
    policy.save(reason=reason or ("Agreed" if adding else "Edited"))
    return policy


# --- releases ------------------------------------------------------------------------------------
RELATIONS = ("services", "cis", "changes", "problems", "known_errors")


@transaction.atomic
def save_release(release: Release, *, by, reason: str = "", **relations) -> Release:
    """Create or update a release with its scope and the records it implements or
    closes. The manager defaults to the person recording it; the release is edited only
    until it goes to its approvers; its type must be one the release policy allows."""
    adding = release.pk is None
    unknown = set(relations) - set(RELATIONS)
    if unknown:
        raise TypeError(f"Unknown relations: {', '.join(sorted(unknown))}")
    if not adding:
        current = Release.objects.select_for_update().get(pk=release.pk)
        if not current.is_editable:
            raise ValidationError(
                {"detail": f"A release that is {current.get_state_display().lower()} can no longer be edited."}
            )
    if release.release_manager_id is None:
        release.release_manager = by
    release.full_clean(
        exclude=["tenant", "state", "number", "reference", "created_by", "updated_by", "owner", "release_manager"]
    )
    errors = _finished_records_added(release, relations)
    if errors:
        raise ValidationError(errors)
    release._history_user = by
    release.save(reason=reason or ("Planned" if adding else "Edited"))
    for name, rows in relations.items():
        if rows is not None:
            getattr(release, name).set(rows)
    errors = release_type_errors(release)
    if errors:
        raise ValidationError({"release_type": errors})
    return release


REVIEW_STATES = (ReleaseState.DEPLOYED, ReleaseState.FAILED, ReleaseState.ROLLED_BACK, ReleaseState.UNDER_REVIEW)


@transaction.atomic
def save_review(release: Release, *, by, notes: str) -> Release:
    """Record the analysis of a deployed (or failed) release: success or failure, impact
    on the customers, lessons. The only edit once a release has gone to its approvers."""
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.state not in REVIEW_STATES:
        raise ValidationError(
            {"review_notes": f"{locked.reference} is {locked.get_state_display().lower()}: the analysis is "
             "recorded once it is deployed (or failed)."}
        )
    locked.review_notes = (notes or "").strip()
    locked._history_user = by
    locked.save(reason="Success or failure analysis recorded")
    return locked


def _finished_records_added(release: Release, relations: dict) -> dict:
    """A release closes open problems and known errors: newly linking one that is
    already finished (resolved, closed, retired) is refused. Ones linked earlier stay."""
    from processes.resolution.problem_choices import KnownErrorState, ProblemState

    checks = (
        ("problems", (ProblemState.RESOLVED, ProblemState.CLOSED, ProblemState.CANCELLED)),
        ("known_errors", (KnownErrorState.RETIRED,)),
    )
    errors = {}
    for name, finished in checks:
        rows = relations.get(name)
        if not rows:
            continue
        linked = set(getattr(release, name).values_list("pk", flat=True)) if release.pk else set()
        done = [r.reference for r in rows if r.pk not in linked and r.state in finished]
        if done:
            errors[name] = f"Already finished, nothing left for a release to close: {', '.join(sorted(done))}."
    return errors


def _lock_editable(release: Release, action: str) -> Release:
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.state not in RELEASE_EDITABLE_STATES:
        raise ValidationError(
            {"release": f"{locked.reference} is {locked.get_state_display().lower()}: {action} no longer."}
        )
    return locked


@transaction.atomic
def save_criterion(criterion: AcceptanceCriterion, *, by, reason: str = "") -> AcceptanceCriterion:
    """Agree or reword an acceptance criterion while the release is planned, built or
    tested. Rewording a tested criterion sets it back to untested: the old result was
    for other words."""
    _lock_editable(criterion.release, "its acceptance criteria are agreed")
    criterion.description = (criterion.description or "").strip()
    criterion.agreed_with = (criterion.agreed_with or "").strip()
    if criterion.pk is not None:
        before = AcceptanceCriterion.objects.get(pk=criterion.pk)
        if before.release_id != criterion.release_id:
            raise ValidationError({"release": "A criterion stays with its release."})
        if before.description != criterion.description and before.result != CriterionResult.UNTESTED:
            criterion.result = CriterionResult.UNTESTED
            criterion.result_notes = ""
            criterion.tested_at = None
            criterion.tested_by = None
            criterion.environment = ""
    criterion.full_clean(exclude=["tenant", "release", "created_by", "updated_by", "tested_by"])
    criterion._history_user = by
    criterion.save(reason=reason or ("Agreed" if criterion._state.adding else "Edited"))
    return criterion


@transaction.atomic
def delete_criterion(criterion: AcceptanceCriterion, *, by) -> None:
    _lock_editable(criterion.release, "its acceptance criteria are agreed")
    criterion._history_user = by
    criterion._change_reason = "Removed"
    criterion.delete()


@transaction.atomic
def record_result(
    criterion: AcceptanceCriterion, *, by, result: str, notes: str, environment: str = ""
) -> AcceptanceCriterion:
    """Record the result of testing the release against one criterion. Only while the
    release is in acceptance test, and always in a named environment (the release's
    acceptance test environment unless another is given). Any refusal raises before
    anything is written."""
    release = Release.objects.select_for_update().get(pk=criterion.release_id)
    notes = (notes or "").strip()
    environment = (environment or "").strip() or release.test_environment.strip()
    errors = {}
    if result not in (CriterionResult.PASSED, CriterionResult.FAILED):
        errors["result"] = "Record passed or failed."
    if not notes:
        errors["notes"] = "Say what was tested and what was seen."
    if not environment:
        errors["environment"] = "Name the acceptance test environment the test ran in."
    if errors:
        raise ValidationError(errors)
    if release.state != ReleaseState.IN_TEST:
        raise ValidationError(
            {"result": f"{release.reference} is {release.get_state_display().lower()}: results are recorded "
             "while it is in acceptance test."}
        )
    criterion = AcceptanceCriterion.objects.select_for_update().get(pk=criterion.pk)
    criterion.result = result
    criterion.result_notes = notes
    criterion.environment = environment
    criterion.tested_at = timezone.now()
    criterion.tested_by = by
    criterion._history_user = by
    criterion.save(reason=f"Tested in {environment}: {CriterionResult(result).label.lower()}")
    return criterion


# --- deployment -----------------------------------------------------------------------------------
def take_release_baseline(release: Release, *, by):
    """Called by the start-deployment transition (inside its row lock): record the
    configuration baseline of the CIs the release touches (named, or components of its
    services). Refuses when there is nothing to baseline, so no deployment starts
    without one."""
    from sms.cmdb.services import take_baseline

    scope = {
        "cis": sorted(c.pk for c in release.cis.all()),
        "services": sorted(s.pk for s in release.services.all()),
    }
    if not (scope["cis"] or scope["services"]):
        raise TransitionBlocked(
            "Name the release's CIs or services: its configuration baseline is taken before deployment.",
            field_errors={"cis": ["No CIs or services to take a baseline of."]},
        )
    baseline = take_baseline(
        f"{release.reference} before deployment",
        by=by,
        description=f"Taken automatically when deployment of {release.reference} {release.title} started.",
        scope=scope,
    )
    if baseline.item_count == 0:
        raise TransitionBlocked(
            "The release's services have no configuration items, so no baseline can be taken: name the CIs "
            "the release deploys.",
            field_errors={"cis": ["No configuration items to take a baseline of."]},
        )
    return baseline


def end_deployment(release: Release, outcome: str, result: str) -> None:
    """Called by the transitions that end a deployment: the outcome, and the period in
    which incidents count against the release, fixed now from the policy."""
    release.deployment_ended_at = timezone.now()
    release.deployment_result = result
    release.outcome = outcome
    release.incident_window_days = incident_window_for(release)
    release.incident_period_end = release.deployment_ended_at + dt.timedelta(days=release.incident_window_days)


def move_on_fixed_records(release: Release, *, by) -> list[str]:
    """Called when a release is deployed successfully: retire the known errors it fixes
    and resolve the problems whose cause it removes, each through its own workflow (so
    its guards and the deployer's rights apply). One that cannot move is left as it
    was, and the returned notes say why."""
    from processes.resolution.models import Problem
    from processes.resolution.problem_choices import KnownErrorState, ProblemState

    notes = []
    reason = f"Fixed by release {release.reference}"
    for ke in release.known_errors.order_by("number"):
        if ke.state != KnownErrorState.OPEN:
            notes.append(f"{ke.reference} was already {ke.get_state_display().lower()}.")
            continue
        try:
            run_transition(ke, "retire", by=by, reason=reason)
        except WorkflowError as exc:
            notes.append(f"{ke.reference} not retired: {exc.message}")
        else:
            notes.append(f"{ke.reference} retired: fixed by this release.")
    first_change = release.changes.order_by("number").first()
    resolvable = (ProblemState.UNDER_INVESTIGATION, ProblemState.KNOWN_ERROR)
    for problem in release.problems.order_by("number"):
        if problem.state not in resolvable:
            notes.append(f"{problem.reference} was {problem.get_state_display().lower()}; left as it is.")
            continue
        try:
            with transaction.atomic():
                locked = Problem.objects.select_for_update().get(pk=problem.pk)
                touched = []
                if not locked.resolution_notes.strip():
                    locked.resolution_notes = f"Cause removed by release {release.reference} {release.title}."
                    touched.append("resolution_notes")
                if locked.needs_change and not locked.rfc_reference.strip() and first_change is not None:
                    locked.rfc_reference = first_change.reference
                    touched.append("rfc_reference")
                if touched:
                    locked._history_user = by
                    locked.save(reason=f"Resolution recorded from release {release.reference}")
                run_transition(locked, "resolve", by=by, reason=reason)
        except WorkflowError as exc:
            notes.append(f"{problem.reference} not resolved: {exc.message}")
        else:
            notes.append(f"{problem.reference} resolved: its cause was removed by this release.")
    return notes


# --- incidents after deployment ----------------------------------------------------------------
def _related_incident(release_ref, release_ref_in_cis=None):
    """Exists-conditions for an incident query (``OuterRef("pk")`` is the incident): on
    one of the release's CIs, or linked to the release in either direction.
    ``release_ref`` names the release where the link query sits; the CI query sits one
    level deeper, hence its own reference when the release is an outer query's row."""
    from processes.resolution.models import Incident
    from sms.core.models import RecordLink

    incident_ct = ContentType.objects.get_for_model(Incident)
    release_ct = ContentType.objects.get_for_model(Release)
    in_cis = release_ref if release_ref_in_cis is None else release_ref_in_cis
    release_cis = Release.cis.through.objects.filter(release_id=in_cis).values("configurationitem_id")
    on_cis = Incident.affected_cis.through.objects.filter(
        incident_id=OuterRef("pk"), configurationitem_id__in=release_cis
    )
    linked = RecordLink.objects.filter(
        Q(source_type=incident_ct, source_id=OuterRef("pk"), target_type=release_ct, target_id=release_ref)
        | Q(target_type=incident_ct, target_id=OuterRef("pk"), source_type=release_ct, source_id=release_ref)
    )
    return Exists(on_cis) | Exists(linked)


def incidents_after(release: Release):
    """Incidents related to the release (through its CIs or a link) created from the
    start of its deployment to the end of its incident period (or now, while it is still
    deploying). Empty before deployment; ``.count()`` is one SQL query."""
    from processes.resolution.models import Incident

    if release.deployment_started_at is None:
        return Incident.objects.none()
    until = release.incident_period_end or timezone.now()
    return Incident.objects.filter(
        _related_incident(release.pk),
        created_at__gte=release.deployment_started_at,
        created_at__lt=until,
    )


def with_incident_counts(queryset):
    """Annotate ``incidents_after_count`` on each release (as ``incidents_after``
    counts), inside the list's own SQL query."""
    from processes.resolution.models import Incident

    counted = (
        Incident.objects.filter(
            _related_incident(OuterRef(OuterRef("pk")), OuterRef(OuterRef(OuterRef("pk")))),
            created_at__gte=OuterRef("deployment_started_at"),
            created_at__lt=Coalesce(OuterRef("incident_period_end"), Now(), output_field=DateTimeField()),
        )
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return queryset.annotate(
        incidents_after_count=Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
    )


# --- calendar and change assessment ---------------------------------------------------------------
# When a release deploys: when its deployment started, else when it is planned to.
DEPLOYMENT_DATE = Coalesce("deployment_started_at", "planned_start")


def calendar(start: dt.date, end: dt.date, *, service=None):
    """Releases deploying (or deployed) between two dates, by date, with their outcome:
    what the service desk and change assessment need to know about."""
    qs = (
        Release.objects.exclude(state=ReleaseState.CANCELLED)
        .annotate(deploys_at=DEPLOYMENT_DATE)
        .filter(deploys_at__date__gte=start, deploys_at__date__lte=end)
    )
    if service is not None:
        qs = qs.filter(pk__in=Release.services.through.objects.filter(service=service).values("release_id"))
    return qs.select_related("release_manager").prefetch_related("services").order_by("deploys_at", "number")


def upcoming_for_change(change: Change, limit: int = 20) -> list[Release]:
    """Releases still to deploy that touch the change's services or CIs, or implement
    the change: for assessing the change's impact on planned releases."""
    service_ids = [s.pk for s in change.services.all()]
    ci_ids = [c.pk for c in change.cis.all()]
    touching = Q(changes=change)
    if service_ids:
        touching |= Q(services__in=service_ids)
    if ci_ids:
        touching |= Q(cis__in=ci_ids)
    ids = Release.objects.filter(touching, state__in=RELEASE_UPCOMING_STATES).values("pk")
    return list(
        Release.objects.filter(pk__in=ids)
        .select_related("release_manager")
        .prefetch_related("services")
        .order_by("planned_start", "number")[:limit]
    )
