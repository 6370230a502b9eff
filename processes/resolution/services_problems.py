"""Operations of problem management and the known error database (clause 8.2).

Views, the API and the Celery tasks call these; the models' transitions call the
known-error helpers. Priorities reuse the tenant's impact x urgency matrix of incident
management (``services.computed_priority``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from sms.core import services as core_services
from sms.core.models import RecordLink
from sms.core.models.collab import LinkType, Visibility
from sms.core.search import CONFIG

from . import services
from .models import Category, Incident, KnownError, Problem, ProblemReview
from .problem_choices import KnownErrorState, ProblemState

MATCH_LIMIT = 5
# Incidents point at the known error they are an occurrence of.
KNOWN_ERROR_LINK = LinkType.CAUSED_BY
_WORD = re.compile(r"[\w]{3,}", re.UNICODE)
_REFERENCE = re.compile(r"^KE-\d+$", re.IGNORECASE)


# --- priority ---------------------------------------------------------------------------------
def apply_problem_priority(problem: Problem, *, priority: int | None = None, reason: str = "") -> None:
    """The matrix's priority for the problem's impact and urgency, or an override with a
    reason (kept on the record and in its history), as for incidents."""
    computed = services.computed_priority(problem.impact, problem.urgency)
    reason = (reason or "").strip()
    if priority is not None and int(priority) != computed:
        if not reason:
            raise ValidationError({"priority_override_reason": "Give the reason for overriding the computed priority."})
        problem.priority, problem.priority_overridden, problem.priority_override_reason = int(priority), True, reason
        problem._change_reason = f"Priority overridden to P{priority}: {reason}"
    else:
        problem.priority, problem.priority_overridden, problem.priority_override_reason = computed, False, ""


# --- known errors from problems ---------------------------------------------------------------
def known_error_from_problem(problem: Problem, *, by=None) -> KnownError:
    """The problem's entry in the known error database: its open one, or a new one made
    from its description, root cause and workaround (clause 8.2: known errors are recorded)."""
    existing = KnownError.objects.filter(problem=problem, state=KnownErrorState.OPEN).order_by("number").first()
    if existing is not None:
        return existing
    ke = KnownError(
        title=problem.title,
        description=f"Identified in {problem.reference}.",
        symptoms=problem.description,
        root_cause=problem.root_cause,
        workaround=problem.workaround,
        category=problem.category,
        problem=problem,
        owner=problem.owner,
    )
    ke._history_user = by
    ke.save(reason=f"Recorded from {problem.reference}")
    ke.services.set(problem.services.all())
    ke.affected_cis.set(problem.affected_cis.all())
    return ke


def retire_known_errors_of(problem: Problem, *, by=None, reason: str) -> int:
    """Retire the problem's open known errors once its cause is removed."""
    n = 0
    for ke in KnownError.objects.filter(problem=problem, state=KnownErrorState.OPEN):
        ke.retire(by=by, reason=reason)
        ke._history_user = by
        ke.save(reason=f"Retire: {reason}")
        n += 1
    return n


# --- reviews ----------------------------------------------------------------------------------
REVIEWABLE_STATES = (ProblemState.RESOLVED, ProblemState.CLOSED)


@transaction.atomic
def add_review(problem: Problem, *, by, **data) -> ProblemReview:
    """Record a review of a resolved problem (clause 8.2: the effectiveness of problem
    resolution is reviewed)."""
    if problem.state not in REVIEWABLE_STATES:
        raise ValidationError({"problem": "A problem is reviewed once it is resolved."})
    lessons = (data.get("lessons_learned") or "").strip()
    if not lessons:
        raise ValidationError({"lessons_learned": "Write what was learnt."})
    review = ProblemReview(problem=problem, **{**data, "lessons_learned": lessons})
    review.full_clean(exclude=["tenant", "problem"])
    review._history_user = by
    review.save(reason=f"Review of {problem.reference}")
    core_services.add_journal_entry(
        problem, by=by, body=f"Problem review recorded: root cause removed: {review.get_root_cause_removed_display()}."
    )
    return review


# --- the known error database: search ---------------------------------------------------------
def category_and_below(category: Category) -> Q:
    return Q(category=category) | Q(category__parent=category) | Q(category__parent__parent=category)


def category_and_above(category: Category) -> list[int]:
    ids, node = [], category
    while node is not None and len(ids) < Category.MAX_DEPTH:
        ids.append(node.pk)
        node = node.parent
    return ids


def search_known_errors(
    text: str = "",
    *,
    service=None,
    ci=None,
    category: Category | None = None,
    state: str | None = None,
    queryset: QuerySet | None = None,
) -> QuerySet:
    """The known error database filtered by words (PostgreSQL full-text search over title,
    description, symptoms, root cause and workaround; quotes, ``or`` and ``-word`` work),
    service, CI, category (with its sub-categories) and state; best matches first."""
    qs = queryset if queryset is not None else KnownError.objects.all()
    if service is not None:
        qs = qs.filter(services=service)
    if ci is not None:
        qs = qs.filter(affected_cis=ci)
    if category is not None:
        qs = qs.filter(category_and_below(category))
    if state:
        qs = qs.filter(state=state)
    text = (text or "").strip()
    if not text:
        return qs.annotate(rank=Value(0.0, output_field=FloatField())).order_by("-number")
    if _REFERENCE.match(text):
        return qs.filter(reference__iexact=text).annotate(rank=Value(1.0, output_field=FloatField()))
    # A bare full-text condition, so that the GIN index answers it.
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    return (
        qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "-number")
    )


# --- matching while an incident is logged -----------------------------------------------------
def _any_word_query(*texts: str) -> SearchQuery | None:
    """A query matching any of the words (an incident's title rarely has every word of the
    known error), built from word characters only so that nothing reaches tsquery syntax."""
    words = []
    for text in texts:
        for word in _WORD.findall(text or ""):
            low = word.lower()
            if low not in words:
                words.append(low)
    if not words:
        return None
    return SearchQuery(" | ".join(words[:30]), search_type="raw", config=CONFIG)


def match_known_errors(
    *, title: str = "", description: str = "", service=None, category: Category | None = None, cis=(), limit=MATCH_LIMIT
) -> list[KnownError]:
    """Open known errors that fit an incident being logged, best first: one query that
    ranks the text match and adds weight for the same service, the same category (or a
    parent of it) and shared CIs. Without any of these nothing is offered."""
    query = _any_word_query(title, description)
    ci_ids = [getattr(c, "pk", c) for c in cis or ()]
    category_ids = category_and_above(category) if category is not None else []
    if query is None and service is None and not category_ids and not ci_ids:
        return []
    open_kes = KnownError.objects.filter(state=KnownErrorState.OPEN)
    through_services = KnownError.services.through
    through_cis = KnownError.affected_cis.through
    # Candidates first, each branch through its own index (GIN for the words, the link
    # tables and the category index for the rest); ranking then runs on those only.
    wanted = Q(pk__in=[])
    if query is not None:
        wanted |= Q(pk__in=open_kes.filter(search_vector=query).values("pk"))
    if service is not None:
        wanted |= Q(pk__in=through_services.objects.filter(service_id=service.pk).values("knownerror_id"))
    if category_ids:
        wanted |= Q(category_id__in=category_ids)
    if ci_ids:
        wanted |= Q(pk__in=through_cis.objects.filter(configurationitem_id__in=ci_ids).values("knownerror_id"))
    qs = open_kes.filter(wanted)
    score = Value(0.0, output_field=FloatField())
    if query is not None:
        qs = qs.annotate(text_rank=Coalesce(SearchRank(F("search_vector"), query), 0.0))
        score = score + F("text_rank")
    if service is not None:
        qs = qs.annotate(
            same_service=Exists(through_services.objects.filter(knownerror_id=OuterRef("pk"), service_id=service.pk))
        )
        score = score + _flag("same_service", 0.4)
    if category_ids:
        score = score + Case(When(category_id__in=category_ids, then=Value(0.3)), default=Value(0.0))
    if ci_ids:
        qs = qs.annotate(
            same_ci=Exists(through_cis.objects.filter(knownerror_id=OuterRef("pk"), configurationitem_id__in=ci_ids))
        )
        score = score + _flag("same_ci", 0.5)
    # Scored on the narrow rows, then only the few offered are read in full: joining their
    # category path and problem to every candidate first cost more than the ranking.
    ranked = list(
        qs.annotate(match_score=score).order_by("-match_score", "-number").values_list("pk", "match_score")[:limit]
    )
    if not ranked:
        return []
    found = KnownError.objects.select_related("category__parent__parent", "problem").in_bulk([pk for pk, _ in ranked])
    offered = []
    for pk, match_score in ranked:
        if pk in found:  # (withdrawn between the two reads: left out)
            found[pk].match_score = match_score
            offered.append(found[pk])
    return offered


def _flag(name: str, weight: float):
    return Case(When(**{name: True}, then=Value(weight)), default=Value(0.0), output_field=FloatField())


# --- linking a known error to an incident -----------------------------------------------------
def _ct(model_or_obj):
    return ContentType.objects.get_for_model(model_or_obj)


def linked_known_errors(incident: Incident) -> QuerySet:
    ids = RecordLink.objects.filter(
        source_type=_ct(Incident), source_id=incident.pk, link_type=KNOWN_ERROR_LINK, target_type=_ct(KnownError)
    ).values("target_id")
    return KnownError.objects.filter(pk__in=ids)


@transaction.atomic
def link_known_error(incident: Incident, known_error: KnownError, *, by) -> RecordLink:
    """Record on the incident that it is an occurrence of ``known_error``: a record link
    and a journal entry quoting the workaround (clause 8.2: known errors are offered to
    incident management)."""
    if known_error.state != KnownErrorState.OPEN:
        raise ValidationError({"known_error": f"{known_error.reference} is retired; its cause was removed."})
    if linked_known_errors(incident).filter(pk=known_error.pk).exists():
        raise ValidationError({"known_error": f"{incident.reference} is already linked to {known_error.reference}."})
    link = core_services.link_records(
        incident,
        by=by,
        link_type=KNOWN_ERROR_LINK,
        source_type=_ct(incident),
        source_id=incident.pk,
        target_type=_ct(known_error),
        target_id=known_error.pk,
        note="Known error matched while handling the incident",
    )
    core_services.add_journal_entry(
        incident,
        by=by,
        body=f"Known error {known_error.reference} ({known_error.title}) linked. Workaround:\n{known_error.workaround}",
        visibility=Visibility.INTERNAL,
    )
    return link


def link_known_errors(incident: Incident, known_errors: Iterable[KnownError], *, by) -> int:
    n = 0
    for ke in known_errors:
        link_known_error(incident, ke, by=by)
        n += 1
    return n
