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
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from sms.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A fresh value (e.g. a UUID) per new record. A retry with the same key and body returns the "
    "first answer (header Idempotent-Replayed: true) and creates nothing; the same key with another body is a 422.",
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


class IdempotentCreateMixin:
    """``create`` honours an ``Idempotency-Key`` header (see the module's rules)."""

    idempotency_scope: str = ""  # default: the model's label, e.g. "resolution.incident"

    def get_idempotency_scope(self) -> str:
        return self.idempotency_scope or self.get_queryset().model._meta.label_lower

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
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = IdempotencyKey.objects.create(
                        scope=scope, key=key, fingerprint=fingerprint, user=request.user, status_code=0
                    )
            except IntegrityError:
                claim = None
            if claim is None:
                # Taken: by a finished request (a concurrent one has committed by now,
                # since our insert waited for it).
                earlier = IdempotencyKey.objects.get(scope=scope, key=key)
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
