"""The catalogue of services and what each service is made of (clauses 6.1 and 9.1)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from sms.core.models import Record, TrackedModel
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, transition

from ..choices import CIState, Criticality, ServiceState

S = ServiceState


class Service(WorkflowModel, Record):
    """A service in the catalogue of services (clause 6.1).

    The catalogue agreed with customers names each service, its owner, its customers,
    its hours of service, the other services it depends on and the CIs that are its
    service components (clause 6.1 asks for the dependencies between services and
    service components; 9.1 c for the CIs' relationships with service components).
    Every member of the tenant may read it.
    """

    state = StateField("status", choices=S.choices, default=S.PIPELINE)
    criticality = models.CharField(max_length=1, choices=Criticality.choices, default=Criticality.MEDIUM)
    hours_of_service = models.CharField(
        max_length=200, blank=True, help_text="When the service is available, e.g. Mon-Fri 07:00-19:00 CET."
    )
    is_customer_facing = models.BooleanField(
        default=True, help_text="Delivered to customers, rather than supporting other services."
    )
    customers = models.ManyToManyField(
        "parties.Party", through="cmdb.ServiceCustomer", related_name="services", blank=True
    )
    components = models.ManyToManyField(
        "cmdb.ConfigurationItem", through="cmdb.ServiceComponent", related_name="services", blank=True
    )
    depends_on = models.ManyToManyField(
        "self", through="cmdb.ServiceDependency", symmetrical=False, related_name="needed_by", blank=True
    )

    class Meta(Record.Meta):
        verbose_name = "service"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="cmdb_service_state_idx"),
            models.Index(fields=["tenant", "owner", "-number"], name="cmdb_service_owner_idx"),
            search_index("cmdb_service_search_idx", "title", "description"),
        ]

    @transition(source=S.PIPELINE, target=S.LIVE, label="Put into live use")
    def go_live(self, by=None, reason=""):
        pass

    @transition(source=[S.PIPELINE, S.LIVE], target=S.RETIRED, label="Retire", reason_required=True, style="danger")
    def retire(self, by=None, reason=""):
        pass

    @transition(source=S.RETIRED, target=S.LIVE, label="Reinstate", reason_required=True, style="secondary")
    def reinstate(self, by=None, reason=""):
        pass


class ServiceCustomer(TrackedModel):
    """A customer the service is delivered to (clause 6.1)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="customer_links")
    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="service_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "service", "party"], name="cmdb_servicecustomer_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "party"], name="cmdb_servicecustomer_party_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} for {self.party_id}"

    def clean(self) -> None:
        if self.party_id and not self.party.is_customer:
            raise ValidationError({"party": [f"{self.party} is not a customer."]})


class ServiceComponent(TrackedModel):
    """A CI that is a component of a service (clauses 6.1 and 9.1 c)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="component_links")
    ci = models.ForeignKey("cmdb.ConfigurationItem", on_delete=models.CASCADE, related_name="component_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "service", "ci"], name="cmdb_servicecomponent_uniq"),
        ]
        # Impact analysis walks from a CI to the services it is part of.
        indexes = [models.Index(fields=["tenant", "ci"], name="cmdb_servicecomponent_ci_idx")]

    def __str__(self) -> str:
        return f"{self.ci_id} in {self.service_id}"

    def clean(self) -> None:
        if self.ci_id and self.ci.state == CIState.DISPOSED:
            raise ValidationError({"ci": [f"{self.ci.reference} has been disposed of."]})


class ServiceDependency(TrackedModel):
    """One service depends on another (clause 6.1: dependencies between services)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependant_links")

    class Meta:
        verbose_name_plural = "service dependencies"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "service", "depends_on"], name="cmdb_servicedependency_uniq"),
            models.CheckConstraint(
                condition=~models.Q(service=models.F("depends_on")),
                name="cmdb_servicedependency_not_self",
                violation_error_message="A service cannot depend on itself.",
            ),
        ]
        # Impact analysis walks from a service to those that depend on it.
        indexes = [models.Index(fields=["tenant", "depends_on"], name="cmdb_servicedep_target_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} depends on {self.depends_on_id}"
