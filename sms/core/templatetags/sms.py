"""Template helpers shared by every page: record cells, state badges, record links."""

from __future__ import annotations

import datetime as dt

from django import template
from django.contrib.auth import get_user_model
from django.db import models
from django.template.defaultfilters import date as date_filter
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from sms.core.registry import kinds
from sms.tenancy import context

register = template.Library()
User = get_user_model()
EMPTY = "—"


@register.filter
def person(user) -> str:
    if user is None:
        return EMPTY
    return user.get_full_name() or user.username


def display(obj, name: str):
    """The human value of ``obj.<name>``: choice labels, people, dates."""
    try:
        field = obj._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a property or annotation, not a model field
        field = None
    if field is not None and getattr(field, "choices", None):
        value = getattr(obj, f"get_{name}_display")()
        return value or EMPTY
    value = getattr(obj, name, None)
    if callable(value):
        value = value()
    if value is None or value == "":
        return EMPTY
    if isinstance(value, User):
        return person(value)
    if isinstance(value, dt.datetime):
        return date_filter(value, "j M Y H:i")
    if isinstance(value, dt.date):
        return date_filter(value, "j M Y")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, models.Model):
        return str(value)
    return value


@register.simple_tag
def cell(obj, name: str):
    return display(obj, name)


@register.filter
def field_value(obj, field) -> object:
    return display(obj, field.name)


@register.simple_tag
def state_badge(record) -> str:
    kind = kinds.for_model(type(record))
    return format_html('<span class="badge badge-{}">{}</span>', kind.colour(record.state), record.get_state_display())


@register.simple_tag
def record_url(record, view: str = "detail") -> str:
    """URL of a record's page in the current tenant, or '' when its kind has none."""
    try:
        kind = kinds.for_model(type(record))
    except LookupError:
        return ""
    tenant = context.get_current_tenant()
    if not kind.url_namespace or tenant is None:
        return ""
    try:
        return reverse(f"{kind.url_namespace}:{view}", kwargs={"tenant_slug": tenant.slug, "pk": record.pk})
    except NoReverseMatch:
        return ""


@register.simple_tag
def kind_list_url(kind) -> str:
    tenant = context.get_current_tenant()
    if not kind.url_namespace or tenant is None:
        return ""
    return reverse(f"{kind.url_namespace}:list", kwargs={"tenant_slug": tenant.slug})


@register.filter
def verbose_name(field) -> str:
    return str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:]


@register.filter
def sort_toggle(current: str, key: str) -> str:
    """The ``sort`` value a column header links to: ascending first, then descending."""
    return f"-{key}" if current == key else key


@register.filter
def sort_state(current: str, key: str) -> str:
    if current == key:
        return "ascending"
    if current == f"-{key}":
        return "descending"
    return "none"



@register.simple_tag
def record_url_for(kind, pk) -> str:
    tenant = context.get_current_tenant()
    if not kind.url_namespace or tenant is None:
        return ""
    try:
        return reverse(f"{kind.url_namespace}:detail", kwargs={"tenant_slug": tenant.slug, "pk": pk})
    except NoReverseMatch:
        return ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key, ()) if mapping else ()
