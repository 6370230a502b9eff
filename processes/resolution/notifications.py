"""Keeping the customer and management informed (clause 8.1), through the kernel's outbox.

- A public journal entry on an incident is sent to its caller; internal notes never are.
- Each state change of an incident is sent to its caller.
- The declaration and the resolution of a major incident are sent to every member of
  top management.

Messages are queued in the transaction of the event (a signal receiver: notifications
are cross-cutting work), so a refused or rolled-back change sends nothing.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save
from django_fsm.signals import post_transition

from sms.core.models import JournalEntry, Visibility
from sms.core.outbox import queue_mail
from sms.tenancy import context
from sms.tenancy.models import Membership
from sms.tenancy.roles import Role

from .choices import IncidentState

TOPIC_UPDATE = "incident_update"
TOPIC_MAJOR = "major_incident"


def _tenant_name() -> str:
    return context.require_tenant().name


def caller_address(incident) -> str:
    caller = incident.caller
    return caller.email if caller is not None and caller.email else ""


def role_addresses(role: str) -> list[str]:
    """E-mail addresses of the active members of the current tenant holding ``role``."""
    return [
        m.user.email
        for m in Membership.objects.active().filter(roles__contains=[role], user__is_active=True).select_related("user")
        if m.user.email
    ]


def _signature() -> str:
    return f"\n\n-- \n{_tenant_name()} service desk. Please quote the reference when you reply."


def notify_caller_of_entry(incident, entry: JournalEntry) -> list:
    address = caller_address(incident)
    if not address or entry.visibility != Visibility.PUBLIC:
        return []
    subject = f"[{_tenant_name()}] {incident.reference} {incident.title}: update"
    body = f"There is news about your incident {incident.reference} \u201c{incident.title}\u201d:\n\n{entry.body}"
    return queue_mail([address], subject, body + _signature(), record=incident, topic=TOPIC_UPDATE)


def notify_caller_of_state(incident, source: str, target: str, reason: str = "") -> list:
    address = caller_address(incident)
    if not address or source == target:
        return []
    state = IncidentState(target).label.lower()
    subject = f"[{_tenant_name()}] {incident.reference} {incident.title}: {state}"
    lines = [f"Your incident {incident.reference} \u201c{incident.title}\u201d is now {state}."]
    if target == IncidentState.ON_HOLD and reason:
        lines.append(f"We are waiting: {reason}")
    elif target == IncidentState.RESOLVED:
        lines.append(f"What was done: {incident.resolution_notes.strip() or incident.get_resolution_code_display()}")
        lines.append("If the problem is still there, reply and we will reopen it.")
    elif target in (IncidentState.CANCELLED, IncidentState.IN_PROGRESS) and reason and source != IncidentState.NEW:
        lines.append(f"Reason: {reason}")
    return queue_mail([address], subject, "\n\n".join(lines) + _signature(), record=incident, topic=TOPIC_UPDATE)


def notify_top_management(incident, event: str, detail: str = "") -> list:
    """``event`` is "declared" or "resolved"."""
    subject = f"[{_tenant_name()}] Major incident {event}: {incident.reference} {incident.title}"
    service = incident.service.title if incident.service_id else "no service recorded"
    lines = [
        f"Major incident {incident.reference} \u201c{incident.title}\u201d has been {event}.",
        f"Service: {service}. Priority: P{incident.priority}. State: {incident.get_state_display()}.",
    ]
    manager = incident.major_manager
    lines.append(
        f"Major incident manager: {manager.get_full_name() or manager.username}."
        if manager is not None
        else "No major incident manager designated yet."
    )
    if detail:
        lines.append(detail)
    return queue_mail(
        role_addresses(Role.TOP_MANAGEMENT), subject, "\n\n".join(lines), record=incident, topic=TOPIC_MAJOR
    )


# --- receivers --------------------------------------------------------------------------------
def _incident_model():
    from .models import Incident

    return Incident


def on_journal_entry(sender, instance: JournalEntry, created: bool, **kwargs) -> None:
    if not created or instance.visibility != Visibility.PUBLIC:
        return
    Incident = _incident_model()
    if instance.content_type_id != ContentType.objects.get_for_model(Incident).pk:
        return
    incident = Incident.objects.select_related("caller").filter(pk=instance.object_id).first()
    if incident is not None:
        notify_caller_of_entry(incident, instance)


def on_transition(sender, instance, name, source, target, **kwargs) -> None:
    if kwargs.get("exception") is not None or not isinstance(instance, _incident_model()):
        return
    reason = (kwargs.get("method_kwargs") or {}).get("reason", "")
    notify_caller_of_state(instance, str(source), str(target), reason)
    if instance.is_major and target == IncidentState.RESOLVED:
        notify_top_management(instance, "resolved", f"Resolution: {instance.resolution_notes.strip()}")


def connect() -> None:
    post_save.connect(on_journal_entry, sender=JournalEntry, dispatch_uid="resolution-journal-notify")
    post_transition.connect(on_transition, dispatch_uid="resolution-transition-notify")
