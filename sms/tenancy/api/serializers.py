from django.contrib.auth import authenticate
from rest_framework import serializers

from sms.core.api.serializers import UserSummarySerializer
from sms.tenancy.models import Membership, Tenant
from sms.tenancy.roles import Role, has_capability


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    tenant = serializers.SlugField(help_text="Slug of the tenant the token acts in.")
    name = serializers.CharField(required=False, default="API token", max_length=100)

    def validate(self, attrs):
        request = self.context.get("request")
        user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError({"non_field_errors": ["Wrong username or password."]})
        tenant = Tenant.objects.filter(slug=attrs["tenant"], is_active=True).first()
        from sms.tenancy import context

        context.set_user(user)
        membership = (
            Membership.unscoped.active().filter(user=user, tenant=tenant).select_related("tenant").first()
            if tenant else None
        )
        if membership is None:
            raise serializers.ValidationError({"tenant": ["You are not a member of this tenant."]})
        attrs["membership"] = membership
        attrs["user"] = user
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    tenant = serializers.SlugField()
    roles = serializers.ListField(child=serializers.CharField())


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "time_zone"]


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    tenant = TenantSerializer(read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)

    class Meta:
        model = Membership
        fields = ["id", "user", "tenant", "roles", "is_active", "created_at"]
        read_only_fields = ["created_at"]


class MeSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    tenant = TenantSerializer()
    roles = serializers.ListField(child=serializers.CharField())
    capabilities = serializers.DictField(child=serializers.BooleanField())
    memberships = serializers.ListField(child=serializers.DictField())


def capability_sample(roles) -> dict[str, bool]:
    from sms.core.registry import kinds

    caps = ["evidence.export", "tenant.manage", "member.manage", "planned.manage", "dashboard.view"]
    for kind in kinds:
        caps += [f"{kind.code}.{a}" for a in ("view", "create", "update", "transition", "approve")]
    return {cap: has_capability(roles, cap) for cap in sorted(set(caps))}
