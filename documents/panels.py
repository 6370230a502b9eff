"""Home-page panels and navigation of controlled documents."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sms.core.registry import HomePanel, NavEntry, shell
from sms.tenancy.roles import Role

from .choices import DocumentState, VersionState
from .models import Acknowledgement, Document, DocumentVersion

PANEL_ROWS = 8
REVIEW_HORIZON_DAYS = 30


def due_for_review(request) -> dict:
    today = timezone.localdate()
    qs = Document.objects.filter(
        owner=request.user, state=DocumentState.ACTIVE,
        next_review_date__lte=today + dt.timedelta(days=REVIEW_HORIZON_DAYS),
    )
    rows = list(qs.order_by("next_review_date", "number")[:PANEL_ROWS])
    return {"rows": rows, "total": qs.count(), "today": today}


def to_acknowledge(request) -> dict:
    qs = Acknowledgement.objects.filter(
        user=request.user, acknowledged_at__isnull=True, version__state=VersionState.ISSUED
    )
    rows = list(qs.select_related("version__document").order_by("requested_at", "id")[:PANEL_ROWS])
    return {"rows": rows, "total": qs.count()}


def to_approve(request) -> dict:
    # Someone else's versions only: nobody approves their own (segregation of duties).
    qs = DocumentVersion.objects.filter(state=VersionState.IN_REVIEW).exclude(created_by=request.user)
    rows = list(qs.select_related("document").order_by("submitted_at", "id")[:PANEL_ROWS])
    return {"rows": rows, "total": qs.count()}


def register() -> None:
    shell.add_nav(NavEntry("Management system", "Documents", "documents:list", "document.view", order=60))
    shell.add_nav(NavEntry("Management system", "Process documentation", "documents:processes", "document.view",
                           order=61))
    shell.add_nav(NavEntry("Administration", "Document approvers", "documents:approval-rules",
                           "document.configure", order=210))
    shell.add_panel(HomePanel(
        code="documents_due_for_review", title="Documents due for review",
        template="documents/panels/due_for_review.html",
        roles=tuple(r for r in Role.values if r != Role.AUDITOR), capability="document.view",
        context=due_for_review, order=35,
    ))
    shell.add_panel(HomePanel(
        code="documents_to_acknowledge", title="Documents to read and acknowledge",
        template="documents/panels/to_acknowledge.html", roles=tuple(Role.values), capability="document.view",
        context=to_acknowledge, order=15,
    ))
    shell.add_panel(HomePanel(
        code="document_versions_to_approve", title="Document versions waiting for approval",
        template="documents/panels/to_approve.html", roles=(Role.PROCESS_OWNER, Role.TOP_MANAGEMENT),
        capability="document.approve", context=to_approve, order=25,
    ))
