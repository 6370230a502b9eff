import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import IncidentFactory, ServiceCalendarFactory, ServiceFactory


class Clock:
    """The time as the application sees it (``django.utils.timezone.now``), moved by tests."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment


@pytest.fixture
def clock(monkeypatch):
    # Monday 2 March 2026, 10:00 UTC (London is on UTC in March before the 29th).
    c = Clock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def business_service(personas, tenant_a, in_tenant):
    """A service whose targets run Monday to Friday 09:00-17:00 London time."""
    from processes.resolution.models import ServiceHours

    with in_tenant(tenant_a, personas["admin"]):
        service = ServiceFactory(owner=personas["process_owner"])
        ServiceHours.objects.create(service=service, calendar=ServiceCalendarFactory(holidays=[]))
        return service


@pytest.fixture
def make_incident(personas, tenant_a, in_tenant):
    def make(**kwargs):
        with in_tenant(tenant_a, personas["agent"]):
            return IncidentFactory(owner=personas["agent"], created_by=personas["agent"], **kwargs)

    return make


@pytest.fixture
def reload(tenant_a, in_tenant):
    def get(incident):
        from processes.resolution.models import Incident

        with in_tenant(tenant_a):
            return Incident.objects.get(pk=incident.pk)

    return get


@pytest.fixture
def move(personas, tenant_a, in_tenant):
    """``move(incident, "start", reason=...)``: a transition by the agent in tenant A."""
    from sms.core.workflow import run_transition

    def take(incident, name, who="agent", reason=""):
        with in_tenant(tenant_a, personas[who]):
            return run_transition(incident, name, by=personas[who], reason=reason)

    return take
