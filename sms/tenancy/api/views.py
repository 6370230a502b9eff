from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from sms.core.api.serializers import UserSummarySerializer
from sms.core.api.views import TenantScopedMixin
from sms.tenancy.filters import MembershipFilterSet
from sms.tenancy.models import ApiToken, Membership

from . import schema  # noqa: F401  (registers the auth schemes)
from . import serializers as s


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class TokenView(APIView):
    """Exchange username, password and tenant slug for an API token of that membership."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]
    keeps_writes_on_error = True  # a refused sign-in is recorded for the lockout (django-axes)

    @extend_schema(request=s.TokenRequestSerializer, responses=s.TokenResponseSerializer)
    def post(self, request):
        ser = s.TokenRequestSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        membership = ser.validated_data["membership"]
        _, key = ApiToken.issue(membership, name=ser.validated_data["name"])
        return Response({"token": key, "tenant": membership.tenant.slug, "roles": membership.roles}, status=201)


class MeView(APIView):
    """Who the caller is, in which tenant, with which roles and capabilities."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        membership = request._request.membership
        others = Membership.unscoped.active().filter(user=request.user).select_related("tenant")
        return Response({
            "user": UserSummarySerializer(request.user).data,
            "tenant": s.TenantSerializer(membership.tenant).data,
            "roles": membership.roles,
            "capabilities": s.capability_sample(membership.roles),
            "memberships": [{"tenant": m.tenant.slug, "name": m.tenant.name, "roles": m.roles} for m in others],
        })


class MembershipViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                        viewsets.GenericViewSet):
    """Members of the current tenant and their roles; tenant admins change roles."""

    serializer_class = s.MembershipSerializer
    queryset = Membership.unscoped.none()
    http_method_names = ["get", "patch", "head", "options"]
    action_capabilities = {
        "list": "member.view", "retrieve": "member.view", "partial_update": "member.manage",
    }
    filterset_class = MembershipFilterSet
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    ordering_fields = ["user__username", "created_at"]

    def scoped_queryset(self):
        return Membership.objects.select_related("user", "tenant").order_by("user__username")
