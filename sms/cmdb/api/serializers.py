from __future__ import annotations

from collections.abc import Callable

from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sms.core.api.serializers import MemberField, RecordSerializer, TenantModelSerializer, UserSummarySerializer
from sms.parties.choices import PartyType
from sms.parties.models import Party

from ..choices import (
    CI_INITIAL_STATES,
    CI_STATE_COLOURS,
    CRITICALITY_COLOURS,
    SERVICE_STATE_COLOURS,
    CIState,
    ImpactDirection,
    RelationshipKind,
    ServiceState,
)
from ..models import Baseline, CIType, CMDBAudit, ConfigurationItem, Relationship, Service
from ..schema import normalise_schema, schema_errors
from ..services import DEFAULT_IMPACT_DEPTH, DEFAULT_IMPACT_LIMIT, MAX_IMPACT_DEPTH, MAX_IMPACT_LIMIT


@extend_schema_field(OpenApiTypes.INT)
class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key resolved through a queryset built per request, in the current
    tenant (a queryset written at class level would be evaluated without one)."""

    def __init__(self, scoped: Callable, **kwargs):
        self.scoped = scoped
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scoped()


def _ref(obj) -> dict | None:
    if obj is None:
        return None
    return {"id": obj.pk, "reference": obj.reference, "title": obj.title}


def _by_number(records) -> list:
    # Sorted here rather than in SQL, so a prefetched list is reused as it is.
    return sorted(records, key=lambda r: r.number)


# --- CI types ------------------------------------------------------------------------------------
class CITypeSerializer(TenantModelSerializer):
    allowed_relationships = serializers.ListField(
        child=serializers.ChoiceField(choices=RelationshipKind.choices), required=False, max_length=20
    )
    attribute_schema = serializers.JSONField(required=False)
    ci_count = serializers.SerializerMethodField(help_text="How many CIs have this type.")

    class Meta:
        model = CIType
        fields = [
            "id",
            "name",
            "code",
            "description",
            "attribute_schema",
            "allowed_relationships",
            "under_change_control",
            "master_copy",
            "is_active",
            "ci_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_ci_count(self, obj) -> int:
        annotated = getattr(obj, "ci_count", None)  # lists annotate it; a saved instance counts
        return annotated if annotated is not None else obj.items.count()

    def validate_attribute_schema(self, value):
        problems = schema_errors(value)
        if problems:
            raise serializers.ValidationError(problems)
        return normalise_schema(value)

    def validate_allowed_relationships(self, value):
        return sorted(set(value))

    def validate_description(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Describe what a CI of this type is: the definition is required.")
        return value.strip()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        others = CIType.objects.all()
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        errors = {}
        if "code" in attrs and others.filter(code=attrs["code"]).exists():
            errors["code"] = ["Another CI type has this code."]
        name = attrs.get("name", "").strip()
        if name and others.annotate(lname=Lower("name")).filter(lname=name.lower()).exists():
            errors["name"] = ["Another CI type has this name."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CITypeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CIType
        fields = ["id", "name", "code", "under_change_control", "master_copy"]


# --- configuration items ---------------------------------------------------------------------------
class ConfigurationItemSerializer(RecordSerializer):
    ci_type = ScopedRelatedField(lambda: CIType.objects.all())
    ci_type_detail = CITypeBriefSerializer(source="ci_type", read_only=True)
    state = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in CI_INITIAL_STATES],
        required=False,
        help_text="Only when registering the CI; afterwards the status moves through transitions.",
    )
    colour = serializers.SerializerMethodField()
    attributes = serializers.JSONField(
        required=False, help_text="Values of the type's attributes. PATCH merges; a null value removes one."
    )
    supplier = ScopedRelatedField(
        lambda: Party.objects.filter(party_type=PartyType.SUPPLIER), required=False, allow_null=True
    )
    supplier_name = serializers.CharField(source="supplier.name", read_only=True, default=None)
    services = serializers.SerializerMethodField()
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why the CI is changed; required for CIs whose type is under change control.",
    )

    class Meta:
        model = ConfigurationItem
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "ci_type",
            "ci_type_detail",
            "state",
            "state_label",
            "colour",
            "version",
            "location",
            "attributes",
            "serial_number",
            "supplier",
            "supplier_name",
            "asset_tag",
            "purchase_cost",
            "currency",
            "purchase_date",
            "warranty_expires",
            "cost_centre",
            "master_copy_location",
            "master_copy_sha256",
            "last_change_reference",
            "services",
            "change_reason",
        ]

    def get_colour(self, obj) -> str:
        return CI_STATE_COLOURS.get(obj.state, "grey")

    def get_services(self, obj) -> list[dict]:
        return [_ref(s) for s in _by_number(obj.services.all())]

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A name is required.")
        return value.strip()

    def validate_master_copy_sha256(self, value: str) -> str:
        return value.strip().lower()

    def validate_currency(self, value: str) -> str:
        return value.strip().upper()

    def validate_last_change_reference(self, value: str) -> str:
        return value.strip()

    def validate(self, attrs):
        instance = self.instance
        reason = attrs.pop("change_reason", "")
        state = attrs.pop("state", None)
        errors: dict = {}
        if instance is not None:
            if state is not None and state != instance.state:
                errors["state"] = ["The status changes through the CI's transitions, not by editing it."]
            if "ci_type" in attrs and attrs["ci_type"] != instance.ci_type:
                errors["ci_type"] = ["The type of a CI cannot change; register a new CI of the other type."]
            errors.update(instance.change_control_errors(reason, attrs.get("last_change_reference", "")))
        ci_type = attrs.get("ci_type") or (instance.ci_type if instance else None)
        if ci_type is not None and ("attributes" in attrs or instance is None):
            values = attrs.get("attributes", {})
            if instance is not None and isinstance(values, dict):
                values = {**instance.attributes, **values}
            cleaned, problems = ci_type.check_attributes(values)
            if problems:
                # Per attribute ({"ram_gb": [...]}), or one message when it is not an object at all.
                errors["attributes"] = (
                    problems.get("attributes", problems) if not isinstance(values, dict) else problems
                )
            else:
                attrs["attributes"] = cleaned
        if errors:
            raise serializers.ValidationError(errors)
        attrs = super().validate(attrs)
        if instance is None and state is not None:
            attrs["state"] = state
        self.change_reason = reason.strip()
        return attrs


class CIBriefSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="ci_type.name", read_only=True)

    class Meta:
        model = ConfigurationItem
        fields = ["id", "reference", "title", "type", "state"]


# --- relationships ---------------------------------------------------------------------------------
class RelationshipSerializer(TenantModelSerializer):
    source = ScopedRelatedField(lambda: ConfigurationItem.objects.all())
    target = ScopedRelatedField(lambda: ConfigurationItem.objects.all())
    source_detail = CIBriefSerializer(source="source", read_only=True)
    target_detail = CIBriefSerializer(source="target", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    created_by = UserSummarySerializer(read_only=True)
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why; required when the source CI's type is under change control.",
    )

    class Meta:
        model = Relationship
        fields = [
            "id",
            "source",
            "source_detail",
            "kind",
            "kind_label",
            "target",
            "target_detail",
            "note",
            "change_reason",
            "created_at",
            "created_by",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        reason = attrs.pop("change_reason", "").strip()
        attrs = super().validate(attrs)
        source, target, kind = attrs["source"], attrs["target"], attrs["kind"]
        if Relationship.objects.filter(source=source, kind=kind, target=target).exists():
            raise serializers.ValidationError({"kind": ["These CIs already have this relationship."]})
        if source.ci_type.under_change_control and not reason:
            raise serializers.ValidationError(
                {
                    "change_reason": [
                        f"CIs of type {source.ci_type.name} are under change control: "
                        "say why this relationship is added."
                    ]
                }
            )
        self.change_reason = reason
        return attrs


class CIRelationshipSerializer(serializers.ModelSerializer):
    """A relationship seen from one CI: the other end and the label read from this side."""

    direction = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()
    other = serializers.SerializerMethodField()

    class Meta:
        model = Relationship
        fields = ["id", "kind", "direction", "label", "other", "note", "created_at"]

    def _outgoing(self, obj) -> bool:
        return obj.source_id == self.context["ci"].pk

    def get_direction(self, obj) -> str:
        return "outgoing" if self._outgoing(obj) else "incoming"

    def get_label(self, obj) -> str:
        from ..services import relationship_label

        return relationship_label(obj, inverse=not self._outgoing(obj))

    def get_other(self, obj) -> dict:
        return CIBriefSerializer(obj.target if self._outgoing(obj) else obj.source).data


# --- services ----------------------------------------------------------------------------------------
class ServiceSerializer(RecordSerializer):
    state = serializers.ChoiceField(
        choices=[(ServiceState.PIPELINE, "Pipeline"), (ServiceState.LIVE, "Live")],
        required=False,
        help_text="Only when adding the service to the catalogue; afterwards through transitions.",
    )
    colour = serializers.SerializerMethodField()
    criticality_colour = serializers.SerializerMethodField()
    customers = ScopedRelatedField(
        lambda: Party.objects.filter(party_type=PartyType.CUSTOMER), many=True, required=False
    )
    components = ScopedRelatedField(
        lambda: ConfigurationItem.objects.exclude(state=CIState.DISPOSED), many=True, required=False
    )
    depends_on = ScopedRelatedField(lambda: Service.objects.all(), many=True, required=False)
    customers_detail = serializers.SerializerMethodField()
    components_detail = serializers.SerializerMethodField()
    depends_on_detail = serializers.SerializerMethodField()
    needed_by_detail = serializers.SerializerMethodField()
    change_reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)

    class Meta:
        model = Service
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "colour",
            "criticality",
            "criticality_colour",
            "hours_of_service",
            "is_customer_facing",
            "customers",
            "customers_detail",
            "components",
            "components_detail",
            "depends_on",
            "depends_on_detail",
            "needed_by_detail",
            "change_reason",
        ]

    def get_colour(self, obj) -> str:
        return SERVICE_STATE_COLOURS.get(obj.state, "grey")

    def get_criticality_colour(self, obj) -> str:
        return CRITICALITY_COLOURS.get(obj.criticality, "grey")

    def get_customers_detail(self, obj) -> list[dict]:
        return [{"id": p.pk, "name": p.name} for p in obj.customers.all()]

    def get_components_detail(self, obj) -> list[dict]:
        return CIBriefSerializer(_by_number(obj.components.all()), many=True).data

    def get_depends_on_detail(self, obj) -> list[dict]:
        return [_ref(s) for s in _by_number(obj.depends_on.all())]

    def get_needed_by_detail(self, obj) -> list[dict]:
        return [_ref(s) for s in _by_number(obj.needed_by.all())]

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A name is required.")
        return value.strip()

    def validate(self, attrs):
        state = attrs.pop("state", None)
        self.change_reason = attrs.pop("change_reason", "").strip()
        if self.instance is not None:
            if state is not None and state != self.instance.state:
                raise serializers.ValidationError(
                    {"state": ["The status changes through the service's transitions, not by editing it."]}
                )
            if any(s.pk == self.instance.pk for s in attrs.get("depends_on", [])):
                raise serializers.ValidationError({"depends_on": ["A service cannot depend on itself."]})
        links = self._links(attrs)  # the base validation reads attributes, which links are not
        attrs = super().validate(attrs)
        if self.instance is None and state is not None:
            attrs["state"] = state
        return {**attrs, **links}

    def _links(self, attrs) -> dict:
        return {name: attrs.pop(name) for name in ("customers", "components", "depends_on") if name in attrs}

    def create(self, validated_data):
        from ..services import set_service_links

        links = self._links(validated_data)
        service = Service.objects.create(**validated_data)
        set_service_links(service, **links, reason=f"Added with {service.reference}")
        return service

    def update(self, instance, validated_data):
        from ..services import set_service_links

        links = self._links(validated_data)
        instance = super().update(instance, validated_data)
        set_service_links(instance, **links, reason=self.change_reason)
        return instance


# --- impact analysis ---------------------------------------------------------------------------------
class ImpactQuerySerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=ImpactDirection.choices, default=ImpactDirection.DOWN)
    depth = serializers.IntegerField(min_value=1, max_value=MAX_IMPACT_DEPTH, default=DEFAULT_IMPACT_DEPTH)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_IMPACT_LIMIT, default=DEFAULT_IMPACT_LIMIT)


class ImpactNodeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="ci or service")
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    type = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    path = serializers.ListField(child=serializers.CharField())
    via = serializers.CharField()
    via_label = serializers.CharField()
    edge = serializers.DictField(child=serializers.CharField())


class ImpactResultSerializer(serializers.Serializer):
    origin = serializers.DictField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="The most nodes per direction this answer could hold.")
    truncated = serializers.BooleanField(
        help_text="More nodes were reachable within the depth than the limit allowed: the nearest came back."
    )
    count = serializers.IntegerField()
    nodes = ImpactNodeSerializer(many=True)


# --- baselines -----------------------------------------------------------------------------------------
class BaselineSerializer(serializers.ModelSerializer):
    """Take a baseline by naming it and, optionally, what it covers; everything else is
    recorded by the server and can never change."""

    taken_by = UserSummarySerializer(read_only=True)
    cis = ScopedRelatedField(lambda: ConfigurationItem.objects.all(), many=True, required=False, write_only=True)
    services = ScopedRelatedField(lambda: Service.objects.all(), many=True, required=False, write_only=True)
    ci_types = ScopedRelatedField(lambda: CIType.objects.all(), many=True, required=False, write_only=True)
    include_dependencies = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="Also take everything the named CIs and services depend on.",
    )

    class Meta:
        model = Baseline
        fields = [
            "id",
            "name",
            "description",
            "taken_at",
            "taken_by",
            "scope",
            "item_count",
            "sha256",
            "cis",
            "services",
            "ci_types",
            "include_dependencies",
        ]
        read_only_fields = ["taken_at", "scope", "item_count", "sha256"]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A name is required.")
        return value.strip()

    def create(self, validated_data):
        from ..services import take_baseline

        scope = {
            "cis": sorted(c.pk for c in validated_data.pop("cis", [])),
            "services": sorted(s.pk for s in validated_data.pop("services", [])),
            "ci_types": sorted(t.pk for t in validated_data.pop("ci_types", [])),
            "include_dependencies": validated_data.pop("include_dependencies", False),
        }
        return take_baseline(
            validated_data["name"],
            description=validated_data.get("description", ""),
            scope=scope,
            by=self.context["request"].user,
        )


class BaselineDetailSerializer(BaselineSerializer):
    verified = serializers.SerializerMethodField(help_text="The snapshot still matches its recorded checksum.")

    class Meta(BaselineSerializer.Meta):
        fields = [*BaselineSerializer.Meta.fields, "verified", "items"]
        read_only_fields = [*BaselineSerializer.Meta.read_only_fields, "items"]

    def get_verified(self, obj) -> bool:
        from ..services import verify_baseline

        return verify_baseline(obj)


class BaselineDiffQuerySerializer(serializers.Serializer):
    against = serializers.CharField(
        default="current", help_text="Another baseline's id, or 'current' for the CMDB as it is now."
    )

    def validate_against(self, value: str):
        value = value.strip().lower()
        if value == "current":
            return None
        if not value.isdigit():
            raise serializers.ValidationError("Give a baseline id or 'current'.")
        baseline = Baseline.objects.filter(pk=int(value)).first()
        if baseline is None:
            raise serializers.ValidationError(f"No baseline {value} in this tenant.")
        return baseline


# --- CMDB audits ---------------------------------------------------------------------------------------
class CMDBAuditSerializer(RecordSerializer):
    """A CMDB audit (clause 9.1). ``ci_types`` and ``services`` set the scope (neither:
    the whole CMDB); the automatic results are read-only, produced when it starts."""

    state_label = serializers.SerializerMethodField()
    colour = serializers.SerializerMethodField()
    auditor = MemberField(required=False, allow_null=True)
    auditor_detail = UserSummarySerializer(source="auditor", read_only=True)
    area_owner_detail = UserSummarySerializer(source="area_owner", read_only=True)
    ci_types = ScopedRelatedField(lambda: CIType.objects.all(), many=True, required=False, write_only=True)
    services = ScopedRelatedField(lambda: Service.objects.all(), many=True, required=False, write_only=True)
    totals = serializers.SerializerMethodField(help_text="Totals of the automatic checks, once run.")

    class Meta:
        model = CMDBAudit
        fields = [
            *RecordSerializer.RECORD_FIELDS,
            "state",
            "state_label",
            "colour",
            "auditor",
            "auditor_detail",
            "area_owner_detail",
            "scope",
            "ci_types",
            "services",
            "stale_after_days",
            "planned_for",
            "activity",
            "checked_at",
            "totals",
            "deficiencies",
            "actions_taken",
            "completed_at",
        ]
        read_only_fields = ["state", "scope", "activity", "checked_at", "completed_at"]

    def get_colour(self, obj) -> str:
        from ..choices import AUDIT_STATE_COLOURS

        return AUDIT_STATE_COLOURS.get(obj.state, "grey")

    def get_totals(self, obj) -> dict | None:
        return (obj.results or {}).get("totals") if "results" not in obj.get_deferred_fields() else None

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()

    def validate(self, attrs):
        from ..choices import AuditState
        from ..quality import area_owner_id, normalise_scope

        instance = self.instance
        types, services = attrs.pop("ci_types", None), attrs.pop("services", None)
        errors: dict[str, list[str]] = {}
        if types is not None or services is not None:
            current = instance.scope if instance is not None else {}
            attrs["scope"] = normalise_scope(
                {
                    "ci_types": [t.pk for t in types] if types is not None else current.get("ci_types"),
                    "services": [s.pk for s in services] if services is not None else current.get("services"),
                }
            )
        if instance is not None:
            if instance.state in (AuditState.COMPLETED, AuditState.CANCELLED):
                raise serializers.ValidationError(
                    {"non_field_errors": [f"A {instance.get_state_display().lower()} audit is not changed."]}
                )
            if instance.state != AuditState.PLANNED:
                for name in ("scope", "auditor", "stale_after_days"):
                    if name in attrs and attrs[name] != getattr(instance, name):
                        errors[name] = ["Fixed once the audit has started."]
        auditor = attrs.get("auditor", instance.auditor if instance else None)
        scope = attrs.get("scope", instance.scope if instance else {})
        if auditor is not None and auditor.pk == area_owner_id(scope):
            errors["auditor"] = [
                f"{auditor.username} owns most of the CIs in this scope: an auditor may not audit their own area."
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return super().validate(attrs)


class AuditedCISerializer(serializers.Serializer):
    """One CI verified in a CMDB audit: the record checked against reality."""

    id = serializers.IntegerField(read_only=True)
    ci = ScopedRelatedField(lambda: ConfigurationItem.objects.all())
    ci_detail = CIBriefSerializer(source="ci", read_only=True)
    result = serializers.ChoiceField(choices=[("ok", "Record is accurate"), ("deficient", "Record is deficient")])
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    verified_by = UserSummarySerializer(read_only=True)
    verified_at = serializers.DateTimeField(read_only=True)


class RaiseImprovementSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=250)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()


class HealthQuerySerializer(serializers.Serializer):
    stale_after_days = serializers.IntegerField(min_value=1, max_value=3650, default=365)


class CSVImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="UTF-8 CSV with a header row; see the columns in the documentation.")
    dry_run = serializers.CharField(
        required=False, default="true", help_text="true (default): validate only; false: write every row or none."
    )

    def validate_dry_run(self, value: str) -> bool:
        # A form omits a false checkbox, and DRF reads an omitted boolean as false: parse the text instead.
        text = str(value).strip().lower()
        if text in ("", "true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise serializers.ValidationError("Expected true or false.")
