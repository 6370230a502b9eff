"""Switching the tenant's impact x urgency matrix between 3 x 3 and 5 x 5 (clause 8.1:
how incidents are prioritised is the service provider's choice).

Kept apart from ``services`` (the matrix lookup and the clocks) so that the lookup stays
the one function everything reads the matrix through."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from . import services
from .choices import MATRIX_SIZES, default_matrix
from .models import PriorityMatrixCell, ResolutionSettings

CONFIGURE = "resolution.configure"


@transaction.atomic
def switch_matrix_size(size, *, membership, reason: str = "") -> ResolutionSettings:
    """Rebuild the matrix as the default matrix of ``size`` levels of impact and urgency.

    Only tenant administrators (``resolution.configure``) may. The old cells are deleted
    and the new ones created, each in the cells' history, and the size is changed on the
    settings row, all with the same reason. Incidents and problems keep their impact,
    urgency and priority; a level off the new scale is refused only when someone next sets
    impact or urgency on that record."""
    if membership is None or not membership.can(CONFIGURE):
        raise PermissionDenied("Only the tenant's administrators change the priority matrix.")
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = None
    if size not in MATRIX_SIZES:
        raise ValidationError({"matrix_size": "Choose 3 (a 3 x 3 matrix) or 5 (a 5 x 5 matrix)."})
    row = ResolutionSettings.objects.select_for_update().get(pk=services.ensure_defaults().pk)
    if row.matrix_size == size:
        raise ValidationError({"matrix_size": f"The matrix is already {size} x {size}."})
    reason = (reason or "").strip()
    note = f"Priority matrix switched from {row.matrix_size} x {row.matrix_size} to {size} x {size}"
    note = f"{note}: {reason}" if reason else note
    for cell in PriorityMatrixCell.objects.all():
        cell._change_reason = note
        cell.delete()
    for (impact, urgency), level in default_matrix(size).items():
        PriorityMatrixCell(impact=impact, urgency=urgency, priority=level).save(reason=note)
    row.matrix_size = size
    row.save(reason=note)
    return row
