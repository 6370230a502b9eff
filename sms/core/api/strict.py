"""Unknown query parameters on list endpoints are refused with a 400.

A filter silently ignored is a trap for integrators: ``GET /cis/?type=server`` (the
filter is ``ci_type``) answers with every CI and looks like success. Every list
endpoint therefore accepts only its FilterSet's parameters, pagination, ordering,
search, ``format``, and what the view names in ``extra_query_params``."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter

ALWAYS_ALLOWED = frozenset({"format", "page", "page_size"})


def filterset_params(filterset) -> set[str]:
    """The query parameter names a FilterSet reads, with the suffixes of range widgets.
    The widget is read off the filter's field class (or its ``widget`` argument): building
    every filter's form field here would double what the filter backend builds anyway."""
    names: set[str] = set()
    for name, flt in filterset.filters.items():
        names.add(name)
        widget = flt.extra.get("widget") or getattr(flt.field_class, "widget", None)
        suffixes = getattr(widget, "suffixes", None)
        if suffixes:
            names.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
    return names


def allowed_params(request, queryset, view) -> set[str]:
    allowed = set(ALWAYS_ALLOWED) | set(getattr(view, "extra_query_params", ()))
    for backend_class in view.filter_backends:
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            filterset = backend.get_filterset(request, queryset, view)
            if filterset is not None:
                allowed |= filterset_params(filterset)
        elif isinstance(backend, OrderingFilter):
            allowed.add(backend.ordering_param)
        elif isinstance(backend, SearchFilter):
            allowed.add(backend.search_param)
    paginator = getattr(view, "paginator", None)
    for attr in ("page_query_param", "page_size_query_param", "limit_query_param", "offset_query_param"):
        value = getattr(paginator, attr, None)
        if value:
            allowed.add(value)
    return allowed


class RejectUnknownQueryParams(BaseFilterBackend):
    """First of the filter backends: on ``list`` actions, a parameter nobody reads is a 400
    naming it and the parameters the endpoint knows."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        sent = set(request.query_params.keys())
        if not sent:
            return queryset
        allowed = allowed_params(request, queryset, view)
        unknown = sorted(sent - allowed)
        if unknown:
            known = ", ".join(sorted(allowed))
            raise ValidationError(
                {name: [f"Unknown query parameter for this list. It accepts: {known}."] for name in unknown}
            )
        return queryset
