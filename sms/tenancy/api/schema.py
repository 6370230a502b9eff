"""OpenAPI descriptions of our authentication classes (imported by the API views)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class MembershipTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sms.tenancy.authentication.MembershipTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` from POST /api/v1/auth/token/; the key acts in one tenant.",
        }


class TenantSessionScheme(OpenApiAuthenticationExtension):
    target_class = "sms.tenancy.authentication.TenantSessionAuthentication"
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
