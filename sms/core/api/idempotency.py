"""Idempotent creation: ``Idempotency-Key`` on POST.

Monitoring tools and integrations retry a POST when the answer did not arrive; with a
key, a retry never creates a second record. Any creating viewset gets it by mixing in
``IdempotentCreateMixin`` before its base class::

    class IncidentViewSet(IdempotentCreateMixin, RecordViewSet): ...

Rules (after the IETF draft "The Idempotency-Key HTTP Header Field"):

- The key is any 1-255 printable ASCII characters, unique per tenant and endpoint; a
  client uses a fresh one (a UUID) for every new record.
- The first request claims the key in the transaction that creates the record. A
  successful creation stores its status and body; a retry with the same key, caller and
  body gets that stored answer again (same status, same body) with the header
  ``Idempotent-Replayed: true``, and nothing is created.
- The same key with a different body (or from another member, or on another path) is
  refused with 422: the key stands for one request only.
- A request that failed (400, 403...) stores nothing, so a corrected retry may reuse
  the key.
- Concurrent retries: the second insert of the key waits on the first transaction's
  unique-index entry; when the first commits, the second finds the stored answer; when
  it rolls back, the second goes ahead. Exactly one record either way.
- Keys expire: a key is remembered for ``SMS_IDEMPOTENCY_TTL_HOURS`` (default 24) after
  its first request. A request with an expired key is a new request: it creates a new
  record (and stores its answer under the key again). An hourly task
  (``sms.core.tasks.purge_idempotency_keys``) deletes expired keys, so a client must not
  retry with the same key after the time to live.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from sms.core.models import IdempotencyKey
from sms.tenancy import context

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A fresh value (e.g. a UUID) per new record. A retry with the same key and body returns the "
    "first answer (header Idempotent-Replayed: true) and creates nothing; the same key with another body is a 422. "
    "Keys expire after SMS_IDEMPOTENCY_TTL_HOURS (default 24 hours): a request with an expired key is a new "
    "request and creates a new record.",
)


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used for a different request (another body, path or caller). "
        "Send a new key for a new record; repeat the original request unchanged to get its answer again."
    )


def request_fingerprint(request) -> str:
    """SHA-256 over what makes two requests the same: method, path, caller and body."""
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form or multipart): keep repeated values
        data = {key: values for key, values in data.lists()}
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    caller = getattr(request.user, "pk", None)
    raw = "\n".join([request.method, request.path, str(caller), body])
    return hashlib.sha256(raw.encode()).hexdigest()


def valid_key(value: str) -> bool:
    return 0 < len(value) <= MAX_KEY_LENGTH and all(32 <= ord(c) < 127 for c in value)


def expiry_cutoff() -> dt.datetime:
    """Keys created before this moment have expired."""
    return timezone.now() - dt.timedelta(hours=settings.SMS_IDEMPOTENCY_TTL_HOURS)


class IdempotencyKeyBusy(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_busy"
    default_detail = "Another request with this Idempotency-Key is being handled; try again in a moment."


def _insert_claim(scope: str, key: str, fingerprint: str, user) -> IdempotencyKey | None:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the new claim, or None when a row
    holds the key. Like a plain insert, it first waits for a concurrent transaction that
    inserted the same key, and then sees its outcome; unlike one, a conflict raises no
    error, so no savepoint is needed around it."""
    claim = IdempotencyKey(
        tenant_id=context.require_tenant().pk, scope=scope, key=key, fingerprint=fingerprint, user=user, status_code=0
    )
    meta = IdempotencyKey._meta
    rows = IdempotencyKey.objects._insert(
        [claim],
        fields=[f for f in meta.concrete_fields if not f.primary_key],
        returning_fields=[meta.pk],
        on_conflict=OnConflict.IGNORE,
    )
    if not rows or rows[0] is None:
        return None
    claim.pk = rows[0][0]
    claim._state.adding, claim._state.db = False, IdempotencyKey.objects.db
    return claim


def claim_key(scope: str, key: str, fingerprint: str, user) -> tuple[IdempotencyKey | None, IdempotencyKey | None]:
    """Insert the key: ``(claim, None)``; or ``(None, earlier)`` when a live key holds it.
    An expired key found in the way is deleted and the insert tried again."""
    for _attempt in range(3):
        claim = _insert_claim(scope, key, fingerprint, user)
        if claim is not None:
            return claim, None
        # Taken: by a finished request (a concurrent one has committed by now, since our
        # insert waited for it). The purge may have deleted it in between.
        earlier = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if earlier is not None and earlier.created_at >= expiry_cutoff():
            return None, earlier
        if earlier is not None:
            earlier.delete()  # expired: the key is new again
    raise IdempotencyKeyBusy()


class IdempotentCreateMixin:
    """``create`` honours an ``Idempotency-Key`` header (see the module's rules)."""

    idempotency_scope: str = ""  # default: the model's label, e.g. "resolution.incident"

    def get_idempotency_scope(self) -> str:
        if self.idempotency_scope:
            return self.idempotency_scope
        # The class's queryset names the model; building the request's queryset (a list's
        # annotations and joins) only to read its model cost 13 % of a keyed POST.
        queryset = getattr(self, "queryset", None)
        model = queryset.model if queryset is not None else self.get_queryset().model
        return model._meta.label_lower

    @extend_schema(parameters=[PARAMETER])
    def create(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return super().create(request, *args, **kwargs)
        key = key.strip()
        if not valid_key(key):
            raise ValidationError(
                {HEADER: [f"Send 1 to {MAX_KEY_LENGTH} printable ASCII characters, for example a UUID."]}
            )
        scope = self.get_idempotency_scope()
        fingerprint = request_fingerprint(request)
        # No savepoint: a request that fails rolls back whole (the key with it), which is
        # what the rules want; a savepoint cost two round trips on every keyed POST.
        with transaction.atomic(savepoint=False):
            claim, earlier = claim_key(scope, key, fingerprint, request.user)
            if claim is None:
                if earlier.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Response(earlier.response_body, status=earlier.status_code, headers={REPLAYED_HEADER: "true"})
            response = super().create(request, *args, **kwargs)
            # Stored as the client saw it (the JSON renderer's types), to be replayed as is.
            claim.status_code = response.status_code
            claim.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            claim.object_id = (response.data or {}).get("id") if isinstance(response.data, dict) else None
            claim.save(update_fields=["status_code", "response_body", "object_id"])
        return response
