"""A change reason is kept whole in the record's history, however long the reason the
API accepted (history stores it as text, not in 100 characters)."""

from __future__ import annotations

from sms.parties.models import Party
from sms.tenancy import context
from tests.factories import PartyFactory


def test_long_change_reason_is_kept_whole(api, personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        party = PartyFactory()
    reason = "Renamed after the merger agreed at the board meeting; " * 8  # over 400 characters
    resp = api("admin").patch(
        f"/api/v1/parties/{party.pk}/", {"name": "Renamed", "change_reason": reason}, format="json"
    )
    assert resp.status_code == 200, resp.content
    with context.tenant_context(tenant_a):
        latest = Party.objects.get(pk=party.pk).history.first()
    assert latest.history_change_reason == reason
