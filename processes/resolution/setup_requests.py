"""Wiring of service request fulfilment (8.1): the record kind, capabilities, navigation,
home-page panels and demo data. Called from ``ResolutionConfig.ready()``."""

from __future__ import annotations

from sms.core.registry import HomePanel, NavEntry, kinds, shell
from sms.tenancy.roles import Role, grant

from .choices import REQUEST_OPEN_STATES, REQUEST_STATE_COLOURS

PANEL_ROWS = 8
# Everyone but auditors may ask for things and, where a catalogue item names them (by
# role or in person), decide on requests; auditors read only.
STAFF = (Role.AGENT, Role.PROCESS_OWNER, Role.CHANGE_APPROVER, Role.TOP_MANAGEMENT, Role.ADMIN)


def awaiting_my_decision(request) -> dict:
    from .models import ServiceRequest
    from .services_requests import awaiting_decision_by

    qs = awaiting_decision_by(ServiceRequest.objects.all(), request.user, request.membership)
    return {"rows": list(qs.order_by("fulfilment_due_at", "number")[:PANEL_ROWS]), "total": qs.count()}


def my_open_requests(request) -> dict:
    from .models import ServiceRequest

    qs = ServiceRequest.objects.filter(assignee=request.user, state__in=REQUEST_OPEN_STATES)
    return {"rows": list(qs.order_by("fulfilment_due_at", "number")[:PANEL_ROWS]), "total": qs.count()}


def register() -> None:
    from sms.core import demo

    from .demo_requests import seed_requests
    from .models import ServiceRequest

    kinds.register(
        code="request",
        model=ServiceRequest,
        prefix="REQ",
        process="Incident and service request management",
        clause="8.1",
        api_path="service-requests",
        url_namespace="requests",
        state_colours=REQUEST_STATE_COLOURS,
        closed_states=("closed", "rejected", "cancelled"),
    )
    for role in STAFF:
        grant(role, "request.create", "request.decide")
    shell.add_nav(NavEntry("Resolution", "Service requests", "requests:list", "request.view", order=20))
    shell.add_nav(NavEntry("Resolution", "Request catalogue", "requests:catalogue", "request.view", order=21))
    shell.add_nav(NavEntry("Resolution", "My approvals", "requests:approvals", "request.decide", order=22))
    shell.add_nav(NavEntry("Resolution", "Catalogue items", "requests:items", "requestcatalogue.update", order=23))
    shell.add_panel(
        HomePanel(
            code="requests_awaiting_my_decision",
            title="Requests awaiting my approval",
            template="panels/record_rows.html",
            roles=STAFF,
            capability="request.decide",
            context=awaiting_my_decision,
            order=8,
        )
    )
    shell.add_panel(
        HomePanel(
            code="my_open_requests",
            title="My open service requests",
            template="panels/record_rows.html",
            roles=(Role.AGENT,),
            capability="request.view",
            context=my_open_requests,
            order=9,
        )
    )
    demo.register(seed_requests)
