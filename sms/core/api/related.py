"""Related rows named in a request body, looked up in one round trip.

A record's body names several related rows by id (service, category, caller, group...);
DRF looks each up in its own query while validating. ``BatchedRelatedMixin`` on a
serializer reads all of them first with ``fetch_together`` (one round trip); each field
with ``BatchedFieldMixin`` then takes its row from there. An id that was not found, or a
value that is not a plain id, goes through the field's own lookup as before, so the
messages and rules stay the field's.

Each field's lookup is compiled to SQL once per serializer, field, tenant and user
(``sms.core.db.compiled``): a field's queryset may depend on the tenant and the user
and on nothing else of the request. A field whose queryset depends on more sets
``lookup_cacheable = False`` and is compiled on every request.
"""

from __future__ import annotations

from functools import partial

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.relations import PKOnlyObject

from sms.core.db.batch import fetch_compiled, fetch_together
from sms.core.db.compiled import INT_SENTINEL, Compiled, LookupCache, context_key

LOOKUPS = LookupCache()


class BatchedFieldMixin:
    """A primary-key field that takes its row from the serializer's batch when it is there."""

    lookup_cacheable = True

    def to_internal_value(self, data):
        found = getattr(self.root, "_batched_rows", {}).get(self.field_name)
        if found is not None and found[0] is data:
            return found[1]
        return super().to_internal_value(data)


class BatchedPrimaryKeyRelatedField(BatchedFieldMixin, serializers.PrimaryKeyRelatedField):
    pass


class AttachedManyField(serializers.ManyRelatedField):
    """A to-many relation shown as ids, read from a list of ids that a list page attached
    to each row (the attribute ``attached``) when it is there, and from the relation
    otherwise. Prefetching the relation instead makes Django build a related manager and a
    queryset for every row of the page, which costs more than the rest of the row."""

    def __init__(self, *args, attached: str, **kwargs):
        self.attached = attached
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance):
        ids = getattr(instance, self.attached, None)
        if ids is None:
            return super().get_attribute(instance)
        return [PKOnlyObject(pk) for pk in ids]


def _by_pk(field, pk):
    return field.get_queryset().filter(pk=pk).order_by()


def _plain_id(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19


class BatchedRelatedMixin:
    """For a ModelSerializer: its primary-key relations (to-one) are read together before
    validation. Fields built from the model get ``BatchedPrimaryKeyRelatedField``; declared
    ones need ``BatchedFieldMixin``."""

    serializer_related_field = BatchedPrimaryKeyRelatedField

    def to_internal_value(self, data):
        self._batched_rows = self._read_related(data)
        return super().to_internal_value(data)

    def _read_related(self, data) -> dict:
        if not hasattr(data, "get"):
            return {}
        wanted: list[tuple[str, object, BatchedFieldMixin, Compiled | None]] = []
        where = (type(self), *context_key())
        for name, field in self.fields.items():
            if field.read_only or not isinstance(field, BatchedFieldMixin):
                continue
            value = field.get_value(data)
            if value is empty or value is None or not _plain_id(value):
                continue
            entry = None
            if field.lookup_cacheable:
                entry = LOOKUPS.compiled((*where, name), partial(_by_pk, field), INT_SENTINEL)
            wanted.append((name, value, field, entry))
        if all(entry is not None for *_, entry in wanted):
            rows = fetch_compiled([(entry, int(value)) for _, value, _, entry in wanted])
        elif len(wanted) < 2:  # one lookup compiled on the spot costs the same either way
            return {}
        else:
            rows = fetch_together([_by_pk(field, value) for _, value, field, _ in wanted])
        return {name: (value, found[0]) for (name, value, *_), found in zip(wanted, rows, strict=True) if found}
