from django.db.models.functions import Lower
from rest_framework import serializers

from sms.core.api.serializers import MemberField, TenantModelSerializer, UserSummarySerializer

from ..choices import PARTY_TYPE_COLOURS
from ..models import Contact, Party


class ContactSerializer(TenantModelSerializer):
    party_name = serializers.CharField(source="party.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "party",
            "party_name",
            "name",
            "job_title",
            "email",
            "phone",
            "notes",
            "is_primary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class NestedContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "job_title", "email", "phone", "is_primary"]


class PartySerializer(TenantModelSerializer):
    relationship_manager = MemberField(required=False, allow_null=True)
    relationship_manager_detail = UserSummarySerializer(source="relationship_manager", read_only=True)
    party_type_label = serializers.CharField(source="get_party_type_display", read_only=True)
    colour = serializers.SerializerMethodField()
    contacts = NestedContactSerializer(many=True, read_only=True)

    class Meta:
        model = Party
        fields = [
            "id",
            "name",
            "party_type",
            "party_type_label",
            "colour",
            "description",
            "relationship_manager",
            "relationship_manager_detail",
            "email",
            "phone",
            "website",
            "address",
            "is_active",
            "contacts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_colour(self, obj) -> str:
        return PARTY_TYPE_COLOURS.get(obj.party_type, "grey")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        name = (attrs.get("name", getattr(self.instance, "name", "")) or "").strip()
        party_type = attrs.get("party_type", getattr(self.instance, "party_type", None))
        # A friendly 400 before the unique constraint's 409.
        clash = Party.objects.annotate(lname=Lower("name")).filter(lname=name.lower(), party_type=party_type)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if name and clash.exists():
            raise serializers.ValidationError({"name": ["A party of this type with this name already exists."]})
        return attrs
