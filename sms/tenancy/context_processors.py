from django.urls import NoReverseMatch, reverse

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
        "nav_sections": _navigation(request, tenant, membership),
    }


def _navigation(request, tenant, membership) -> list[tuple[str, list[dict]]]:
    """Sections of links; the one whose URL is the longest prefix of the page is current."""
    if tenant is None:
        return []
    sections = []
    best = None
    for section, entries in shell.nav_for(membership):
        links = []
        for entry in entries:
            try:
                href = reverse(entry.url_name, kwargs={"tenant_slug": tenant.slug})
            except NoReverseMatch:
                continue
            link = {"label": entry.label, "href": href, "current": False}
            if request.path.startswith(href) and (best is None or len(href) > len(best["href"])):
                best = link
            links.append(link)
        sections.append((section, links))
    if best is not None:
        best["current"] = True
    return sections
