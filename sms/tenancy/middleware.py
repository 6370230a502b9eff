"""Resolve the tenant of a browser request and hold the request in one transaction.

Browser URLs carry the tenant: ``/t/<slug>/...``. The user must hold an active
membership there, or the page is a 404 (we do not reveal that the tenant exists).
The session remembers the last tenant, which the API (session auth) and the admin use.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404

from . import context
from .models import Membership, Tenant

SESSION_KEY = "sms_tenant_id"
SKIP_PREFIXES = ("/static/", "/media/", "/favicon.ico")


def membership_for(user, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    with context.tenant_context(tenant, user):
        return Membership.objects.active().filter(user=user).select_related("tenant", "user").first()


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(SKIP_PREFIXES):
            return self.get_response(request)
        request.tenant = None
        request.membership = None
        user = getattr(request, "user", None)
        context.activate(None, user if user is not None and user.is_authenticated else None)
        try:
            with transaction.atomic():
                return self.get_response(request)
        finally:
            context.activate(None, None)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("tenant_slug")
        user = request.user
        tenant = None
        if slug is not None:
            tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
            if tenant is None or not user.is_authenticated:
                if not user.is_authenticated:
                    return None  # the view's login_required redirects to the login page
                raise Http404("No such tenant.")
        elif user.is_authenticated and SESSION_KEY in request.session:
            tenant = Tenant.objects.filter(pk=request.session[SESSION_KEY], is_active=True).first()
        if tenant is None:
            return None
        membership = membership_for(user, tenant)
        if membership is None:
            if slug is not None:
                raise Http404("No such tenant.")
            request.session.pop(SESSION_KEY, None)
            return None
        request.tenant = tenant
        request.membership = membership
        request.session[SESSION_KEY] = tenant.pk
        context.activate(tenant, user, membership)
        return None
