"""API authentication: a token acts as one membership, so in one tenant."""

from __future__ import annotations

from django.db import connection
from django.db.models import Subquery
from django.utils import timezone
from rest_framework import authentication, exceptions

from sms.core.db.batch import fetch_compiled
from sms.core.db.compiled import STR_SENTINEL, LookupCache

from . import context
from .middleware import SESSION_KEY, membership_for
from .models import ApiToken, Membership, Tenant

# The lookups of every token request, compiled to SQL once per process.
LOOKUPS = LookupCache(size=8)
# Row-level security shows a user's memberships to that user only: the token's user is set
# for the membership lookup by the statement before it, in the same message.
_ACT_AS_TOKEN_USER = (
    "SELECT set_config('app.user_id', COALESCE((SELECT user_id::text FROM {table} "
    "WHERE digest = %s AND revoked_at IS NULL), ''), true)"
)


def _live_token(digest):
    return ApiToken.objects.select_related("user").filter(digest=digest, revoked_at__isnull=True).order_by()


def _membership_of_token(digest):
    token = ApiToken.objects.filter(digest=digest, revoked_at__isnull=True).values("membership_id")[:1]
    return Membership.unscoped.active().select_related("tenant").filter(pk=Subquery(token)).order_by()


def token_and_membership(digest: str) -> tuple[ApiToken | None, Membership | None]:
    """The live token with this digest and its active membership, in one round trip."""
    token_lookup = LOOKUPS.compiled("token", _live_token, STR_SENTINEL)
    membership_lookup = LOOKUPS.compiled("membership-of-token", _membership_of_token, STR_SENTINEL)
    if token_lookup is None or membership_lookup is None:
        raise RuntimeError("The token lookups could not be compiled once; see sms.core.db.compiled.")
    act_as = (_ACT_AS_TOKEN_USER.format(table=ApiToken._meta.db_table), [digest])
    try:
        tokens, memberships = fetch_compiled([(token_lookup, digest), (membership_lookup, digest)], before=[act_as])
    finally:
        connection.rls_settings_changed()
    return (tokens[0] if tokens else None), (memberships[0] if memberships else None)


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
        token, membership = token_and_membership(ApiToken.hash_key(key))
        now = timezone.now()
        if token is None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
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
