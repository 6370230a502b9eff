"""Looking back on changes (clause 9.2): the investigation of a failed change with the
actions agreed, and the analysis of change trends at planned intervals.

The agreed actions of an investigation are improvements of the management system
(corrective actions, ``governance.Improvement``) raised from the change, so that they are
owned, followed up and measured like every other corrective action."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from sms.core.models import LinkType, PlannedActivity, RecordLink
from sms.core.models.planned import add_interval
from sms.core.registry import ActivityKind
from sms.core.workflow import TransitionUnavailable
from sms.tenancy import context

from .choices import ChangeState, ChangeType, Outcome
from .models import Change, ChangeTrendReport
from .models.changes import FAILED_OUTCOMES, investigation_actions

INVESTIGATION_STATES = (ChangeState.FAILED, ChangeState.BACKED_OUT, ChangeState.UNDER_REVIEW)
MAX_ACTIONS = 10


# --- investigation of a failed change -------------------------------------------------------------
def _clean_actions(actions, *, by) -> list[dict]:
    from django.contrib.auth import get_user_model

    from sms.tenancy.models import Membership

    cleaned, errors = [], {}
    for index, raw in enumerate(actions or []):
        title = (raw.get("title") or "").strip()
        if not title:
            errors[f"actions[{index}].title"] = "Say what is to be done."
            continue
        if len(title) > 200:
            errors[f"actions[{index}].title"] = "Keep the title to 200 characters; put details in the description."
            continue
        owner = raw.get("owner")
        owner_id = getattr(owner, "pk", owner)
        if owner_id and not Membership.objects.active().filter(user_id=owner_id).exists():
            errors[f"actions[{index}].owner"] = "The owner must be a member of this tenant."
            continue
        due = raw.get("due_date")
        if due is not None and due < timezone.localdate():
            errors[f"actions[{index}].due_date"] = "The due date is in the past."
            continue
        cleaned.append(
            {
                "title": title,
                "description": (raw.get("description") or "").strip(),
                "owner": get_user_model().objects.get(pk=owner_id) if owner_id else by,
                "due_date": due,
            }
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def record_investigation(change: Change, *, by, findings: str, actions=()) -> Change:
    """Record (or complete) the investigation of a failed change: what went wrong and
    why, and the actions agreed, each raised as a corrective action linked to the change.

    Only changes whose implementation failed (backed out or remedied) are investigated.
    Actions already raised stay; new ones are added. Nothing is written when any part
    of the input is refused."""
    from governance.choices import ImprovementSource, ImprovementType
    from governance.models import Improvement

    change = Change.objects.select_for_update().get(pk=change.pk)
    if change.outcome not in FAILED_OUTCOMES or change.state not in INVESTIGATION_STATES:
        raise TransitionUnavailable(
            f"{change.reference} is {change.get_state_display().lower()}: only a failed change that is not yet "
            "closed is investigated."
        )
    findings = (findings or "").strip()
    if not findings:
        raise ValidationError({"findings": "Say what went wrong and why."})
    if len(actions or ()) > MAX_ACTIONS:
        raise ValidationError({"actions": f"Agree at most {MAX_ACTIONS} actions at a time."})
    cleaned = _clean_actions(actions, by=by)
    if not cleaned and not investigation_actions(change).exists():
        raise ValidationError({"actions": "Agree at least one action (who does what by when)."})
    first = not change.investigation_findings
    change.investigation_findings = findings
    change.investigated_at = timezone.now()
    change.investigated_by = by
    change._history_user = by
    change.save(reason="Investigation of the failure recorded" if first else "Investigation of the failure updated")
    change_type = ContentType.objects.get_for_model(Change)
    improvement_type = ContentType.objects.get_for_model(Improvement)
    for action in cleaned:
        improvement = Improvement(
            title=action["title"],
            description=action["description"]
            or f"Agreed in the investigation of the failed change {change.reference} ({change.title}).",
            improvement_type=ImprovementType.CORRECTIVE,
            source=ImprovementSource.CHANGE_REVIEW,
            owner=action["owner"],
            due_date=action["due_date"],
        )
        improvement._history_user = by
        improvement.save(reason=f"Agreed in the investigation of {change.reference}")
        link = RecordLink(
            source_type=improvement_type,
            source_id=improvement.pk,
            link_type=LinkType.RAISED_FROM,
            target_type=change_type,
            target_id=change.pk,
            note="Agreed action of the failure investigation",
        )
        link._history_user = by
        link.save(reason=f"Raised from {change.reference}")
    return change


# --- trend analysis ----------------------------------------------------------------------------
DEFAULT_INCIDENT_WINDOW_DAYS = 7
TOP_SERVICES = 15
TOP_CAUSES = 10


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _changes_causing_incidents(start: dt.datetime, end: dt.datetime, window_days: int) -> list[dict]:
    """Changes implemented in [start, end) followed by incidents: linked to the change as
    caused by it, or logged on one of its CIs between the start of its implementation and
    ``window_days`` after its end. One SQL statement; row-level security keeps it in the tenant."""
    from processes.resolution.models import Incident

    change_table = Change._meta.db_table
    change_cis = Change.cis.through._meta.db_table
    incident_table = Incident._meta.db_table
    incident_cis = Incident.affected_cis.through._meta.db_table
    link_table = RecordLink._meta.db_table
    sql = f"""
        WITH implemented AS (
            SELECT id, reference, title, implementation_started_at AS s, implementation_ended_at AS e
            FROM {change_table}
            WHERE tenant_id = %(tenant)s AND implementation_ended_at >= %(start)s AND implementation_ended_at < %(end)s
        ),
        caused AS (
            SELECT c.id AS change_id, ic.incident_id
            FROM implemented c
            JOIN {change_cis} cc ON cc.change_id = c.id
            JOIN {incident_cis} ic ON ic.configurationitem_id = cc.configurationitem_id
            JOIN {incident_table} i ON i.id = ic.incident_id
            WHERE i.tenant_id = %(tenant)s AND i.created_at >= COALESCE(c.s, c.e)
              AND i.created_at < c.e + make_interval(days => %(window)s)
            UNION
            SELECT c.id, l.source_id
            FROM implemented c
            JOIN {link_table} l ON l.target_id = c.id AND l.target_type_id = %(change_ct)s
            WHERE l.tenant_id = %(tenant)s AND l.link_type = %(caused_by)s AND l.source_type_id = %(incident_ct)s
        )
        SELECT c.id, c.reference, c.title, COUNT(DISTINCT caused.incident_id) AS incidents
        FROM caused JOIN implemented c ON c.id = caused.change_id
        GROUP BY c.id, c.reference, c.title
        ORDER BY incidents DESC, c.id
    """
    params = {
        "tenant": context.require_tenant().pk,
        "start": start,
        "end": end,
        "window": window_days,
        "change_ct": ContentType.objects.get_for_model(Change).pk,
        "incident_ct": ContentType.objects.get_for_model(Incident).pk,
        "caused_by": LinkType.CAUSED_BY,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            {"id": row[0], "reference": row[1], "title": row[2], "incidents": row[3]} for row in cursor.fetchall()
        ]


def analyse_changes(period_start: dt.date, period_end: dt.date, *, incident_window_days: int = 7) -> dict:
    """The figures of the changes of a period (both days included), computed in SQL:
    changes recorded (by type, by service, emergency share), changes implemented (by
    outcome, success rate), changes rejected or cancelled, month by month, and the
    implemented changes that were followed by incidents."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period_start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    recorded = Change.objects.filter(created_at__gte=start, created_at__lt=end)
    implemented = Change.objects.filter(implementation_ended_at__gte=start, implementation_ended_at__lt=end)

    totals = recorded.aggregate(
        recorded=Count("id"),
        emergency=Count("id", filter=Q(change_type=ChangeType.EMERGENCY)),
        major=Count("id", filter=Q(is_major=True)),
    )
    by_type = {row["change_type"]: row["n"] for row in recorded.values("change_type").annotate(n=Count("id"))}
    by_service = [
        {"service_id": row["services__id"], "service": row["services__title"], "changes": row["n"]}
        for row in recorded.filter(services__isnull=False)
        .values("services__id", "services__title")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n", "services__title")[:TOP_SERVICES]
    ]
    by_outcome = {row["outcome"]: row["n"] for row in implemented.values("outcome").annotate(n=Count("id"))}
    finished = Change.objects.filter(closed_at__gte=start, closed_at__lt=end).aggregate(
        rejected=Count("id", filter=Q(state=ChangeState.REJECTED)),
        cancelled=Count("id", filter=Q(state=ChangeState.CANCELLED)),
    )
    months: dict[str, dict] = {}
    for row in recorded.annotate(m=TruncMonth("created_at")).values("m").annotate(n=Count("id")):
        months.setdefault(f"{row['m']:%Y-%m}", {"recorded": 0, "implemented": 0, "failed": 0})["recorded"] = row["n"]
    for row in (
        implemented.annotate(m=TruncMonth("implementation_ended_at"))
        .values("m")
        .annotate(n=Count("id"), failed=Count("id", filter=Q(outcome__in=FAILED_OUTCOMES)))
    ):
        month = months.setdefault(f"{row['m']:%Y-%m}", {"recorded": 0, "implemented": 0, "failed": 0})
        month["implemented"], month["failed"] = row["n"], row["failed"]

    done = sum(by_outcome.values())
    successful = by_outcome.get(Outcome.SUCCESSFUL, 0)
    causing = _changes_causing_incidents(start, end, incident_window_days)
    return {
        "recorded": totals["recorded"],
        "by_type": {t: by_type.get(t, 0) for t in ChangeType.values},
        "by_service": by_service,
        "emergency": totals["emergency"],
        "emergency_rate": _rate(totals["emergency"], totals["recorded"]),
        "major": totals["major"],
        "implemented": done,
        "by_outcome": {o: by_outcome.get(o, 0) for o in Outcome.values},
        "success_rate": _rate(successful, done),
        "rejected": finished["rejected"],
        "cancelled": finished["cancelled"],
        "by_month": [{"month": key, **months[key]} for key in sorted(months)],
        "changes_causing_incidents": len(causing),
        "causing_rate": _rate(len(causing), done),
        "top_causes": causing[:TOP_CAUSES],
    }


@transaction.atomic
def create_trend_report(
    period_start: dt.date,
    period_end: dt.date,
    *,
    by=None,
    incident_window_days: int = DEFAULT_INCIDENT_WINDOW_DAYS,
    activity: PlannedActivity | None = None,
) -> ChangeTrendReport:
    """Analyse the period and keep the figures as a report for review."""
    report = ChangeTrendReport(
        period_start=period_start, period_end=period_end, incident_window_days=incident_window_days, activity=activity
    )
    report.full_clean(exclude=["tenant", "created_by", "updated_by"])
    report.figures = analyse_changes(period_start, period_end, incident_window_days=incident_window_days)
    report._history_user = by
    report.save(reason="Figures computed" + (f" for the planned activity {activity.title}" if activity else ""))
    return report


@transaction.atomic
def conclude_trend_report(report: ChangeTrendReport, *, by, conclusions: str) -> ChangeTrendReport:
    """Record what the process owner concludes from a report's figures."""
    conclusions = (conclusions or "").strip()
    if not conclusions:
        raise ValidationError({"conclusions": "Write what you conclude from the figures."})
    report = ChangeTrendReport.objects.select_for_update().get(pk=report.pk)
    report.conclusions = conclusions
    report.reviewed_by = by
    report.reviewed_at = timezone.now()
    report._history_user = by
    report.save(reason="Conclusions recorded")
    return report


ACTIVITY_KIND = "change_trends"


def period_of(activity: PlannedActivity) -> tuple[dt.date, dt.date]:
    """The period an occurrence covers: one interval up to the day before it fell due."""
    end = activity.next_due - dt.timedelta(days=1)
    start = add_interval(activity.next_due, -activity.interval_count, activity.interval_unit)
    return start, end


def scheduled_trend_analysis(activity: PlannedActivity) -> bool:
    """Planned-activity handler: analyse the interval that just ended, keep the report and
    tell the activity's owner it is ready for their conclusions. Idempotent per occurrence."""
    start, end = period_of(activity)
    if not ChangeTrendReport.objects.filter(activity=activity, period_end=end).exists():
        report = create_trend_report(start, end, activity=activity)
        if activity.owner and activity.owner.email:
            from sms.core.outbox import queue_mail

            figures = report.figures
            queue_mail(
                [activity.owner.email],
                f"[{context.require_tenant().name}] Change trends {start:%d %b %Y} - {end:%d %b %Y} are ready",
                f"{figures['recorded']} changes recorded, {figures['implemented']} implemented "
                f"(success rate {figures['success_rate'] if figures['success_rate'] is not None else '-'} %), "
                f"{figures['changes_causing_incidents']} followed by incidents.\n\n"
                "Record your conclusions on the report.",
                record=activity,
                topic="change_trends",
            )
    return True


TREND_ACTIVITY = ActivityKind(
    ACTIVITY_KIND,
    "Change trend analysis",
    "9.2",
    "Analyse the changes of the period: volumes by type, service and outcome, success rate, share of emergency "
    "changes, and changes followed by incidents. The figures are kept for review.",
    handler=scheduled_trend_analysis,
    default_interval_months=3,
)
