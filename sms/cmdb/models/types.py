"""CI types: the documented definition of each type of configuration item (clause 9.1)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from sms.core.models import TrackedModel

from ..choices import MasterCopyPolicy, RelationshipKind
from ..schema import attribute_errors, normalise_schema, schema_errors


class CIType(TrackedModel):
    """The documented definition of one type of CI (clause 9.1: "a documented definition
    of each type of CI").

    It says what the type is for, which attributes its CIs carry (the schema every CI
    of the type is validated against), which relationships they may have, whether
    they are under change control (clause 9.2 a) and whether they keep a master copy
    in a secure library. Tenant administrators maintain the types.
    """

    name = models.CharField(max_length=100)
    code = models.SlugField(max_length=50, help_text="Short stable identifier, e.g. server or licence.")
    description = models.TextField(
        help_text="The definition: what a CI of this type is, where its boundary lies, who is responsible."
    )
    attribute_schema = models.JSONField(
        default=list,
        blank=True,
        help_text='List of {"name", "label", "type", "required", "choices"}; type is one of '
        "text, number, integer, boolean, date, choice.",
    )
    allowed_relationships = ArrayField(
        models.CharField(max_length=20, choices=RelationshipKind.choices),
        default=list,
        blank=True,
        help_text="Kinds of relationship a CI of this type may have towards another CI.",
    )
    under_change_control = models.BooleanField(
        default=True,
        help_text="Changes to CIs of this type go through change management: a reason and an RFC reference "
        "are recorded with every update.",
    )
    master_copy = models.CharField(
        "master copy",
        max_length=10,
        choices=MasterCopyPolicy.choices,
        default=MasterCopyPolicy.NONE,
        help_text="Whether CIs of this type reference a master copy in a secure library.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive types are kept for their CIs but not offered.")

    class Meta:
        verbose_name = "CI type"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="cmdb_citype_tenant_code_uniq"),
            models.UniqueConstraint("tenant", Lower("name"), name="cmdb_citype_tenant_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        problems = schema_errors(self.attribute_schema)
        if problems:
            errors["attribute_schema"] = problems
        else:
            self.attribute_schema = normalise_schema(self.attribute_schema)
        bad = [k for k in self.allowed_relationships or [] if k not in RelationshipKind.values]
        if bad:
            errors["allowed_relationships"] = [f"Unknown relationship kinds: {', '.join(map(str, bad))}."]
        else:
            self.allowed_relationships = sorted(set(self.allowed_relationships or []))
        if errors:
            raise ValidationError(errors)

    def check_attributes(self, values) -> tuple[dict, dict]:
        return attribute_errors(self.attribute_schema or [], values, type_name=f"the type {self.name}")

    def allows(self, kind: str) -> bool:
        return kind in (self.allowed_relationships or [])
