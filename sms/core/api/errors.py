"""JSON errors with field messages; nothing a client can send should become a 500."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connections
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sms.core.workflow import WorkflowError
from sms.tenancy.context import NoTenantError


def validation_detail(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def roll_back_request(context) -> None:
    """An error answer keeps none of the request's writes. The tenant middleware holds each
    request in one transaction; Django's ATOMIC_REQUESTS is off, so DRF's own
    ``set_rollback`` does nothing, and a write made before the error (a token's last use,
    an idempotency key, a service's partial work) would be committed with the 4xx. A view
    whose failures must leave a trace sets ``keeps_writes_on_error`` (the token endpoint:
    its failed sign-ins count towards the lockout)."""
    if getattr(context.get("view"), "keeps_writes_on_error", False):
        return
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            conn.set_rollback(True)


def exception_handler(exc, context):
    response = _answer(exc, context)
    if response is not None:
        roll_back_request(context)
    return response


def _answer(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=validation_detail(exc))
    elif isinstance(exc, WorkflowError):
        body = {"detail": exc.message}
        body.update(exc.field_errors)
        return Response(body, status=exc.status_code)
    elif isinstance(exc, IntegrityError):
        return Response(
            {"detail": "This conflicts with an existing record (a value that must be unique is already used)."},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, NoTenantError):
        exc = exceptions.PermissionDenied("No tenant selected.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
