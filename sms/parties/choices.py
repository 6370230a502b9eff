"""Kinds of party the service provider deals with, with their colours."""

from django.db import models


class PartyType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SUPPLIER = "supplier", "Supplier"
    INTERNAL_GROUP = "internal_group", "Internal group"
    INTERESTED_PARTY = "interested_party", "Other interested party"


PARTY_TYPE_COLOURS = {
    PartyType.CUSTOMER: "blue",
    PartyType.SUPPLIER: "purple",
    PartyType.INTERNAL_GROUP: "teal",
    PartyType.INTERESTED_PARTY: "grey",
}

# Clauses 7.1 and 7.2: each customer and each supplier has one named person of the
# provider who looks after the relationship.
TYPES_WITH_RELATIONSHIP_MANAGER = (PartyType.CUSTOMER, PartyType.SUPPLIER)
