"""factory_boy factories, and the map the generic API tests use to make one object of
every routed model. A route whose model has no entry here fails the isolation test, so
a new record kind cannot slip past it."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.contenttypes.models import ContentType

from documents.models import Acknowledgement, ApprovalRule, DistributionEntry, Document, DocumentVersion
from governance.models import Improvement
from sms.cmdb.models import Baseline, CIType, ConfigurationItem, Relationship, Service
from sms.core.models import JournalEntry, PlannedActivity
from sms.parties.models import Contact, Party
from sms.tenancy.models import Membership


class ImprovementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Improvement

    title = factory.Sequence(lambda n: f"Improvement opportunity {n}")
    description = "Reduce manual effort in monthly reporting."
    priority = "2"
    dimension = "productivity"
    target = "Halve the effort (baseline: 2 days)."
    due_date = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))


class PlannedActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlannedActivity

    kind = "management_review"
    title = factory.Sequence(lambda n: f"Management review {n}")
    next_due = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=10))


class JournalEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JournalEntry

    body = "Called the customer back."
    visibility = "internal"

    @classmethod
    def _create(cls, model_class, *args, record=None, **kwargs):
        kwargs["content_type"] = ContentType.objects.get_for_model(record)
        kwargs["object_id"] = record.pk
        return super()._create(model_class, *args, **kwargs)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    party_type = "customer"
    description = "Retail customer buying the web shop service."


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    party = factory.SubFactory(PartyFactory)
    name = factory.Sequence(lambda n: f"Contact person {n}")
    job_title = "Service manager"
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class CITypeFactory(factory.django.DjangoModelFactory):
    """A server-like type: one required integer attribute, every relationship kind."""

    class Meta:
        model = CIType

    name = factory.Sequence(lambda n: f"Server type {n}")
    code = factory.Sequence(lambda n: f"server_type_{n}")
    description = "A physical or virtual server."
    attribute_schema = factory.LazyFunction(
        lambda: [
            {"name": "ram_gb", "label": "Memory (GB)", "type": "integer", "required": True},
            {
                "name": "os",
                "label": "Operating system",
                "type": "choice",
                "required": False,
                "choices": ["Linux", "Windows"],
            },
        ]
    )
    allowed_relationships = factory.LazyFunction(
        lambda: ["connected_to", "depends_on", "hosted_on", "licensed_by", "part_of", "runs_on", "uses"]
    )
    under_change_control = False


class ConfigurationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfigurationItem

    ci_type = factory.SubFactory(CITypeFactory)
    title = factory.Sequence(lambda n: f"srv-{n:04d}")
    description = "Application server."
    state = "live"
    version = "1.0"
    location = "DC1 rack 4"
    attributes = factory.LazyFunction(lambda: {"ram_gb": 16})


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    source = factory.SubFactory(ConfigurationItemFactory)
    kind = "depends_on"
    target = factory.SubFactory(ConfigurationItemFactory, ci_type=factory.SelfAttribute("..source.ci_type"))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    title = factory.Sequence(lambda n: f"Service {n}")
    description = "A service in the catalogue."
    state = "live"
    hours_of_service = "Mon-Fri 08:00-18:00"


def _service(people):
    from sms.cmdb.services import set_service_links

    service = ServiceFactory(owner=people["process_owner"])
    set_service_links(service, customers=[PartyFactory()], components=[ConfigurationItemFactory()])
    return service


def _baseline(people):
    from sms.cmdb.services import take_baseline

    ci = ConfigurationItemFactory()
    RelationshipFactory(source=ci)
    return take_baseline(f"Baseline of {ci.reference}", by=people["process_owner"], scope={"cis": [ci.pk]})


def _membership(people):
    """A new member (agent) of the current tenant, with a user of their own."""
    from django.contrib.auth import get_user_model

    from sms.tenancy import context
    from sms.tenancy.services import add_member

    n = Membership.objects.count()
    user = get_user_model().objects.create_user(f"member-{context.current_tenant_id()}-{n}", password=None)
    return add_member(context.require_tenant(), user, ["agent"])


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    title = factory.Sequence(lambda n: f"Controlled document {n}")
    description = "How the service provider works."
    document_type = "procedure"
    classification = "internal"
    processes = factory.LazyFunction(lambda: ["Change management"])
    clauses = factory.LazyFunction(lambda: ["9.2"])
    review_interval_months = 12


class DocumentVersionFactory(factory.django.DjangoModelFactory):
    """A draft version; number one above the document's highest."""

    class Meta:
        model = DocumentVersion

    document = factory.SubFactory(DocumentFactory)
    change_summary = "First issue."
    reason = "The process needs a written procedure."
    content = "# Purpose\n\nRecord every change request before work starts."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if "number" not in kwargs:
            last = model_class.objects.filter(document=kwargs["document"]).order_by("-number").first()
            kwargs["number"] = (last.number if last else 0) + 1
        return super()._create(model_class, *args, **kwargs)


def issued_version(people, document=None, **kwargs) -> DocumentVersion:
    """A version taken through review, approval (by someone else) and issue."""
    from sms.core.workflow import run_transition

    version = DocumentVersionFactory(created_by=people["agent"], **({"document": document} if document else {}),
                                     **kwargs)
    for name, who in (("submit", "process_owner"), ("approve", "process_owner"), ("issue", "process_owner")):
        version = run_transition(version, name, by=people[who])
    return version


def _acknowledgement(people):
    version = issued_version(people)
    return Acknowledgement.objects.create(version=version, user=people["auditor"])


def _approval_rule(people):
    """Rules are one per document type: once every type has one, the last is returned."""
    from documents.choices import DocumentType
    from documents.models import ApprovalRule

    used = set(ApprovalRule.objects.values_list("document_type", flat=True))
    free = [t for t in DocumentType.values if t not in used]
    if not free:
        return ApprovalRule.objects.order_by("-pk").first()
    return ApprovalRule.objects.create(document_type=free[0], roles=["process_owner"])


# model -> callable(people) creating one object in the current tenant context.
SAMPLE_OBJECTS = {
    Improvement: lambda people: ImprovementFactory(owner=people["process_owner"], created_by=people["agent"]),
    PlannedActivity: lambda people: PlannedActivityFactory(owner=people["process_owner"]),
    Membership: _membership,
    Party: lambda people: PartyFactory(relationship_manager=people["process_owner"]),
    Contact: lambda people: ContactFactory(),
    CIType: lambda people: CITypeFactory(),
    ConfigurationItem: lambda people: ConfigurationItemFactory(owner=people["process_owner"]),
    Relationship: lambda people: RelationshipFactory(),
    Service: _service,
    Baseline: _baseline,
    Document: lambda people: DocumentFactory(owner=people["process_owner"]),
    DocumentVersion: lambda people: DocumentVersionFactory(created_by=people["agent"]),
    DistributionEntry: lambda people: DistributionEntry.objects.create(document=DocumentFactory(), role="agent"),
    Acknowledgement: _acknowledgement,
    ApprovalRule: _approval_rule,
}


# --- retention (documents.retention) --------------------------------------------------------
def closed_improvement(people, months_ago: int = 40, **kwargs):
    """An improvement closed ``months_ago`` months back (its last change dates its closure)."""
    from django.utils import timezone

    imp = ImprovementFactory(owner=people["process_owner"], created_by=people["agent"], **kwargs)
    Improvement.objects.filter(pk=imp.pk).update(
        state="closed", updated_at=timezone.now() - dt.timedelta(days=31 * months_ago)
    )
    imp.refresh_from_db()
    return imp


def _retention_rule(people):
    from documents.retention.models import RetentionRule

    # Rules are one per kind; the generic tests need many, so they get made-up kinds.
    return RetentionRule.objects.create(record_kind=f"sample{RetentionRule.objects.count()}", retain_months=12)


def _legal_hold(people):
    from documents.retention.services import place_hold

    record = ImprovementFactory()
    return place_hold(record_kind="improvement", object_id=record.pk, reason="Litigation", by=people["admin"])


def _disposal_run(people):
    from documents.retention.models import RetentionRule
    from documents.retention.services import propose_run

    RetentionRule.objects.get_or_create(record_kind="improvement", defaults={"retain_months": 24})
    closed_improvement(people)
    return propose_run(by=people["admin"])


def _tombstone(people):
    from django.utils import timezone

    from documents.retention.models import Tombstone

    run = _disposal_run(people)
    return Tombstone.objects.create(
        record_kind="improvement", reference=f"IMP-{run.number}000", record_created_at=timezone.now(),
        closed_at=timezone.now(), action="dispose", rule_summary="improvement: 24 months", run=run,
        executed_by=people["admin"], executed_at=timezone.now(),
    )


def _register_retention_samples():
    from documents.retention.models import DisposalRun, LegalHold, RetentionRule, Tombstone

    SAMPLE_OBJECTS.update({
        RetentionRule: _retention_rule, LegalHold: _legal_hold, DisposalRun: _disposal_run, Tombstone: _tombstone,
    })


_register_retention_samples()


# --- CMDB audits (sms.cmdb, clause 9.1) -------------------------------------------------------
class CMDBAuditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cmdb.CMDBAudit"

    title = factory.Sequence(lambda n: f"CMDB audit {n}")
    description = "Audit of the CMDB records."
    stale_after_days = 365


def _cmdb_audit(people):
    ConfigurationItemFactory(owner=people["process_owner"])
    return CMDBAuditFactory(owner=people["process_owner"], auditor=people["auditor"])


def _register_cmdb_audit_samples() -> None:
    from sms.cmdb.models import CMDBAudit

    SAMPLE_OBJECTS[CMDBAudit] = _cmdb_audit


_register_cmdb_audit_samples()


# --- resolution processes (processes.resolution, clause 8.1) ---------------------------------
class ServiceCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resolution.ServiceCalendar"

    name = factory.Sequence(lambda n: f"Business hours {n}")
    time_zone = "Europe/London"
    working_hours = factory.LazyFunction(
        lambda: [{"day": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    )
    holidays = factory.LazyFunction(lambda: [{"date": "2026-12-25", "name": "Christmas Day"}])


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resolution.Category"

    name = factory.Sequence(lambda n: f"Category {n}")


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident logged through the same service path as the API (priority, due times)."""

    class Meta:
        model = "resolution.Incident"

    title = factory.Sequence(lambda n: f"E-mail not arriving {n}")
    description = "Users report that mail from outside is delayed."
    impact = 2
    urgency = 2

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from processes.resolution import services

        cis = kwargs.pop("affected_cis", None)
        incident = model_class(**kwargs)
        services.apply_priority(incident)
        services.schedule(incident)
        incident.save()
        if cis:
            incident.affected_cis.set(cis)
        return incident


def _service_hours(people):
    from processes.resolution.models import ServiceHours

    return ServiceHours.objects.create(service=ServiceFactory(), calendar=ServiceCalendarFactory())


def _priority_level(people):
    from processes.resolution.models import PriorityLevel
    from processes.resolution.services import ensure_defaults

    ensure_defaults()
    return PriorityLevel.objects.order_by("level").first()


def _matrix_cell(people):
    from processes.resolution.models import PriorityMatrixCell
    from processes.resolution.services import ensure_defaults

    ensure_defaults()
    return PriorityMatrixCell.objects.order_by("impact", "urgency").first()


def _resolution_settings(people):
    from processes.resolution.services import ensure_defaults

    return ensure_defaults()


def _incident(people):
    return IncidentFactory(
        owner=people["agent"], assignee=people["agent"], service=ServiceFactory(),
        caller=ContactFactory(), category=CategoryFactory(), affected_cis=[ConfigurationItemFactory()],
    )


def _group_member(people):
    from processes.resolution.models import GroupMember

    return GroupMember.objects.create(group=PartyFactory(party_type="internal_group"), user=people["agent"])


def _register_resolution_samples() -> None:
    from processes.resolution.models import (
        Category,
        GroupMember,
        Incident,
        PriorityLevel,
        PriorityMatrixCell,
        ResolutionSettings,
        ServiceCalendar,
        ServiceHours,
    )

    SAMPLE_OBJECTS.update({
        Incident: _incident,
        Category: lambda people: CategoryFactory(),
        ServiceCalendar: lambda people: ServiceCalendarFactory(),
        ServiceHours: _service_hours,
        PriorityLevel: _priority_level,
        PriorityMatrixCell: _matrix_cell,
        ResolutionSettings: _resolution_settings,
        GroupMember: _group_member,
    })


_register_resolution_samples()


# --- notification outbox (sms.core) -------------------------------------------------------------
def _outbound_message(people):
    from sms.core.outbox import queue_mail

    return queue_mail(["caller@example.test"], "Your incident", "It is being worked on.",
                      record=ImprovementFactory(), topic="test")[0]


def _register_outbox_samples() -> None:
    from sms.core.models import OutboundMessage

    SAMPLE_OBJECTS[OutboundMessage] = _outbound_message


_register_outbox_samples()


# --- problems and known errors (processes.resolution, clause 8.2) ----------------------------
class ProblemFactory(factory.django.DjangoModelFactory):
    """A problem prioritised through the same service path as the API."""

    class Meta:
        model = "resolution.Problem"

    title = factory.Sequence(lambda n: f"Mail delays keep coming back {n}")
    description = "Several incidents about delayed mail; the cause is not known."
    impact = 2
    urgency = 2

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from processes.resolution.services_problems import apply_problem_priority

        many = {k: kwargs.pop(k) for k in ("incidents", "services", "affected_cis") if k in kwargs}
        problem = model_class(**kwargs)
        apply_problem_priority(problem)
        problem.save()
        for key, values in many.items():
            getattr(problem, key).set(values)
        return problem


class KnownErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resolution.KnownError"

    title = factory.Sequence(lambda n: f"Mail gateway queue stalls {n}")
    symptoms = "Mail from outside arrives hours late; the gateway queue grows."
    root_cause = "The gateway's spam filter hangs on large attachments."
    workaround = "Restart the spam filter service on the gateway."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        many = {k: kwargs.pop(k) for k in ("services", "affected_cis") if k in kwargs}
        ke = model_class(**kwargs)
        ke.save()
        for key, values in many.items():
            getattr(ke, key).set(values)
        return ke


def _problem(people):
    return ProblemFactory(
        owner=people["process_owner"], assignee=people["agent"], category=CategoryFactory(),
        incidents=[_incident(people)], services=[ServiceFactory()], affected_cis=[ConfigurationItemFactory()],
    )


def _known_error(people):
    return KnownErrorFactory(
        owner=people["process_owner"], problem=ProblemFactory(), category=CategoryFactory(),
        services=[ServiceFactory()], affected_cis=[ConfigurationItemFactory()],
    )


def _register_problem_samples() -> None:
    from processes.resolution.models import KnownError, Problem

    SAMPLE_OBJECTS.update({Problem: _problem, KnownError: _known_error})


_register_problem_samples()


# --- service requests (processes.resolution, clause 8.1): see tests/factories_requests.py -------
import tests.factories_requests  # noqa: E402, F401


# --- escalation and major incidents (processes.resolution, clause 8.1) -------------------------
def _escalation_rule(people):
    from processes.resolution.models import EscalationRule

    return EscalationRule.objects.create(name=f"Warn at 75% ({EscalationRule.objects.count()})", target="resolution",
                                         percent=75, action="notify", notify="assignment_group")


def _escalation(people):
    from processes.resolution.models import Escalation

    rule = _escalation_rule(people)
    return Escalation.objects.create(incident=_incident(people), rule=rule, rule_name=rule.name, target="resolution",
                                     percent=75, action="notify", detail="Notified the group.")


def _major_definition(people):
    from processes.resolution.services_major import definition

    return definition()


def major_incident(people, **kwargs):
    """A declared major incident (not yet managed)."""
    from processes.resolution.services_major import declare_major

    incident = IncidentFactory(owner=people["agent"], impact=1, urgency=1, **kwargs)
    return declare_major(incident, by=people["agent"], reason="Every user is affected.")


def _major_review(people):
    from processes.resolution.models import MajorIncidentReview

    return MajorIncidentReview.objects.create(
        incident=major_incident(people), what_happened="Down", timeline="08:00 down, 09:00 up", causes="Certificate",
        improvements="Watch expiry dates",
    )


def _register_escalation_samples() -> None:
    from processes.resolution.models import Escalation, EscalationRule, MajorIncidentDefinition, MajorIncidentReview

    SAMPLE_OBJECTS.update({
        EscalationRule: _escalation_rule,
        Escalation: _escalation,
        MajorIncidentDefinition: _major_definition,
        MajorIncidentReview: _major_review,
    })


_register_escalation_samples()
