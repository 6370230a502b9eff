"""Navigation of the CMDB and the catalogue of services."""

from __future__ import annotations

from sms.core.registry import NavEntry, shell

SECTION = "Services and configuration"


def register() -> None:
    shell.add_nav(NavEntry(SECTION, "Service catalogue", "services:list", "service.view", order=40))
    shell.add_nav(NavEntry(SECTION, "Configuration items", "cis:list", "ci.view", order=41))
    shell.add_nav(NavEntry(SECTION, "CI types", "citypes:list", "citype.view", order=42))
    shell.add_nav(NavEntry(SECTION, "Baselines", "baselines:list", "baseline.view", order=43))
    shell.add_nav(NavEntry(SECTION, "CMDB health", "cis:health", "ci.view", order=44))
    shell.add_nav(NavEntry(SECTION, "CMDB audits", "cmdb-audits:list", "cmdbaudit.view", order=45))
