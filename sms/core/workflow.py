"""Workflows: django-fsm-2 state fields and the one service that moves a record.

A record kind declares a ``StateField`` (protected: nothing assigns the state
directly) and transition methods decorated with ``@transition`` whose ``custom``
carries ``label`` and ``capability``; conditions are plain functions with a
``message`` attribute (see ``condition``). ``transition(record, name, by, reason)``
is the only way a state changes:

1. it locks the row (``SELECT ... FOR UPDATE``) and re-reads it, so two parallel
   transitions queue and the second sees the first one's result;
2. it checks the user's capability, then segregation of duties, then conditions;
3. it runs the method, saves, and writes one history row with the reason and user.

Any refusal raises before anything is written, so a failed transition leaves the
record exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin, FSMField, TransitionNotAllowed
from django_fsm import transition as fsm_transition

from sms.tenancy import context


class WorkflowError(Exception):
    status_code = 409

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class TransitionForbidden(WorkflowError):
    status_code = 403


class TransitionUnavailable(WorkflowError):
    """Not possible from the record's current state (or it changed under us)."""

    status_code = 409


class TransitionBlocked(WorkflowError):
    """Possible in principle, but a condition is not met yet (e.g. a required field)."""

    status_code = 400


class StateField(FSMField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("protected", True)
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("db_index", False)
        super().__init__(*args, **kwargs)


class WorkflowModel(ConcurrentTransitionMixin):
    """Mixin for records with a workflow (optimistic check on top of the row lock)."""


def condition(message: str, field: str | None = None) -> Callable:
    """Decorate a transition condition with the message shown when it is not met."""

    def decorate(func: Callable[[Any], bool]) -> Callable[[Any], bool]:
        func.message = message
        func.field = field
        return func

    return decorate


def transition(*, field: str = "state", source, target, label: str, capability: str | None = None,
               conditions: list[Callable] | None = None, reason_required: bool = False,
               separate_from: str | None = None, style: str = "primary",
               permitted: Callable[[Any, Any, Any], str | None] | None = None):
    """``django_fsm.transition`` with the metadata the service and the UI need.

    ``capability`` defaults to ``<kind>.transition``. ``separate_from`` names a user
    attribute of the record (e.g. ``created_by``) who may not take this transition:
    segregation of duties such as "the requester does not approve their own change".
    ``permitted(record, user, membership)`` is a further check that depends on both the
    record and the person (e.g. "approvers of this document type"); it returns ``None``
    or the reason the person may not take the transition.
    """
    return fsm_transition(
        field=field, source=source, target=target, conditions=conditions or [],
        custom={"label": label, "capability": capability, "reason_required": reason_required,
                "separate_from": separate_from, "style": style, "permitted": permitted},
    )


@dataclass(frozen=True)
class AvailableTransition:
    name: str
    label: str
    target: str
    reason_required: bool
    style: str
    allowed: bool
    blocked_by: tuple[str, ...]


def _fsm_field(record) -> FSMField:
    for f in record._meta.concrete_fields:
        if isinstance(f, FSMField):
            return f
    raise TypeError(f"{type(record).__name__} has no workflow")


def _transitions(record):
    field = _fsm_field(record)
    return field.get_all_transitions(type(record))


def _find(record, name: str):
    state = _fsm_field(record).get_state(record)
    for t in _transitions(record):
        if t.name == name and t.source in (state, "*", "+"):
            return t
    return None


def _capability(record, t) -> str:
    cap = t.custom.get("capability")
    if cap:
        return cap
    return f"{type(record).kind().code}.transition"


def _who_may_not(record, t, user, membership=None) -> str | None:
    permitted = t.custom.get("permitted")
    if permitted is not None and user is not None:
        refusal = permitted(record, user, membership)
        if refusal:
            return refusal
    attr = t.custom.get("separate_from")
    if not attr or user is None:
        return None
    other_id = getattr(record, f"{attr}_id", None)
    if other_id is not None and other_id == user.pk:
        field = record._meta.get_field(attr)
        return (
            f"Segregation of duties: as its {field.verbose_name} you cannot "
            f"{t.custom['label'].lower()} this {record._meta.verbose_name}; someone else must."
        )
    return None


def _blocked_by(record, t) -> list[str]:
    return [getattr(c, "message", c.__name__) for c in (t.conditions or []) if not c(record)]


def _membership_for(user):
    membership = context.get_current_membership()
    if membership is not None and membership.user_id == getattr(user, "pk", None):
        return membership
    from sms.tenancy.models import Membership

    return Membership.objects.active().filter(user=user).first() if user is not None else None


def available_transitions(record, user) -> list[AvailableTransition]:
    """Transitions from the current state, with whether ``user`` may take them now."""
    membership = _membership_for(user)
    state = _fsm_field(record).get_state(record)
    result = []
    for t in _transitions(record):
        if t.source not in (state, "*", "+") or (t.source == "+" and t.target == state):
            continue
        allowed = bool(membership and membership.can(_capability(record, t))) and not _who_may_not(
            record, t, user, membership
        )
        result.append(AvailableTransition(
            name=t.name, label=t.custom.get("label", t.name), target=str(t.target),
            reason_required=bool(t.custom.get("reason_required")), style=t.custom.get("style", "primary"),
            allowed=allowed, blocked_by=tuple(_blocked_by(record, t)),
        ))
    return result


def run_transition(record, name: str, *, by, reason: str = "", **kwargs):
    """Take transition ``name`` on ``record`` as user ``by``; returns the saved record."""
    model = type(record)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=record.pk)
        t = _find(locked, name)
        if t is None:
            names = {x.name for x in _transitions(locked)}
            if name not in names:
                raise TransitionUnavailable(f"{model._meta.verbose_name} has no transition {name!r}.")
            raise TransitionUnavailable(
                f"Cannot {name.replace('_', ' ')} a {model._meta.verbose_name} that is "
                f"{locked.get_state_display() if hasattr(locked, 'get_state_display') else locked.state}."
            )
        membership = _membership_for(by)
        cap = _capability(locked, t)
        if membership is None or not membership.can(cap):
            raise TransitionForbidden(f"Your role in this tenant does not allow this ({cap}).")
        sod = _who_may_not(locked, t, by, membership)
        if sod:
            raise TransitionForbidden(sod)
        reason = (reason or "").strip()
        if t.custom.get("reason_required") and not reason:
            raise TransitionBlocked("A reason is required.", field_errors={"reason": ["A reason is required."]})
        blocked = _blocked_by(locked, t)
        if blocked:
            field_errors: dict[str, list[str]] = {}
            for c in t.conditions or []:
                if getattr(c, "field", None) and not c(locked):
                    field_errors.setdefault(c.field, []).append(c.message)
            raise TransitionBlocked(" ".join(blocked), field_errors=field_errors)
        try:
            getattr(locked, name)(by=by, reason=reason, **kwargs)
        except TransitionNotAllowed as exc:
            raise TransitionUnavailable(str(exc)) from exc
        locked._history_user = by
        label = t.custom.get("label", name)
        try:
            locked.save(reason=f"{label}: {reason}" if reason else label)
        except ConcurrentTransition as exc:
            raise TransitionUnavailable("The record changed while you were working on it; reload it.") from exc
    return locked
