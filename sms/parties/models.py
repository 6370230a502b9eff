"""The parties the service provider deals with (clauses 4.2, 6.1, 7.1 and 7.2)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from sms.core.models import TrackedModel
from sms.tenancy import context

from .choices import TYPES_WITH_RELATIONSHIP_MANAGER, PartyType


def is_tenant_member(user_id: int | None) -> bool:
    if user_id is None:
        return True
    from sms.tenancy.models import Membership

    return Membership.objects.filter(user_id=user_id, is_active=True, user__is_active=True).exists()


class Party(TrackedModel):
    """A customer, supplier, internal group or other interested party of the service
    provider (clauses 7.1 and 7.2 for customers and suppliers, 6.1 for internal groups
    that provide service components, 4.1 and 4.4 for interested parties).

    Customers and suppliers name the member of the provider's staff who is responsible
    for the relationship: the customer relationship and satisfaction (7.1), or the
    supplier's contract and performance (7.2).
    """

    name = models.CharField(max_length=200)
    party_type = models.CharField("type", max_length=20, choices=PartyType.choices)
    description = models.TextField(blank=True)
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="responsible for the relationship",
        help_text="Member of the service provider's staff who manages this customer or supplier relationship.",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    address = models.TextField(blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive parties stay on record (contracts, history) but are not offered for new use."
    )

    class Meta:
        verbose_name = "party"
        verbose_name_plural = "parties"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "party_type",
                Lower("name"),
                name="parties_party_tenant_type_name_uniq",
                violation_error_message="A party of this type with this name already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "party_type", "name"], name="parties_party_type_idx"),
            models.Index(fields=["tenant", "name"], name="parties_party_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.name = (self.name or "").strip()
        if not self.name:
            errors["name"] = "A name is required."
        if self.relationship_manager_id is not None:
            if self.party_type not in TYPES_WITH_RELATIONSHIP_MANAGER:
                errors["relationship_manager"] = "Only customers and suppliers have a relationship manager."
            elif context.current_tenant_id() is not None and not is_tenant_member(self.relationship_manager_id):
                errors["relationship_manager"] = "The responsible person must be a member of this tenant."
        if errors:
            raise ValidationError(errors)

    @property
    def is_customer(self) -> bool:
        return self.party_type == PartyType.CUSTOMER

    @property
    def is_supplier(self) -> bool:
        return self.party_type == PartyType.SUPPLIER


class Contact(TrackedModel):
    """A person at a party whom the service provider deals with (clauses 7.1, 7.2).

    Contacts need not be users of the application: a customer's service manager or a
    supplier's account manager is recorded here, with how to reach them.
    """

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    job_title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True, help_text="What the contact is responsible for, availability, escalation.")
    is_primary = models.BooleanField(default=False, help_text="The first person to contact at this party.")

    class Meta:
        ordering = ["party_id", "-is_primary", "name", "id"]
        indexes = [
            models.Index(fields=["tenant", "party", "name"], name="parties_contact_party_idx"),
            models.Index(fields=["tenant", "name"], name="parties_contact_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.party})" if self.party_id else self.name

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "A name is required."})
