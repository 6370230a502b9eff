"""API authentication: a token acts as one membership, so in one tenant."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from sms.core.db.batch import lookup_one
from sms.core.db.compiled import INT_SENTINEL, STR_SENTINEL, LookupCache

from . import context
from .middleware import SESSION_KEY, membership_for
from .models import ApiToken, Membership, Tenant

# The two lookups of every token request, compiled to SQL once per process.
LOOKUPS = LookupCache(size=8)


def _live_token(digest):
    return ApiToken.objects.select_related("user").filter(digest=digest, revoked_at__isnull=True).order_by()


def _active_membership(pk):
    return Membership.unscoped.active().select_related("tenant").filter(pk=pk).order_by()


class MembershipTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate_header(self, request) -> str:
        return self.keyword

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc
        token = lookup_one(LOOKUPS, "token", _live_token, STR_SENTINEL, ApiToken.hash_key(key))
        now = timezone.now()
        if token is None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        context.activate(None, token.user)
        membership = lookup_one(LOOKUPS, "membership", _active_membership, INT_SENTINEL, token.membership_id)
        if membership is None:
            raise exceptions.AuthenticationFailed("The token's membership is no longer active.")
        context.activate(membership.tenant, token.user, membership)
        request._request.tenant = membership.tenant
        request._request.membership = membership
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """Session (browser) access to the API, in the tenant the session last worked in."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        django_request = request._request
        if getattr(django_request, "membership", None) is None:
            tenant_id = django_request.session.get(SESSION_KEY)
            tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first() if tenant_id else None
            membership = membership_for(user, tenant) if tenant else None
            if membership is not None:
                django_request.tenant = tenant
                django_request.membership = membership
                context.activate(tenant, user, membership)
        return result
