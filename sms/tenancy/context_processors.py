from sms.core.registry import shell

from .models import Membership
from .roles import has_capability


class _Capabilities:
    """Template helper: ``{% if can.incident__update %}`` (dots are not allowed there)."""

    def __init__(self, roles):
        self._roles = tuple(roles)

    def __getitem__(self, name: str) -> bool:
        return has_capability(self._roles, name.replace("__", "."))

    def __contains__(self, name: str) -> bool:
        return self[name]


def tenancy(request):
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    memberships = []
    if user is not None and user.is_authenticated:
        memberships = list(
            Membership.unscoped.active().filter(user=user).select_related("tenant").order_by("tenant__name")
        )
    return {
        "tenant": tenant,
        "membership": membership,
        "memberships": memberships,
        "other_memberships": [m for m in memberships if tenant is None or m.tenant_id != tenant.pk],
        "can": _Capabilities(membership.roles if membership else ()),
        "nav_sections": shell.nav_for(membership) if tenant is not None else [],
    }
