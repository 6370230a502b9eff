"""Trend analysis (clause 8.2) and information security incident analysis (6.6.3): the
SQL aggregates behind /api/v1/problems/trends/ and the trends page, and the planned check
that proposes exactly one problem for incidents repeating on one CI in one category."""

import datetime as dt

import pytest
from django.utils import timezone

from processes.resolution import trends
from processes.resolution.models import Incident, Problem
from sms.core.workflow import run_transition
from sms.tenancy import context
from tests.factories import CategoryFactory, ConfigurationItemFactory, IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db
TRENDS = "/api/v1/problems/trends/"


def _incident(days_ago=0, **kwargs):
    inc = IncidentFactory(**kwargs)
    if days_ago:
        Incident.objects.filter(pk=inc.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    return inc


@pytest.fixture
def setup(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        web, mail = ServiceFactory(title="Web shop"), ServiceFactory(title="E-mail")
        db_server, gateway = ConfigurationItemFactory(title="DB server"), ConfigurationItemFactory(title="Gateway")
        disk, phishing = CategoryFactory(name="Disk"), CategoryFactory(name="Phishing")
    return {"web": web, "mail": mail, "db": db_server, "gw": gateway, "disk": disk, "phishing": phishing}


# --- aggregates -----------------------------------------------------------------------------------
def test_trend_api_counts_per_service_ci_category_and_period(api, setup, personas, tenant_a):
    s = setup
    with context.tenant_context(tenant_a, personas["agent"]):
        for _ in range(3):
            _incident(service=s["web"], category=s["disk"], affected_cis=[s["db"]])
        _incident(service=s["mail"], category=s["phishing"], affected_cis=[s["gw"]], is_security=True, impact=1)
        _incident(days_ago=200, service=s["mail"], category=s["phishing"])  # outside the default 90 days
        cancelled = _incident(service=s["mail"], category=s["disk"])
        run_transition(cancelled, "cancel", by=personas["agent"], reason="Duplicate")
    resp = api("auditor").get(TRENDS)
    assert resp.status_code == 200, resp.content
    data = resp.json()["incidents"]
    assert data["totals"] == {"total": 4, "open": 4, "breached": 0, "security": 1}
    services = {r["title"]: r["total"] for r in data["per_service"]}
    assert services == {"Web shop": 3, "E-mail": 1}
    assert {r["title"]: r["total"] for r in data["per_ci"]} == {"DB server": 3, "Gateway": 1}
    assert {r["path"]: r["total"] for r in data["per_category"]} == {"Disk": 3, "Phishing": 1}
    assert sum(r["total"] for r in data["per_period"]) == 4
    # A wider window takes in the old incident; a daily period splits by day.
    start = (timezone.now() - dt.timedelta(days=365)).date().isoformat()
    wide = api("auditor").get(TRENDS, {"start": start, "period": "month"}).json()
    assert wide["incidents"]["totals"]["total"] == 5 and wide["period"] == "month"


def test_incidents_without_service_or_category_have_their_own_row_after_named_ties(setup, personas, tenant_a):
    """The grouping-sets query tells "no service" apart from "all services", and ties on
    the count are broken by name with the unnamed row last."""
    s = setup
    with context.tenant_context(tenant_a, personas["agent"]):
        sub = CategoryFactory(name="Array", parent=s["disk"])
        for kwargs in (
            {"service": None, "category": None},
            {"service": None, "category": None},
            {"service": s["web"], "category": sub},
            {"service": s["web"], "category": sub},
            {"service": s["mail"], "category": s["phishing"]},
            {"service": s["mail"], "category": s["phishing"], "is_security": True},
        ):
            last = _incident(**kwargs)
        Incident.objects.filter(pk=last.pk).update(response_breached=True)
        data = trends.incident_trends(trends.window(period="day"))
    assert data["totals"] == {"total": 6, "open": 6, "breached": 1, "security": 1}
    assert [(r["title"], r["total"]) for r in data["per_service"]] == [("E-mail", 2), ("Web shop", 2), (None, 2)]
    assert [r["id"] for r in data["per_service"]][-1] is None
    assert [(r["path"], r["total"]) for r in data["per_category"]] == [("Disk / Array", 2), ("Phishing", 2), (None, 2)]
    assert data["per_category"][1]["security"] == data["per_category"][1]["breached"] == 1
    assert len(data["per_period"]) == 1 and data["per_period"][0]["total"] == 6
    assert data["per_period"][0]["period"].tzinfo is not None


def test_security_incident_analysis(api, setup, personas, tenant_a):
    s = setup
    with context.tenant_context(tenant_a, personas["agent"]):
        a = _incident(category=s["phishing"], is_security=True, impact=1, urgency=1, service=s["mail"])
        _incident(category=s["phishing"], is_security=True, impact=2, service=s["mail"])
        _incident(category=s["disk"], is_security=True, impact=2)
        _incident(category=s["disk"], is_security=False)
        a.resolution_code, a.resolution_notes = "fixed", "Blocked the sender."
        a.save()
        run_transition(a, "start", by=personas["agent"])
        run_transition(a, "resolve", by=personas["agent"])
        Incident.objects.filter(pk=a.pk).update(resolved_at=a.created_at + dt.timedelta(hours=3))
    sec = api("agent").get(TRENDS).json()["security"]
    assert sec["totals"]["total"] == 3 and sec["totals"]["services"] == 1
    assert sec["totals"]["mean_resolution_hours"] == 3.0
    assert {r["path"]: r["total"] for r in sec["per_type"]} == {"Phishing": 2, "Disk": 1}
    phishing = next(r for r in sec["per_type"] if r["path"] == "Phishing")
    assert phishing["mean_resolution_hours"] == 3.0 and phishing["open"] == 1
    assert {r["impact"]: r["total"] for r in sec["per_impact"]} == {1: 1, 2: 2}
    assert sec["per_impact"][0]["impact_label"] == "High"
    assert {r["priority"] for r in sec["per_priority"]} == {1, 3}


@pytest.mark.parametrize(
    "params",
    [
        {"period": "year"},
        {"start": "2026-13-01"},
        {"start": "2026-05-01", "end": "2026-04-01"},
        {"start": "2000-01-01", "end": "2026-01-01"},
        {"start": "2999-01-01"},
    ],
)
def test_trend_api_bad_input_is_400(api, params):
    resp = api("agent").get(TRENDS, params)
    assert resp.status_code == 400 and resp.json()


def test_trend_api_isolation_and_queries(api, setup, personas, tenant_a, django_assert_max_num_queries):
    with context.tenant_context(tenant_a, personas["agent"]):
        for _ in range(3):
            _incident(service=setup["web"], category=setup["disk"], affected_cis=[setup["db"]], is_security=True)
    outsider = api("outsider_admin").get(TRENDS).json()
    assert outsider["incidents"]["totals"]["total"] == 0 and outsider["incidents"]["per_service"] == []
    assert outsider["security"]["totals"]["total"] == 0
    client = api("agent")
    client.get(TRENDS)
    with django_assert_max_num_queries(20):
        client.get(TRENDS)


# --- the trend check proposes problems ------------------------------------------------------------
def _settings(tenant, **values):
    from processes.resolution.services import ensure_defaults

    with context.tenant_context(tenant):
        row = ensure_defaults()
        for k, v in values.items():
            setattr(row, k, v)
        row.save()


def test_repeating_incidents_propose_exactly_one_problem(setup, personas, tenant_a):
    s = setup
    _settings(tenant_a, repeat_count=3, repeat_days=7)
    with context.tenant_context(tenant_a, personas["agent"]):
        cluster = [
            _incident(days_ago=d, category=s["disk"], affected_cis=[s["db"]], service=s["web"]) for d in (0, 2, 5)
        ]
        _incident(days_ago=9, category=s["disk"], affected_cis=[s["db"]])  # outside D days
        _incident(category=s["phishing"], affected_cis=[s["db"]])  # other category
        _incident(category=s["disk"], affected_cis=[s["gw"]])  # other CI
        first = trends.propose_problems(by=personas["agent"])
        assert [(p.created, p.incidents_added) for p in first] == [(True, 3)]
        problem = first[0].problem
        assert problem.state == "new" and problem.origin == "trend"
        assert set(problem.incidents.values_list("pk", flat=True)) == {i.pk for i in cluster}
        assert list(problem.affected_cis.all()) == [s["db"]] and list(problem.services.all()) == [s["web"]]
        assert problem.category == s["disk"] and problem.priority == 3
        # Running again proposes nothing: the cluster's incidents are covered.
        assert trends.propose_problems(by=personas["agent"]) == []
        assert Problem.objects.count() == 1
        # A further repeat joins the open problem instead of proposing a second one.
        later = _incident(category=s["disk"], affected_cis=[s["db"]])
        _settings(tenant_a, repeat_count=2)  # even a lower threshold finds only one new incident
    with context.tenant_context(tenant_a, personas["agent"]):
        again = trends.propose_problems(by=personas["agent"])
        assert [(p.problem.pk, p.created, p.incidents_added) for p in again] == [(problem.pk, False, 1)]
        assert later in problem.incidents.all() and Problem.objects.count() == 1


def test_below_threshold_proposes_nothing(setup, personas, tenant_a):
    _settings(tenant_a, repeat_count=3, repeat_days=14)
    with context.tenant_context(tenant_a, personas["agent"]):
        for _ in range(2):
            _incident(category=setup["disk"], affected_cis=[setup["db"]])
        assert trends.propose_problems() == []
        assert not Problem.objects.exists()


def test_after_the_problem_is_finished_a_new_cluster_needs_n_new_incidents(setup, personas, tenant_a):
    s = setup
    _settings(tenant_a, repeat_count=2, repeat_days=14)
    with context.tenant_context(tenant_a, personas["agent"]):
        for _ in range(2):
            _incident(category=s["disk"], affected_cis=[s["db"]])
        (first,) = trends.propose_problems(by=personas["agent"])
        run_transition(first.problem, "cancel", by=personas["agent"], reason="Handled elsewhere")
        _incident(category=s["disk"], affected_cis=[s["db"]])
        assert trends.propose_problems(by=personas["agent"]) == []  # one new incident is not a cluster
        _incident(category=s["disk"], affected_cis=[s["db"]])
        (second,) = trends.propose_problems(by=personas["agent"])
        assert second.created and second.problem.pk != first.problem.pk
        assert second.problem.incidents.count() == 2


def test_celery_task_runs_the_check_as_the_system_user(setup, personas, tenant_a, tenant_b, monkeypatch):
    from processes.resolution import tasks
    from sms.core.tasks import SYSTEM_USERNAME

    _settings(tenant_a, repeat_count=2, repeat_days=14)
    with context.tenant_context(tenant_a, personas["agent"]):
        for _ in range(2):
            _incident(category=setup["disk"], affected_cis=[setup["db"]])
    refs = tasks.propose_problems_for_tenant(tenant_id=tenant_a.pk)
    assert len(refs) == 1 and refs[0].startswith("PRB-")
    assert tasks.propose_problems_for_tenant(tenant_id=tenant_a.pk) == []
    assert tasks.propose_problems_for_tenant(tenant_id=tenant_b.pk) == []
    with context.tenant_context(tenant_a):
        problem = Problem.objects.get()
        assert problem.history.earliest().history_user.username == SYSTEM_USERNAME
    queued = []
    monkeypatch.setattr(tasks.propose_problems_for_tenant, "delay", lambda **kw: queued.append(kw))
    assert tasks.check_trends() == 2
    assert sorted(q["tenant_id"] for q in queued) == sorted([tenant_a.pk, tenant_b.pk])


def test_beat_schedules_the_trend_check(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["propose-problems-from-trends"]
    assert entry["task"] == "processes.resolution.tasks.check_trends"


def test_open_trend_problem_is_unique_per_cluster_in_the_database(setup, personas, tenant_a):
    from django.db import IntegrityError, transaction

    from tests.factories import ProblemFactory

    with context.tenant_context(tenant_a, personas["agent"]):
        ProblemFactory(trend_ci=setup["db"], trend_category=setup["disk"])
        with pytest.raises(IntegrityError), transaction.atomic():
            ProblemFactory(trend_ci=setup["db"], trend_category=setup["disk"])


def test_only_rows_that_can_reach_the_top_have_their_names_read():
    rows = [{"key": k, "total": t} for k, t in ((1, 4), (2, 5), (3, 4), (4, 1), (5, 4))]
    assert [r["key"] for r in trends._contenders(rows, 2)] == [2, 1, 3, 5]  # the 4s tie for second place
    assert [r["key"] for r in trends._contenders(rows, 5)] == [2, 1, 3, 5, 4]
    assert trends._contenders([], 3) == []
