"""Access checks shared by every browser view.

A page under ``/t/<tenant-slug>/`` needs a signed-in user with an active membership
there (the tenant middleware resolved it, or answered 404) and the capability the
view names. Without the capability the answer is 403 with the reason, the same rule
the API applies, because both ask ``Membership.can``.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404


def require_capability(request, capability: str) -> None:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such tenant.")
    if capability and not membership.can(capability):
        raise PermissionDenied(f"Your role in this tenant does not allow this ({capability}).")


class TenantViewMixin(LoginRequiredMixin):
    """Signed in, a member of the URL's tenant, and holding ``capability``."""

    capability: str = ""

    def get_capability(self) -> str:
        return self.capability

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        require_capability(request, self.get_capability())
        return super().dispatch(request, *args, **kwargs)

    @property
    def tenant(self):
        return self.request.tenant

    @property
    def membership(self):
        return self.request.membership


def tenant_url_kwargs(request, **kwargs) -> dict:
    return {"tenant_slug": request.tenant.slug, **kwargs}
