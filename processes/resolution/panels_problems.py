"""Home-page panel of problem management: the open problems, most urgent first."""

from __future__ import annotations

from .models import Problem
from .problem_choices import OPEN_PROBLEM_STATES

PANEL_ROWS = 8


def open_problems(request) -> dict:
    qs = Problem.objects.filter(state__in=OPEN_PROBLEM_STATES)
    return {"rows": list(qs.order_by("priority", "-number")[:PANEL_ROWS]), "total": qs.count()}
