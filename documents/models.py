"""Controlled documents, their versions, distribution and acknowledgements (clause 4.3)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from sms.core.models import Record, TenantModel, TrackedModel
from sms.core.workflow import StateField, WorkflowModel, condition, transition
from sms.tenancy.roles import Role

from .choices import (
    OBSOLETE_STATES,
    Classification,
    DocumentState,
    DocumentType,
    VersionState,
    canonical_process,
    process_names,
)

S = VersionState
CLAUSE_RE = re.compile(r"^\d{1,2}(\.\d{1,2}){0,3}$")
MAX_REVIEW_MONTHS = 60


@condition("Issue or withdraw the current version before retiring the document.")
def has_no_issued_version(doc: Document) -> bool:
    return doc.current_version_id is None


class Document(WorkflowModel, Record):
    """A controlled document of the SMS (clause 4.3.1 and 4.3.2): a policy, plan, process
    description, procedure, SLA, contract, form or a document of external origin.

    The document is the identity (reference, owner, type, review cycle, distribution);
    its content lives in numbered ``DocumentVersion`` rows that are drafted, approved
    and issued. ``current_version`` points at the one issued version, if any, so every
    point of use finds the version in force without searching.
    """

    state = StateField(choices=DocumentState.choices, default=DocumentState.ACTIVE)
    document_type = models.CharField("type", max_length=20, choices=DocumentType.choices)
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.INTERNAL,
        help_text="Who may see the content: sets the handling of copies and exports.",
    )
    owning_role = models.CharField(
        "owning role", max_length=32, choices=Role.choices, blank=True,
        help_text="Optional: the role accountable for the document besides its owner.",
    )
    processes = ArrayField(
        models.CharField(max_length=100), default=list, blank=True,
        help_text="SMS processes this document serves, e.g. 'Change management'.",
    )
    clauses = ArrayField(
        models.CharField(max_length=20), default=list, blank=True,
        help_text="ISO/IEC 20000-1 clauses this document serves, e.g. '9.2'.",
    )
    review_interval_months = models.PositiveSmallIntegerField(
        "review interval (months)", default=12,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REVIEW_MONTHS)],
    )
    next_review_date = models.DateField(
        "next review", null=True, blank=True,
        help_text="Left empty, it is set one review interval from today.",
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    current_version = models.ForeignKey(
        "documents.DocumentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="issued version",
    )
    # Documents of external origin (clause 4.3.2 g).
    origin = models.CharField(
        max_length=200, blank=True, help_text="Who issued an external document (standards body, supplier, ...).",
    )
    external_reference = models.CharField(max_length=100, blank=True)
    version_received = models.CharField(max_length=50, blank=True)
    received_on = models.DateField(null=True, blank=True)
    copy_holders = models.TextField(
        "who may receive copies", blank=True,
        help_text="Distribution limits for copies, beyond the distribution list.",
    )

    class Meta(Record.Meta):
        verbose_name = "document"
        indexes = [
            models.Index(fields=["tenant", "document_type", "-number"], name="doc_document_type_idx"),
            # The register's overdue highlighting and the due-for-review panel.
            models.Index(fields=["tenant", "state", "next_review_date"], name="doc_document_review_idx"),
        ]

    @property
    def is_external(self) -> bool:
        return self.document_type == DocumentType.EXTERNAL

    @property
    def review_overdue(self) -> bool:
        return (
            self.state == DocumentState.ACTIVE
            and self.next_review_date is not None
            and self.next_review_date < timezone.localdate()
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.processes = sorted({canonical_process(p) for p in self.processes or [] if p and p.strip()})
        unknown = [p for p in self.processes if p not in process_names()]
        if unknown:
            errors["processes"] = f"Unknown process: {', '.join(unknown)}."
        self.clauses = sorted({c.strip() for c in self.clauses or [] if c and c.strip()})
        bad = [c for c in self.clauses if not CLAUSE_RE.match(c)]
        if bad:
            errors["clauses"] = f"Not a clause number: {', '.join(bad)} (write e.g. 4.3.2)."
        if self.is_external and not (self.origin or "").strip():
            errors["origin"] = "Say who issued this external document."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.next_review_date is None:
            from sms.core.models import add_interval

            self.next_review_date = add_interval(timezone.localdate(), self.review_interval_months or 12, "months")
        super().save(*args, **kwargs)
        from .services import sync_review_activity

        sync_review_activity(self)

    @transition(source=DocumentState.ACTIVE, target=DocumentState.RETIRED, label="Retire",
                capability="document.approve", conditions=[has_no_issued_version], reason_required=True,
                style="danger")
    def retire(self, by=None, reason=""):
        pass

    @transition(source=DocumentState.RETIRED, target=DocumentState.ACTIVE, label="Reinstate",
                capability="document.approve", reason_required=True)
    def reinstate(self, by=None, reason=""):
        pass


@condition("Write the content or upload a file first.", field="content")
def has_content(v: DocumentVersion) -> bool:
    return bool((v.content or "").strip() or v.file)


@condition("Summarise what changed in this version.", field="change_summary")
def has_change_summary(v: DocumentVersion) -> bool:
    return bool((v.change_summary or "").strip())


@condition("The document is retired; reinstate it before issuing a version.")
def document_is_active(v: DocumentVersion) -> bool:
    return v.document.state == DocumentState.ACTIVE


def version_file_path(instance: DocumentVersion, filename: str) -> str:
    return f"documents/{instance.tenant_id}/{instance.sha256[:2]}/{instance.sha256}"


class DocumentVersion(WorkflowModel, TrackedModel):
    """One numbered version of a controlled document (clause 4.3.2 a, d, e, h).

    Drafted by its author, sent to review, approved by someone else holding
    ``document.approve``, then issued; issuing supersedes the version in force in the
    same transaction, and a partial unique constraint keeps at most one issued
    version per document. Superseded and withdrawn versions stay retrievable, marked
    as obsolete, and cannot be acknowledged.
    """

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(editable=False)
    state = StateField(choices=S.choices, default=S.DRAFT)
    change_summary = models.CharField(max_length=500, blank=True, help_text="What changed in this version.")
    reason = models.TextField("reason for the change", blank=True)
    content = models.TextField(blank=True, help_text="Markdown. Leave empty when the content is an uploaded file.")
    file = models.FileField(upload_to=version_file_path, max_length=255, blank=True, editable=False)
    filename = models.CharField(max_length=255, blank=True, editable=False)
    file_content_type = models.CharField(max_length=127, blank=True, editable=False)
    file_size = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="approver",
    )
    approved_at = models.DateTimeField("approved", null=True, blank=True, editable=False)
    approval_note = models.TextField(blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    issued_at = models.DateTimeField("issued", null=True, blank=True, editable=False)
    obsolete_at = models.DateTimeField("superseded or withdrawn", null=True, blank=True, editable=False)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    withdrawal_reason = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = "document version"
        ordering = ["document_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "document", "number"], name="doc_version_number_uniq"),
            # At most one version in force per document (clause 4.3.2 e and h).
            models.UniqueConstraint(
                fields=["tenant", "document"], condition=models.Q(state="issued"), name="doc_version_one_issued",
                violation_error_message="This document already has an issued version.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "state", "-created_at"], name="doc_version_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document.reference} v{self.number}"

    @classmethod
    def kind(cls):
        """Versions share the document kind's capability area (``document.*``)."""
        from sms.core.registry import kinds

        return kinds.get("document")

    @property
    def label(self) -> str:
        return f"Version {self.number}"

    @property
    def is_obsolete(self) -> bool:
        return self.state in OBSOLETE_STATES

    @property
    def is_current(self) -> bool:
        return self.state == S.ISSUED

    @property
    def content_html(self) -> str:
        from .markdown import render_markdown

        return render_markdown(self.content)

    # --- workflow ---------------------------------------------------------------------
    @transition(source=S.DRAFT, target=S.IN_REVIEW, label="Send to review", capability="document.update",
                conditions=[has_content, has_change_summary])
    def submit(self, by=None, reason=""):
        self.submitted_at = timezone.now()

    @transition(source=S.IN_REVIEW, target=S.DRAFT, label="Return to draft", capability="document.update",
                reason_required=True, style="secondary")
    def return_to_draft(self, by=None, reason=""):
        self.submitted_at = None

    @transition(source=S.IN_REVIEW, target=S.APPROVED, label="Approve", capability="document.approve",
                separate_from="created_by", permitted=lambda version, user, membership: approver_refusal(
                    version.document.document_type, membership))
    def approve(self, by=None, reason=""):
        self.approved_by = by
        self.approved_at = timezone.now()
        self.approval_note = reason

    @transition(source=S.APPROVED, target=S.ISSUED, label="Issue", capability="document.transition",
                conditions=[document_is_active])
    def issue(self, by=None, reason=""):
        from .services import on_issue

        self.issued_by = by
        self.issued_at = timezone.now()
        on_issue(self, by=by)

    # Taken only by ``issue`` on the version it replaces: no role holds this capability.
    @transition(source=S.ISSUED, target=S.SUPERSEDED, label="Supersede", capability="document.supersede")
    def supersede(self, by=None, reason="", successor=None):
        self.obsolete_at = timezone.now()
        self.superseded_by = successor

    @transition(source=[S.DRAFT, S.IN_REVIEW, S.APPROVED, S.ISSUED], target=S.WITHDRAWN, label="Withdraw",
                capability="document.approve", reason_required=True, style="danger")
    def withdraw(self, by=None, reason=""):
        from .services import on_withdraw

        was_issued = self.state == S.ISSUED
        self.obsolete_at = timezone.now()
        self.withdrawal_reason = reason
        if was_issued:
            on_withdraw(self, by=by)


def approver_refusal(document_type: str, membership) -> str | None:
    """Why ``membership`` may not approve documents of this type, or None. Without a rule
    for the type, holding ``document.approve`` is enough."""
    rule = ApprovalRule.objects.filter(document_type=document_type).first()
    if rule is None or membership is None or set(rule.roles) & set(membership.roles):
        return None
    labels = ", ".join(Role(r).label for r in rule.roles)
    return f"Only these roles approve {DocumentType(document_type).label.lower()} documents here: {labels}."


class ApprovalRule(TrackedModel):
    """Who approves documents of one type in this tenant (clause 4.3.2 a: documents are
    approved for adequacy before issue, by those with the authority to do so): e.g. the
    service management policy by top management, procedures by process owners."""

    document_type = models.CharField("type", max_length=20, choices=DocumentType.choices)
    roles = ArrayField(
        models.CharField(max_length=32, choices=Role.choices),
        help_text="Members holding any of these roles (and the approval capability) approve this type.",
    )

    class Meta:
        ordering = ["document_type"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "document_type"], name="doc_approvalrule_type_uniq",
                                    violation_error_message="This document type already has an approval rule."),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()}: {', '.join(self.roles)}"

    def clean(self) -> None:
        from sms.tenancy.roles import has_capability

        roles = sorted(set(self.roles or []))
        if not roles:
            raise ValidationError({"roles": "Name at least one role."})
        unable = [Role(r).label for r in roles if r in Role.values and not has_capability([r], "document.approve")]
        if unable:
            raise ValidationError({"roles": f"These roles cannot approve documents at all: {', '.join(unable)}."})
        self.roles = roles


class DistributionEntry(TrackedModel):
    """Who receives a document when a version is issued (clause 4.3.2 b and g): a role
    (every active member holding it), a user, or a party (customer, supplier, ...)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="distribution")
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    party = models.ForeignKey("parties.Party", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "distribution entry"
        verbose_name_plural = "distribution list"
        ordering = ["document_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role__gt="", user__isnull=True, party__isnull=True)
                    | models.Q(role="", user__isnull=False, party__isnull=True)
                    | models.Q(role="", user__isnull=True, party__isnull=False)
                ),
                name="doc_distribution_one_recipient",
                violation_error_message="Name exactly one recipient: a role, a user or a party.",
            ),
            models.UniqueConstraint(fields=["tenant", "document", "role"], condition=~models.Q(role=""),
                                    name="doc_distribution_role_uniq"),
            models.UniqueConstraint(fields=["tenant", "document", "user"], condition=models.Q(user__isnull=False),
                                    name="doc_distribution_user_uniq"),
            models.UniqueConstraint(fields=["tenant", "document", "party"], condition=models.Q(party__isnull=False),
                                    name="doc_distribution_party_uniq"),
        ]

    def __str__(self) -> str:
        return str(self.recipient_label)

    @property
    def recipient_label(self) -> str:
        if self.role:
            return f"Role: {self.get_role_display()}"
        if self.user_id:
            return self.user.get_full_name() or self.user.username
        return f"Party: {self.party}"


class Acknowledgement(TenantModel):
    """A request to a person to confirm they have read an issued version, and their
    confirmation (clause 4.3.2 b: communicate new or changed documents)."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version", "user"], name="doc_ack_version_user_uniq"),
        ]
        indexes = [
            # A person's outstanding acknowledgements (home panel).
            models.Index(fields=["tenant", "user", "acknowledged_at"], name="doc_ack_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.version}"

    @property
    def is_outstanding(self) -> bool:
        return self.acknowledged_at is None
