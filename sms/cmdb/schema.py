"""The attribute schema of a CI type, and the check of a CI's attributes against it.

A schema is a JSON list of attribute definitions::

    [{"name": "ram_gb", "label": "Memory (GB)", "type": "integer", "required": true},
     {"name": "os", "label": "Operating system", "type": "choice", "choices": ["Linux", "Windows"]}]

Both checks return messages instead of raising, so that the model (admin forms) and
the API (nested 400 bodies keyed by attribute name) can each present them their way.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from .choices import AttributeType

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
DEFINITION_KEYS = {"name", "label", "type", "required", "choices", "help"}
MAX_ATTRIBUTES = 100
MAX_TEXT = 2000


def schema_errors(schema: Any) -> list[str]:
    """Everything wrong with a schema, one readable message per problem."""
    if not isinstance(schema, list):
        return ["The attribute schema must be a list of attribute definitions."]
    if len(schema) > MAX_ATTRIBUTES:
        return [f"A type may define at most {MAX_ATTRIBUTES} attributes."]
    errors: list[str] = []
    seen: set[str] = set()
    types = ", ".join(AttributeType.values)
    for position, item in enumerate(schema, start=1):
        if not isinstance(item, dict):
            errors.append(f"Attribute {position}: must be an object with at least a name and a type.")
            continue
        name = item.get("name")
        where = f"Attribute {position} ({name})" if isinstance(name, str) and name else f"Attribute {position}"
        unknown = sorted(set(item) - DEFINITION_KEYS)
        if unknown:
            errors.append(f"{where}: unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(DEFINITION_KEYS))}.")
        if not isinstance(name, str) or not NAME_RE.match(name):
            errors.append(
                f"{where}: name must start with a lower-case letter and contain only a-z, 0-9 and _ "
                "(at most 50 characters)."
            )
        elif name in seen:
            errors.append(f"{where}: the name {name!r} is used twice.")
        else:
            seen.add(name)
        label = item.get("label", "")
        if not isinstance(label, str) or len(label) > 100:
            errors.append(f"{where}: label must be text of at most 100 characters.")
        if "help" in item and not isinstance(item["help"], str):
            errors.append(f"{where}: help must be text.")
        kind = item.get("type")
        if kind not in AttributeType.values:
            errors.append(f"{where}: type must be one of {types}.")
        if "required" in item and not isinstance(item["required"], bool):
            errors.append(f"{where}: required must be true or false.")
        choices = item.get("choices")
        if kind == AttributeType.CHOICE:
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str) and c.strip() for c in choices)
            ):
                errors.append(f"{where}: a choice attribute needs a non-empty list of text choices.")
            elif len(set(choices)) != len(choices):
                errors.append(f"{where}: choices must not repeat.")
        elif choices is not None:
            errors.append(f"{where}: only attributes of type choice have choices.")
    return errors


def normalise_schema(schema: list[dict]) -> list[dict]:
    """A valid schema with defaults filled in (label from name, required false)."""
    result = []
    for item in schema:
        entry = {
            "name": item["name"],
            "label": (item.get("label") or item["name"].replace("_", " ").capitalize()).strip(),
            "type": item["type"],
            "required": bool(item.get("required", False)),
        }
        if item["type"] == AttributeType.CHOICE:
            entry["choices"] = [c.strip() for c in item["choices"]]
        if item.get("help"):
            entry["help"] = item["help"]
        result.append(entry)
    return result


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _coerce(definition: dict, value: Any) -> tuple[Any, str | None]:
    kind = definition["type"]
    if kind == AttributeType.TEXT:
        if not isinstance(value, str):
            return None, "Expected text."
        if len(value) > MAX_TEXT:
            return None, f"At most {MAX_TEXT} characters."
        return value.strip(), None
    if kind == AttributeType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None, "Expected a number."
        return value, None
    if kind == AttributeType.INTEGER:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return None, "Expected a whole number."
        return value, None
    if kind == AttributeType.BOOLEAN:
        if not isinstance(value, bool):
            return None, "Expected true or false."
        return value, None
    if kind == AttributeType.DATE:
        if isinstance(value, dt.date):
            return value.isoformat(), None
        try:
            return dt.date.fromisoformat(value).isoformat(), None
        except (TypeError, ValueError):
            return None, "Expected a date as YYYY-MM-DD."
    if kind == AttributeType.CHOICE:
        choices = definition.get("choices") or []
        if value not in choices:
            return None, f"Expected one of: {', '.join(choices)}."
        return value, None
    return None, f"Unknown attribute type {kind!r}."


def attribute_errors(schema: list[dict], values: Any, *, type_name: str = "this type") -> tuple[dict, dict]:
    """``(cleaned values, {attribute name: [messages]})`` for ``values`` under ``schema``.

    Unknown attributes are refused rather than kept: a CI carries what its type's
    documented definition says, nothing else.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return {}, {"attributes": ["Attributes must be an object of name: value pairs."]}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    by_name = {d["name"]: d for d in schema if isinstance(d, dict) and "name" in d}
    for name in values:
        if name not in by_name:
            errors[str(name)] = [f"Not an attribute of {type_name}."]
    for name, definition in by_name.items():
        value = values.get(name)
        if _empty(value):
            if definition.get("required"):
                errors[name] = ["This attribute is required."]
            continue
        coerced, problem = _coerce(definition, value)
        if problem:
            errors[name] = [problem]
        else:
            cleaned[name] = coerced
    return cleaned, errors
