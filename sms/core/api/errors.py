"""JSON errors with field messages; nothing a client can send should become a 500."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from sms.core.workflow import WorkflowError
from sms.tenancy.context import NoTenantError


def validation_detail(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=validation_detail(exc))
    elif isinstance(exc, WorkflowError):
        set_rollback()
        body = {"detail": exc.message}
        body.update(exc.field_errors)
        return Response(body, status=exc.status_code)
    elif isinstance(exc, IntegrityError):
        set_rollback()
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
