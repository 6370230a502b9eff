"""Fixtures of the CMDB tests: a CI type and a few CIs in tenant A (acme)."""

from __future__ import annotations

import pytest

from sms.tenancy import context
from tests.factories import CITypeFactory, ConfigurationItemFactory


@pytest.fixture
def as_admin(personas, tenant_a):
    """``with as_admin():`` -- set up data in tenant A as its administrator."""
    return lambda: context.tenant_context(tenant_a, personas["admin"])


@pytest.fixture
def server_type(as_admin):
    with as_admin():
        return CITypeFactory(name="Server", code="server")


@pytest.fixture
def controlled_type(as_admin):
    with as_admin():
        return CITypeFactory(name="Firewall", code="firewall", under_change_control=True)


@pytest.fixture
def make_ci(as_admin, server_type):
    def make(**fields):
        fields.setdefault("ci_type", server_type)
        with as_admin():
            return ConfigurationItemFactory(**fields)

    return make
