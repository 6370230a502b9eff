"""Navigation entry of the parties."""

from __future__ import annotations

from sms.core.registry import NavEntry, shell


def register() -> None:
    shell.add_nav(
        NavEntry("Services and configuration", "Customers and suppliers", "parties:list", "party.view", order=44)
    )
