"""Home-page panels of change management: the changes waiting for my decision."""

from __future__ import annotations

from sms.core.registry import HomePanel, shell
from sms.tenancy.roles import Role

PANEL_ROWS = 8


def awaiting_my_decision(request) -> dict:
    from .services import awaiting_my_decision as inbox

    qs = inbox(request.user)
    return {"rows": list(qs[:PANEL_ROWS]), "total": qs.count()}


def register() -> None:
    shell.add_panel(
        HomePanel(
            code="changes_awaiting_my_decision",
            title="Changes awaiting my approval",
            template="panels/record_rows.html",
            roles=(Role.CHANGE_APPROVER, Role.PROCESS_OWNER),
            capability="change.approve",
            context=awaiting_my_decision,
            order=7,
        )
    )
