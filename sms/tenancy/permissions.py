"""DRF permission classes backed by the capability matrix."""

from __future__ import annotations

from rest_framework import permissions

ACTION_FOR_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


def required_capability(request, view) -> str | None:
    """The capability a request needs: the view's own or ``<area>.<action>``."""
    action = getattr(view, "action", None)
    per_action = getattr(view, "action_capabilities", {}) or {}
    if action in per_action:
        return per_action[action]
    cap = getattr(view, "required_capability", None)
    if cap:
        return cap
    area = getattr(view, "capability_area", None)
    if area is None:
        return None
    return f"{area}.{ACTION_FOR_METHOD.get(request.method, 'update')}"


class HasCapability(permissions.BasePermission):
    """Authenticated, a member of the current tenant, and holding the capability.

    Views without a capability (``/me/``, the token endpoint) only need a membership.
    """

    message = "Your role in this tenant does not allow this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        membership = getattr(request._request, "membership", None)
        if membership is None:
            self.message = "No tenant selected: use a token, or choose a tenant in the browser first."
            return False
        cap = required_capability(request, view)
        if cap is None:
            return True
        if membership.can(cap):
            return True
        self.message = f"Your role in this tenant does not allow this ({cap})."
        return False
