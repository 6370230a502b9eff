"""The document register as rows: revision status at a glance (clause 4.3.2 d)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import Document, DocumentVersion

REGISTER_HEADER = [
    "Reference", "Title", "Type", "Classification", "State", "Current version", "Issued", "Latest version",
    "Latest version status", "Owner", "Approved by", "Approved on", "Next review", "Review overdue",
    "Processes", "Clauses",
]


def with_register_data(queryset: QuerySet[Document]) -> QuerySet[Document]:
    """One query for the documents plus one for the latest version of each, however many rows."""
    latest = DocumentVersion.objects.order_by("document_id", "-number")
    return queryset.select_related(
        "owner", "current_version", "current_version__approved_by"
    ).prefetch_related(Prefetch("versions", queryset=latest, to_attr="_latest"))


def latest_version(document: Document) -> DocumentVersion | None:
    versions = getattr(document, "_latest", None)
    if versions is None:
        versions = list(document.versions.order_by("-number")[:1])
    return versions[0] if versions else None


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _safe(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ is read as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def register_rows(queryset: QuerySet[Document]) -> list[list[str]]:
    rows = []
    for doc in with_register_data(queryset):
        current = doc.current_version
        latest = latest_version(doc)
        rows.append([_safe(str(v)) for v in (
            doc.reference, doc.title, doc.get_document_type_display(), doc.get_classification_display(),
            doc.get_state_display(), current.number if current else "",
            current.issued_at.date().isoformat() if current and current.issued_at else "",
            latest.number if latest else "", latest.get_state_display() if latest else "",
            _person(doc.owner), _person(current.approved_by) if current else "",
            current.approved_at.date().isoformat() if current and current.approved_at else "",
            doc.next_review_date.isoformat() if doc.next_review_date else "",
            "yes" if doc.review_overdue else "no", "; ".join(doc.processes), "; ".join(doc.clauses),
        )])
    return rows
