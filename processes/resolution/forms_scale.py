"""Impact and urgency in the browser forms of incidents and problems: only the levels of
the tenant's 3- or 5-level scale are offered, with that scale's labels."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from . import services
from .choices import scale_choices, scale_label

SCALE_FIELDS = ("impact", "urgency")


def limit_to_scale(form) -> None:
    """Offer the tenant's levels. A record keeping a level of a former, larger scale still
    shows it (nothing changes unseen), and the form asks for a level of the current scale."""
    size = services.scale_size()
    for name in SCALE_FIELDS:
        field = form.fields.get(name)
        if field is None:
            continue
        choices = scale_choices(name, size)
        current = getattr(form.instance, name, None) if form.instance.pk else None
        if current is not None and current > size:
            choices.append((current, scale_label(name, current, size)))
        field.choices = choices


def matrix_priority(form, data: dict) -> int | None:
    """The matrix's priority for the form's impact and urgency, or None after putting an
    error on the field whose level is off the tenant's scale."""
    if not data.get("impact") or not data.get("urgency"):
        return None
    try:
        return services.computed_priority(data["impact"], data["urgency"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return None
