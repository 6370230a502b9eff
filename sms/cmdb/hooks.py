"""Extension points of the CMDB for the apps above it, which the CMDB never imports.

Change control (clause 9.2 a): a CI of a type under change control is changed only
under a request for change. The CMDB asks for the reference of that request with every
such change; the change management app (``processes.control``) registers a check that
the reference names a change which allows the edit now. Without a registered check,
any well-formed reference is accepted (e.g. an external change system's keys).
"""

from __future__ import annotations

from collections.abc import Callable

# check(ci, reference) -> messages (empty: the reference allows the change). ``ci`` may
# not be saved yet (a CI being registered or imported).
ChangeReferenceCheck = Callable[[object, str], list[str]]

_change_reference_checks: list[ChangeReferenceCheck] = []


def register_change_reference_check(check: ChangeReferenceCheck) -> ChangeReferenceCheck:
    if check not in _change_reference_checks:
        _change_reference_checks.append(check)
    return check


def change_reference_errors(ci, reference: str) -> list[str]:
    """What the registered checks say against changing ``ci`` under ``reference``."""
    reference = (reference or "").strip()
    if not reference:
        return []
    messages: list[str] = []
    for check in _change_reference_checks:
        messages.extend(check(ci, reference))
    return messages
