"""The questions a request catalogue item asks, and the checking of answers against them.

A schema is a list of questions::

    [{"name": "model", "label": "Model", "type": "choice", "required": true,
      "choices": ["13-inch", "15-inch"], "help": "Ask your manager if unsure."}]

``name`` is the key of the answer (made from the label when left out); ``type`` is one
of ``FieldType``; ``choices`` only for ``choice``. Pure functions, no database: the model
checks a schema with ``normalise_schema``; the API and the browser check answers with
``validate_answers`` so that both refuse the same input with the same messages.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .choices import FieldType

MAX_QUESTIONS = 30
MAX_CHOICES = 50
MAX_TEXT = {FieldType.TEXT: 500, FieldType.TEXTAREA: 5000}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}


class SchemaError(ValueError):
    pass


def name_from_label(label: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:50]
    if name and not name[0].isalpha():
        name = f"q_{name}"[:50]
    return name


def normalise_schema(raw: Any) -> list[dict]:
    """The schema in its stored form (every key present), or ``SchemaError`` naming the
    question at fault."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise SchemaError("Give the questions as a list.")
    if len(raw) > MAX_QUESTIONS:
        raise SchemaError(f"At most {MAX_QUESTIONS} questions.")
    out: list[dict] = []
    seen: set[str] = set()
    for n, q in enumerate(raw, start=1):
        if not isinstance(q, dict):
            raise SchemaError(f"Question {n}: give an object with a label and a type.")
        label = str(q.get("label") or "").strip()
        if not label:
            raise SchemaError(f"Question {n}: a label is required.")
        if len(label) > 200:
            raise SchemaError(f"Question {n}: the label is longer than 200 characters.")
        name = str(q.get("name") or name_from_label(label)).strip()
        if not NAME_RE.match(name):
            raise SchemaError(
                f"Question {n} ({label}): the name {name!r} must start with a letter and use only "
                "lower-case letters, digits and underscores."
            )
        if name in seen:
            raise SchemaError(f"Question {n} ({label}): another question already uses the name {name!r}.")
        seen.add(name)
        kind = str(q.get("type") or FieldType.TEXT)
        if kind not in FieldType.values:
            raise SchemaError(
                f"Question {n} ({label}): unknown type {kind!r}; use one of {', '.join(FieldType.values)}."
            )
        required = q.get("required", False)
        if not isinstance(required, bool):
            raise SchemaError(f"Question {n} ({label}): 'required' is true or false.")
        choices = q.get("choices") or []
        if kind == FieldType.CHOICE:
            if not isinstance(choices, list) or not choices:
                raise SchemaError(f"Question {n} ({label}): list the allowed values.")
            choices = [str(c).strip() for c in choices if str(c).strip()]
            if not choices or len(choices) > MAX_CHOICES or len(set(choices)) != len(choices):
                raise SchemaError(f"Question {n} ({label}): give 1 to {MAX_CHOICES} different allowed values.")
        elif choices:
            raise SchemaError(f"Question {n} ({label}): only questions of type 'choice' have allowed values.")
        out.append(
            {
                "name": name,
                "label": label,
                "type": kind,
                "required": required,
                "choices": choices,
                "help": str(q.get("help") or "").strip()[:300],
            }
        )
    return out


def _clean_one(q: dict, value: Any) -> Any:
    """The answer in stored form, or ``ValidationError`` with the message for this question."""
    kind = q["type"]
    if kind in (FieldType.TEXT, FieldType.TEXTAREA):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValidationError("Give text.")
        text = str(value).strip()
        if len(text) > MAX_TEXT[kind]:
            raise ValidationError(f"At most {MAX_TEXT[kind]} characters.")
        return text
    if kind == FieldType.NUMBER:
        if isinstance(value, bool):
            raise ValidationError("Give a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError("Give a number.") from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise ValidationError("Give a number.")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldType.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationError("Give a date as YYYY-MM-DD.") from None
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError("Answer yes or no.")
    if kind == FieldType.CHOICE:
        text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else None
        if text not in q["choices"]:
            raise ValidationError(f"Choose one of: {', '.join(q['choices'])}.")
        return text
    if kind == FieldType.EMAIL:
        text = str(value).strip() if isinstance(value, str) else ""
        try:
            validate_email(text)
        except ValidationError:
            raise ValidationError("Give a valid e-mail address.") from None
        return text.lower()
    raise ValidationError("This question has an unknown type.")  # pragma: no cover - schema is normalised


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_answers(schema: list[dict], answers: Any) -> dict[str, Any]:
    """The answers in stored form, or ``ValidationError({name: [message]})`` naming every
    question whose answer is missing or wrong (and every answer to no question)."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": ["Give the answers as an object of question name to answer."]})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    known = {q["name"] for q in schema}
    for key in answers:
        if key not in known:
            errors[str(key)] = ["This item asks no such question."]
    for q in schema:
        value = answers.get(q["name"])
        if q["type"] == FieldType.BOOLEAN:
            try:
                answer = False if _empty(value) else _clean_one(q, value)
            except ValidationError as exc:
                errors[q["name"]] = list(exc.messages)
                continue
            if q["required"] and answer is not True:
                errors[q["name"]] = [f"{q['label']}: this must be confirmed."]
            else:
                cleaned[q["name"]] = answer
            continue
        if _empty(value):
            if q["required"]:
                errors[q["name"]] = [f"{q['label']}: an answer is required."]
            continue
        try:
            cleaned[q["name"]] = _clean_one(q, value)
        except ValidationError as exc:
            errors[q["name"]] = [f"{q['label']}: {m}" for m in exc.messages]
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- the text form used in the browser's catalogue editor ------------------------------------
def parse_lines(text: str) -> list[dict]:
    """One question a line: ``Label | type | required | value, value`` (the last two
    optional; ``required`` or ``optional``). Raises ``SchemaError`` naming the line."""
    raw = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        label = parts[0]
        kind = (parts[1] if len(parts) > 1 and parts[1] else FieldType.TEXT).lower()
        flag = (parts[2] if len(parts) > 2 else "optional").lower()
        if flag not in ("required", "optional", ""):
            raise SchemaError(f"Line {n}: the third part is 'required' or 'optional', not {parts[2]!r}.")
        choices = [c.strip() for c in parts[3].split(",")] if len(parts) > 3 and parts[3] else []
        raw.append({"label": label, "type": kind, "required": flag == "required", "choices": choices})
    try:
        return normalise_schema(raw)
    except SchemaError as exc:
        raise SchemaError(str(exc).replace("Question", "Line", 1)) from None


def format_lines(schema: list[dict]) -> str:
    lines = []
    for q in schema or []:
        parts = [q["label"], q["type"], "required" if q.get("required") else "optional"]
        if q.get("choices"):
            parts.append(", ".join(q["choices"]))
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def normalise_tasks(raw: Any) -> list[dict]:
    """Fulfilment task templates, in order: ``[{"title": ..., "description": ...}]``."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise SchemaError("Give the tasks as a list.")
    if len(raw) > MAX_QUESTIONS:
        raise SchemaError(f"At most {MAX_QUESTIONS} tasks.")
    out = []
    for n, t in enumerate(raw, start=1):
        if isinstance(t, str):
            t = {"title": t}
        if not isinstance(t, dict):
            raise SchemaError(f"Task {n}: give an object with a title.")
        title = str(t.get("title") or "").strip()
        if not title:
            raise SchemaError(f"Task {n}: a title is required.")
        if len(title) > 200:
            raise SchemaError(f"Task {n}: the title is longer than 200 characters.")
        out.append({"title": title, "description": str(t.get("description") or "").strip()[:2000]})
    return out


def parse_task_lines(text: str) -> list[dict]:
    """One task a line: ``Title`` or ``Title | what to do``."""
    raw = []
    for line in (text or "").splitlines():
        if line.strip():
            title, _, description = line.partition("|")
            raw.append({"title": title.strip(), "description": description.strip()})
    return normalise_tasks(raw)


def format_task_lines(tasks: list[dict]) -> str:
    return "\n".join(f"{t['title']} | {t['description']}" if t.get("description") else t["title"] for t in tasks or [])
