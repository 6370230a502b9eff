"""Service requests (clause 8.1): the request catalogue per service, requests with their
approval decisions, and the fulfilment tasks created from the catalogue item."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from sms.core.models import Record, TrackedModel
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition
from sms.tenancy.roles import Role

from .. import catalogue_schema as cs
from ..choices import ApprovalMode, Decision, RequestState, TaskState
from .config import LEVEL_CHOICES, MAX_TARGET_MINUTES

S = RequestState


class CatalogueItem(TrackedModel):
    """Something users may ask of a service (clause 8.1: requests are fulfilled
    according to the agreed procedure): what is asked, who approves it, which tasks
    fulfil it and how fast."""

    service = models.ForeignKey("cmdb.Service", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True, help_text="Shown to the person requesting it.")
    is_active = models.BooleanField(default=True, help_text="Inactive items are not offered in the catalogue.")
    fields = models.JSONField(
        "questions",
        default=list,
        blank=True,
        help_text='What to ask, e.g. [{"label": "Model", "type": "choice", "required": true, '
        '"choices": ["13-inch", "15-inch"]}]. Types: text, textarea, number, date, boolean, choice, email.',
    )
    approval = models.CharField("approval", max_length=10, choices=ApprovalMode.choices, default=ApprovalMode.NONE)
    approver_role = models.CharField(
        max_length=30,
        choices=[(r.value, r.label) for r in Role if r != Role.AUDITOR],
        blank=True,
        help_text="With approval by role: anyone holding this role in the tenant may decide.",
    )
    approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="With named approvers: any one of these people may decide.",
    )
    tasks = models.JSONField(
        "fulfilment tasks",
        default=list,
        blank=True,
        help_text='Created in this order when the request is approved: [{"title": "...", "description": "..."}].',
    )
    priority = models.PositiveSmallIntegerField(
        choices=LEVEL_CHOICES,
        default=4,
        help_text="The priority given to requests for this item; its response target applies.",
    )
    fulfilment_minutes = models.PositiveIntegerField(
        "fulfilment target (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
        help_text="Working minutes of the service's calendar to fulfil it; empty: the priority's resolution target.",
    )

    class Meta:
        verbose_name = "catalogue item"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "service",
                Lower("name"),
                name="resolution_catitem_name_uniq",
                violation_error_message="This service already has a catalogue item of this name.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "service", "is_active"], name="resolution_catitem_svc_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_approval(self) -> bool:
        return self.approval != ApprovalMode.NONE

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.name = (self.name or "").strip()
        if not self.name:
            errors["name"] = "A name is required."
        try:
            self.fields = cs.normalise_schema(self.fields)
        except cs.SchemaError as exc:
            errors["fields"] = str(exc)
        try:
            self.tasks = cs.normalise_tasks(self.tasks)
        except cs.SchemaError as exc:
            errors["tasks"] = str(exc)
        if self.approval == ApprovalMode.ROLE and not self.approver_role:
            errors["approver_role"] = "Choose the role whose holders approve these requests."
        if self.approval != ApprovalMode.ROLE and self.approver_role:
            self.approver_role = ""
        if errors:
            raise ValidationError(errors)


@condition("This item needs approval.")
def approval_needed(req: ServiceRequest) -> bool:
    return req.needs_approval


@condition("This item needs no approval.")
def approval_not_needed(req: ServiceRequest) -> bool:
    return not req.needs_approval


@condition("Complete the fulfilment tasks first (or mark them not needed).", field="tasks")
def tasks_done(req: ServiceRequest) -> bool:
    return not req.tasks.filter(state=TaskState.OPEN).exists()


def may_decide(req: ServiceRequest, user, membership) -> str | None:
    """Who may approve or reject: an approver of the item (its role, or one of its named
    people), and never the person the request is for or who submitted it."""
    if user.pk in (req.requester_id, req.created_by_id):
        return "You requested this; someone else must approve or reject it."
    item = req.catalogue_item
    if item.approval == ApprovalMode.ROLE:
        if membership is None or item.approver_role not in membership.roles:
            return f"Only holders of the role {Role(item.approver_role).label} decide on {item.name}."
        return None
    if item.approval == ApprovalMode.NAMED:
        if not item.approvers.filter(pk=user.pk).exists():
            return f"Only the named approvers of {item.name} decide on it."
        return None
    # The item stopped needing approval after this request was sent for it: anyone who
    # may decide on requests settles it rather than leaving it stuck.
    return None


def may_cancel(req: ServiceRequest, user, membership) -> str | None:
    """The service desk (``request.transition``) or the person who asked may cancel."""
    if membership is not None and membership.can("request.transition"):
        return None
    if user.pk in (req.requester_id, req.created_by_id):
        return None
    return "Only the service desk or the person who asked for it may cancel this request."


class ServiceRequest(WorkflowModel, Record):
    """A request for something the catalogue offers (clause 8.1): submitted with the
    item's questions answered, approved where the item says so, fulfilled through its
    tasks within targets that run in the service's hours (the clock pauses while the
    request waits for approval), then closed."""

    state = StateField(choices=S.choices, default=S.SUBMITTED)
    catalogue_item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="requests")
    service = models.ForeignKey("cmdb.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="requested for",
        help_text="Who needs it; the person who submitted it is kept as its creator.",
    )
    customer = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"party_type": "customer"},
    )
    questions = models.JSONField(default=list, blank=True, editable=False, help_text="The item's questions when asked.")
    answers = models.JSONField(default=dict, blank=True, editable=False)
    needs_approval = models.BooleanField(default=False, editable=False)
    priority = models.PositiveSmallIntegerField(choices=LEVEL_CHOICES, default=4, editable=False)
    assignment_group = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"party_type": "internal_group"},
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Clocks (see services_requests.py), as for incidents; waiting for approval pauses both.
    responded_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    fulfilled_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_since = models.DateTimeField(null=True, blank=True, editable=False)
    paused_minutes = models.PositiveIntegerField(default=0, editable=False)
    response_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    fulfilment_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_breached = models.BooleanField(default=False, editable=False)
    fulfilment_breached = models.BooleanField(default=False, editable=False)

    class Meta(Record.Meta):
        verbose_name = "service request"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="resolution_req_state_idx"),
            models.Index(fields=["tenant", "assignee", "state"], name="resolution_req_assignee_idx"),
            models.Index(fields=["tenant", "requester", "state"], name="resolution_req_requester_idx"),
            models.Index(fields=["tenant", "catalogue_item", "state"], name="resolution_req_item_idx"),
            models.Index(fields=["tenant", "service", "state"], name="resolution_req_service_idx"),
            models.Index(fields=["tenant", "state", "fulfilment_due_at"], name="resolution_req_due_idx"),
            search_index("resolution_req_search_idx", "title", "description"),
        ]

    # --- workflow ---------------------------------------------------------------------------
    # The submitter routes the request: to its approvers, or straight on when none are needed.
    @transition(
        source=S.SUBMITTED,
        target=S.AWAITING_APPROVAL,
        label="Send for approval",
        capability="request.create",
        conditions=[approval_needed],
    )
    def send_for_approval(self, by=None, reason=""):
        from ..services_requests import notify

        self.paused_since = timezone.now()
        notify(self, S.AWAITING_APPROVAL, by=by)

    @transition(
        source=S.SUBMITTED,
        target=S.APPROVED,
        label="Accept (no approval needed)",
        capability="request.create",
        conditions=[approval_not_needed],
    )
    def accept(self, by=None, reason=""):
        from ..services_requests import create_tasks

        create_tasks(self)

    @transition(
        source=S.AWAITING_APPROVAL,
        target=S.APPROVED,
        label="Approve",
        capability="request.decide",
        reason_required=True,
        permitted=may_decide,
    )
    def approve(self, by=None, reason=""):
        from ..services_requests import create_tasks, end_pause, notify, record_decision

        record_decision(self, Decision.APPROVED, by=by, rationale=reason)
        end_pause(self)
        create_tasks(self)
        notify(self, S.APPROVED, by=by, reason=reason)

    @transition(
        source=S.AWAITING_APPROVAL,
        target=S.REJECTED,
        label="Reject",
        capability="request.decide",
        reason_required=True,
        permitted=may_decide,
        style="danger",
    )
    def reject(self, by=None, reason=""):
        from ..services_requests import end_pause, notify, record_decision

        record_decision(self, Decision.REJECTED, by=by, rationale=reason)
        end_pause(self)
        self.closed_at = self.decided_at
        notify(self, S.REJECTED, by=by, reason=reason)

    @transition(source=S.APPROVED, target=S.IN_FULFILMENT, label="Start fulfilment")
    def start(self, by=None, reason=""):
        if self.assignee_id is None and by is not None:
            self.assignee = by
        self._responded()

    @transition(source=S.IN_FULFILMENT, target=S.FULFILLED, label="Fulfil", conditions=[tasks_done])
    def fulfil(self, by=None, reason=""):
        from ..services_requests import notify, refresh_breaches

        self._responded()
        self.fulfilled_at = timezone.now()
        refresh_breaches(self)
        notify(self, S.FULFILLED, by=by, reason=reason)

    @transition(source=S.FULFILLED, target=S.CLOSED, label="Close")
    def close(self, by=None, reason=""):
        self.closed_at = timezone.now()

    @transition(
        source=[S.SUBMITTED, S.AWAITING_APPROVAL, S.APPROVED, S.IN_FULFILMENT],
        target=S.CANCELLED,
        label="Cancel",
        capability="request.create",
        reason_required=True,
        permitted=may_cancel,
        style="danger",
    )
    def cancel(self, by=None, reason=""):
        from ..services_requests import cancel_open_tasks, end_pause, notify

        end_pause(self)
        cancel_open_tasks(self, by=by, reason=reason)
        self.closed_at = timezone.now()
        notify(self, S.CANCELLED, by=by, reason=reason)

    def _responded(self) -> None:
        if self.responded_at is None:
            from ..services_requests import refresh_breaches

            self.responded_at = timezone.now()
            refresh_breaches(self)


class RequestDecision(TrackedModel):
    """One approval decision on a request, with its rationale (evidence that requests
    needing approval were approved by someone entitled to, and not the requester)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    rationale = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "approval decision"
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["tenant", "request", "decided_at"], name="resolution_reqdec_req_idx")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.decided_by_id}"


class FulfilmentTask(TrackedModel):
    """A step of fulfilling a request, made from the catalogue item's task templates; the
    request is fulfilled only when none is left open."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.OPEN, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="What was done.")
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = "fulfilment task"
        ordering = ["request_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "request", "position"], name="resolution_task_position_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "assignee", "state"], name="resolution_task_assignee_idx")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"
