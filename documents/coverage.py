"""Which SMS processes have their documentation in force (clause 4.3.1: documented
policies, processes and procedures).

A process counts as documented for a column when an active document of that type,
with an issued version, names the process. A policy naming "Service management system"
covers every process's policy column: one service management policy may serve all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .choices import DocumentState, DocumentType, process_names
from .models import Document

COLUMNS = (DocumentType.POLICY, DocumentType.PROCESS, DocumentType.PROCEDURE)
WHOLE_SMS = "Service management system"


@dataclass
class ProcessCoverage:
    process: str
    documents: dict[str, list[Document]] = field(default_factory=dict)  # type -> issued documents
    drafts: dict[str, list[Document]] = field(default_factory=dict)  # type -> documents with nothing issued

    @property
    def missing(self) -> list[str]:
        return [t for t in COLUMNS if not self.documents.get(t)]

    @property
    def complete(self) -> bool:
        return not self.missing


def process_coverage() -> list[ProcessCoverage]:
    """One row per SMS process, in one query."""
    rows = {name: ProcessCoverage(name) for name in process_names()}
    docs = (
        Document.objects.filter(state=DocumentState.ACTIVE, document_type__in=COLUMNS)
        .select_related("current_version").order_by("number")
    )
    for doc in docs:
        bucket = "documents" if doc.current_version_id else "drafts"
        names = rows.keys() if doc.document_type == DocumentType.POLICY and WHOLE_SMS in doc.processes \
            else doc.processes
        for name in names:
            if name in rows:
                getattr(rows[name], bucket).setdefault(doc.document_type, []).append(doc)
    return list(rows.values())
