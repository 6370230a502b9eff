"""Configuration items and the relationships between them (clause 9.1)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from sms.core.models import Record, TrackedModel
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from ..choices import CIState, MasterCopyPolicy, RelationshipKind, ServiceState
from ..hooks import change_reference_errors

S = CIState
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# An RFC reference as the change app numbers them (CHG-123); other systems' keys are
# accepted too (RFC-2024-001), as long as they look like an identifier.
CHANGE_REFERENCE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$")


@condition("The CI is a component of a live service; take it out of the service first.")
def not_in_live_service(ci: ConfigurationItem) -> bool:
    return not ci.services.filter(state=ServiceState.LIVE).exists()


class ConfigurationItem(WorkflowModel, Record):
    """A configuration item in the CMDB (clause 9.1).

    Carries what 9.1 asks to record: description, relationships with other CIs
    (``Relationship``) and with service components (``ServiceComponent``), status,
    version, location, and the RFCs, problems and known errors that concern it (the
    generic record links). Uniquely identified per tenant (``CI-...``), validated
    against its type's documented definition, with a reference to its master copy in a
    secure library where the type keeps one, and an asset tag and cost fields as the
    interface to financial asset management (which 9.1 keeps out of scope).
    """

    ci_type = models.ForeignKey("cmdb.CIType", on_delete=models.PROTECT, related_name="items", verbose_name="type")
    state = StateField("status", choices=S.choices, default=S.PLANNED)
    version = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=200, blank=True, help_text="Site, room, rack, cloud region or URL.")
    attributes = models.JSONField(default=dict, blank=True, help_text="Values of the attributes its type defines.")
    serial_number = models.CharField(max_length=100, blank=True)
    supplier = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supplied_items",
        limit_choices_to={"party_type": "supplier"},
    )
    # The interface to financial asset management: the asset tag is the key the
    # finance system knows the item by; costs are recorded, not depreciated, here.
    asset_tag = models.CharField(max_length=64, blank=True)
    purchase_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code, e.g. EUR.")
    purchase_date = models.DateField(null=True, blank=True)
    warranty_expires = models.DateField(null=True, blank=True)
    cost_centre = models.CharField(max_length=64, blank=True)
    master_copy_location = models.CharField(
        max_length=500,
        blank=True,
        help_text="Where the master copy is kept in a secure library (path, repository URL, safe).",
    )
    master_copy_sha256 = models.CharField(
        "master copy SHA-256", max_length=64, blank=True, help_text="Checksum of the master copy, 64 hex digits."
    )
    last_change_reference = models.CharField(
        max_length=40,
        blank=True,
        help_text="The request for change the CI was last changed under (required for controlled types).",
    )
    # Set when an auditor checks the record against reality (CMDB audits, 9.1); a CI
    # not verified for a while is reported as stale by the data-quality checks.
    last_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta(Record.Meta):
        verbose_name = "configuration item"
        constraints = [
            *Record.Meta.constraints,
            models.UniqueConstraint(
                fields=["tenant", "asset_tag"],
                condition=~models.Q(asset_tag=""),
                name="cmdb_ci_tenant_asset_tag_uniq",
                violation_error_message="Another CI already has this asset tag.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "ci_type", "-number"], name="cmdb_ci_type_idx"),
            models.Index(fields=["tenant", "state", "-number"], name="cmdb_ci_state_idx"),
            models.Index(fields=["tenant", "owner", "-number"], name="cmdb_ci_owner_idx"),
            models.Index(fields=["tenant", "location"], name="cmdb_ci_location_idx"),
            models.Index(fields=["tenant", "serial_number"], name="cmdb_ci_serial_idx"),
            search_index("cmdb_ci_search_idx", "title", "description"),
        ]

    # --- lifecycle ---------------------------------------------------------------------
    @transition(source=S.PLANNED, target=S.IN_BUILD, label="Start build")
    def start_build(self, by=None, reason=""):
        pass

    @transition(source=[S.PLANNED, S.IN_BUILD], target=S.LIVE, label="Put into live use")
    def go_live(self, by=None, reason=""):
        pass

    @transition(source=S.LIVE, target=S.MAINTENANCE, label="Start maintenance", style="secondary")
    def start_maintenance(self, by=None, reason=""):
        pass

    @transition(source=S.MAINTENANCE, target=S.LIVE, label="End maintenance")
    def end_maintenance(self, by=None, reason=""):
        pass

    @transition(
        source=[S.PLANNED, S.IN_BUILD, S.LIVE, S.MAINTENANCE],
        target=S.RETIRED,
        label="Retire",
        conditions=[not_in_live_service],
        reason_required=True,
        style="danger",
    )
    def retire(self, by=None, reason=""):
        pass

    @transition(source=S.RETIRED, target=S.LIVE, label="Reinstate", reason_required=True, style="secondary")
    def reinstate(self, by=None, reason=""):
        pass

    @transition(source=S.RETIRED, target=S.DISPOSED, label="Dispose of", reason_required=True, style="danger")
    def dispose(self, by=None, reason=""):
        pass

    # --- validation --------------------------------------------------------------------
    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        ci_type = self.ci_type if self.ci_type_id else None
        if ci_type is None:
            errors["ci_type"] = ["A CI type is required."]
        else:
            if self._state.adding and not ci_type.is_active:
                errors["ci_type"] = [f"The type {ci_type.name} is no longer in use."]
            cleaned, problems = ci_type.check_attributes(self.attributes)
            if problems:
                errors["attributes"] = [f"{name}: {' '.join(msgs)}" for name, msgs in problems.items()]
            else:
                self.attributes = cleaned
            errors.update(self._master_copy_errors(ci_type))
        if self.purchase_cost is not None and self.purchase_cost < 0:
            errors["purchase_cost"] = ["A cost cannot be negative."]
        if self.currency and not CURRENCY_RE.match(self.currency):
            errors["currency"] = ["Use a three-letter ISO 4217 code in capitals, e.g. EUR."]
        if self.purchase_cost is not None and not self.currency:
            errors["currency"] = ["Give the currency of the purchase cost."]
        if self.last_change_reference and not CHANGE_REFERENCE_RE.match(self.last_change_reference):
            errors["last_change_reference"] = ["Expected a change reference such as CHG-42."]
        if self.supplier_id is not None and not self.supplier.is_supplier:
            errors["supplier"] = [f"{self.supplier} is not a supplier."]
        if errors:
            raise ValidationError(errors)

    def _master_copy_errors(self, ci_type) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        has_location, has_sum = bool(self.master_copy_location.strip()), bool(self.master_copy_sha256)
        if self.master_copy_sha256:
            self.master_copy_sha256 = self.master_copy_sha256.strip().lower()
            if not SHA256_RE.match(self.master_copy_sha256):
                errors["master_copy_sha256"] = ["Expected a SHA-256 checksum: 64 hexadecimal digits."]
        if ci_type.master_copy == MasterCopyPolicy.NONE:
            if has_location or has_sum:
                errors["master_copy_location"] = [f"CIs of type {ci_type.name} do not keep a master copy."]
        elif ci_type.master_copy == MasterCopyPolicy.REQUIRED:
            if not has_location:
                errors["master_copy_location"] = [
                    f"CIs of type {ci_type.name} need the location of their master copy in the secure library."
                ]
            if not has_sum:
                errors.setdefault("master_copy_sha256", ["Give the checksum of the master copy."])
        elif has_location != has_sum:
            field = "master_copy_sha256" if has_location else "master_copy_location"
            errors.setdefault(field, ["A master copy is referenced by its location and its checksum together."])
        return errors

    def change_control_errors(self, reason: str, change_reference: str) -> dict[str, list[str]]:
        """What an update of this CI lacks under change control (clause 9.1, 9.2 a)."""
        if not self.ci_type.under_change_control:
            return {}
        errors = {}
        if not (reason or "").strip():
            errors["change_reason"] = [
                f"CIs of type {self.ci_type.name} are under change control: say why this change is made."
            ]
        if not (change_reference or "").strip():
            errors["last_change_reference"] = [
                f"CIs of type {self.ci_type.name} are under change control: give the RFC this change is made under."
            ]
        else:
            refused = change_reference_errors(self, change_reference)
            if refused:
                errors["last_change_reference"] = refused
        return errors


class Relationship(TrackedModel):
    """A typed, directed relationship between two CIs, read "source <kind> target"
    (clause 9.1 b). Which kinds a CI may have is set by its type."""

    source = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="outgoing")
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    target = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="incoming")
    note = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["source_id", "kind", "target_id"]
        constraints = [
            # Tenant-first: also the index that walks from a CI to what it relates to.
            models.UniqueConstraint(
                fields=["tenant", "source", "kind", "target"],
                name="cmdb_relationship_uniq",
                violation_error_message="These CIs already have this relationship.",
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")),
                name="cmdb_relationship_not_self",
                violation_error_message="A CI cannot have a relationship with itself.",
            ),
        ]
        indexes = [
            # Walks from a CI to what relates to it (impact analysis downstream).
            models.Index(fields=["tenant", "target", "kind"], name="cmdb_relationship_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source.reference} {self.get_kind_display()} {self.target.reference}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.source_id is None or self.target_id is None:
            return
        if self.source_id == self.target_id:
            errors["target"] = ["A CI cannot have a relationship with itself."]
        elif self.kind and not self.source.ci_type.allows(self.kind):
            allowed = ", ".join(RelationshipKind(k).label for k in self.source.ci_type.allowed_relationships)
            errors["kind"] = [
                f"A {self.source.ci_type.name} cannot have a '{RelationshipKind(self.kind).label}' relationship"
                + (f"; allowed: {allowed}." if allowed else "; its type allows none.")
            ]
        for field, ci in (("source", self.source), ("target", self.target)):
            if ci.state == CIState.DISPOSED:
                errors.setdefault(field, []).append(f"{ci.reference} has been disposed of.")
        if errors:
            raise ValidationError(errors)
