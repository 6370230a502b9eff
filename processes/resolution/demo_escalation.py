"""Demo data of escalation and major incidents: four escalation rules, the major incident
definition, one major incident run from declaration to closure with its review, the
escalations the rules take on the demo's incidents, and the outbox messages these produce
(some sent, the rest held). Idempotent."""

from __future__ import annotations

from django.db import transaction
from django.test.utils import override_settings

from sms.core.workflow import run_transition
from sms.tenancy.roles import Role

from . import services, services_escalation, services_major
from .models import EscalationRule, Incident, MajorIncidentReview

MAJOR_TITLE = "Sign-in fails for all users"
MAX_ESCALATION_PASSES = 5


def _rules(groups) -> None:
    if EscalationRule.objects.exists():
        return
    rules = [
        EscalationRule(
            name="Warn the group at 75%", target="resolution", percent=75, action="notify", notify="assignment_group"
        ),
        EscalationRule(
            name="Keep the customer informed at 90%",
            target="resolution",
            percent=90,
            priorities=[1, 2],
            action="notify",
            notify="customer",
        ),
        EscalationRule(
            name="Tell the process owners when a response is late",
            target="response",
            percent=100,
            action="notify",
            notify="role",
            role=Role.PROCESS_OWNER,
        ),
        EscalationRule(
            name="Raise overdue incidents",
            target="resolution",
            percent=150,
            priorities=[3, 4, 5],
            action="raise_priority",
            raise_by=1,
        ),
    ]
    if groups:
        rules.append(
            EscalationRule(
                name="Second line takes over unanswered P1s",
                target="response",
                percent=200,
                priorities=[1],
                action="reassign",
                reassign_to=groups[-1],
            )
        )
    for rule in rules:
        rule.save(reason="Demo set-up")


@transaction.atomic
def seed_escalation(tenant, people) -> None:
    from sms.parties.models import Party

    groups = list(Party.objects.filter(party_type="internal_group").order_by("pk"))
    _rules(groups)
    definition = services_major.definition()
    if not definition.definition.strip():
        definition.definition = services_major.DEFAULT_DEFINITION
        definition.save(reason="Demo set-up")
    if not Incident.objects.filter(title=MAJOR_TITLE).exists():
        _major_incident(people, groups)
    # The rules act on the demo's history, as the planned check would have while it
    # happened: the escalations show on the incidents and their notices are held with the
    # rest of the seed's. Otherwise the first check after start-up would mail every
    # breaching demo incident at once. They run as of the first seeding (the major
    # incident's creation), so that seeding again takes none, and until nothing is left:
    # a raised priority can bring an incident under another rule.
    as_of = Incident.objects.get(title=MAJOR_TITLE).created_at
    for _ in range(MAX_ESCALATION_PASSES):
        if not services_escalation.evaluate(now=as_of):
            break


def _major_incident(people, groups) -> None:
    from sms.cmdb.models import Service
    from sms.core.models import MessageStatus, OutboundMessage
    from sms.core.outbox import send_due
    from sms.parties.models import Contact

    agent, owner = people[Role.AGENT], people[Role.PROCESS_OWNER]
    service = Service.objects.filter(criticality="1").order_by("pk").first()
    caller = Contact.objects.filter(party__party_type="customer").exclude(email="").order_by("pk").first()
    incident = Incident(
        title=MAJOR_TITLE,
        description="Single sign-on rejects every login; staff and customers cannot reach any application.",
        service=service,
        impact=1,
        urgency=1,
        channel="monitoring",
        caller=caller,
        customer=caller.party if caller else None,
        assignment_group=groups[0] if groups else None,
        owner=agent,
    )
    services.apply_priority(incident)
    services.schedule(incident)
    incident._history_user = agent
    incident.save(reason="Logged from a monitoring alert")
    incident = services_major.declare_major(
        incident, by=agent, reason="All users of a critical service are affected; the business is stopped."
    )
    incident = services_major.designate_manager(incident, manager=owner, by=agent)
    incident = run_transition(incident, "start", by=agent)
    incident.resolution_code = "change"
    incident.resolution_notes = "Expired signing certificate replaced on the identity provider; logins work again."
    incident._history_user = agent
    incident.save(reason="Resolution recorded")
    incident = run_transition(incident, "resolve", by=agent)
    MajorIncidentReview(
        incident=incident,
        what_happened="For 70 minutes nobody could sign in to any application behind single sign-on.",
        timeline="08:02 monitoring alert; 08:05 declared major; 08:20 cause found; 09:12 certificate replaced; "
        "09:15 service restored and confirmed with customers.",
        causes="The token-signing certificate expired; its renewal was not in any plan and no alert watched it.",
        improvements="Put every certificate in the CMDB with its expiry date; alert 30 days ahead; add the "
        "renewal to the change schedule.",
        participants="Service desk, identity team, process owner, customer representatives.",
    ).save(reason="Review recorded")
    run_transition(incident, "close", by=owner)
    # The notices of this incident went out (the demo uses the in-memory mail backend);
    # whatever else the seed queued is held, to show what the SMS would send.
    from django.contrib.contenttypes.models import ContentType

    ids = list(
        OutboundMessage.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident),
            object_id=incident.pk,
            topic__in=["major_incident", "incident_update"],
        ).values_list("pk", flat=True)
    )
    # The seed holds what it queues (sms.core.outbox.held): release these to be sent.
    OutboundMessage.objects.filter(pk__in=ids, status=MessageStatus.HELD).update(status=MessageStatus.QUEUED)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        send_due(ids)
