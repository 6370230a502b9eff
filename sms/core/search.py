"""Global search across every record kind (clause 4.3.3: records can be retrieved).

One SQL statement whatever the number of kinds: a UNION ALL of one full-text query per
kind the member may view, ranked together. Tenant scoping comes from each kind's
fail-closed manager and, underneath, row-level security. Matching uses PostgreSQL
full-text search (``websearch_to_tsquery``: quotes, ``or`` and ``-word`` work) plus an
exact match on the reference, so ``IMP-12`` always finds IMP-12.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db.models import CharField, F, Q, Value
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from .registry import RecordKind, kinds

CONFIG = "english"
_REFERENCE = re.compile(r"^([A-Za-z]{1,10})-(\d{1,12})$")
MAX_RESULTS = 50
# Markers PostgreSQL puts around matches in headlines; replaced after HTML-escaping the
# text, so user content never reaches the page as markup.
_START, _STOP = "\x02", "\x03"


def search_index(name: str, *fields: str) -> GinIndex:
    """The GIN index behind the search of a kind (put it in the model's Meta.indexes);
    ``fields`` must be the kind's ``search_fields``."""
    return GinIndex(SearchVector(*(fields or ("title", "description")), config=CONFIG), name=name)


@dataclass(frozen=True)
class SearchHit:
    kind: RecordKind
    pk: int
    reference: str
    title: str
    rank: float
    headline: SafeString


def _vector(kind: RecordKind) -> SearchVector:
    return SearchVector(*kind.search_fields, config=CONFIG)


def searchable_kinds(membership, only: str | None = None) -> list[RecordKind]:
    return [
        k for k in kinds
        if membership is not None and membership.can(f"{k.code}.view") and (only is None or k.code == only)
    ]


def _headline(raw: str | None) -> SafeString:
    text = escape(raw or "")
    return mark_safe(text.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308 - escaped above


def reference_of(model, text: str) -> str | None:
    """``text`` as a reference of the record kind ``model`` is (``inc-042`` gives
    ``INC-42``), or None when it is not one."""
    match = _REFERENCE.match(text.strip())
    kind = kinds.find_model(model) if match else None
    if kind is None or kind.prefix.upper() != match.group(1).upper():
        return None
    return f"{kind.prefix}-{int(match.group(2))}"


def _by_reference(chosen: list[RecordKind], text: str) -> list[SearchHit]:
    """The record whose reference ``text`` is, through the (tenant, reference) index; empty
    when no kind the member may view has that prefix or no such record exists. Under
    row-level security the full-text condition can use no index (its functions are not
    leakproof), so the general search reads every row of every kind: 1.3 s at 1,000,000
    incidents, for a reference pasted from a mail."""
    found = ((k, reference_of(k.model, text)) for k in chosen)
    kind, reference = next(((k, ref) for k, ref in found if ref is not None), (None, None))
    if kind is None:
        return []
    row = kind.model.objects.filter(reference=reference).values("pk", "title", "description").first()
    if row is None:
        return []
    excerpt = Truncator(row["description"] or "").words(30)
    return [SearchHit(kind, row["pk"], reference, row["title"], 10.0, _headline(excerpt))]


def search(membership, text: str, *, kind: str | None = None, limit: int = MAX_RESULTS) -> list[SearchHit]:
    """Records matching ``text``, best first. A reference (``INC-42``) finds its record
    at once; other text is searched as words in every kind the member may view."""
    text = (text or "").strip()
    chosen = searchable_kinds(membership, kind)
    if not text or not chosen:
        return []
    exact = _by_reference(chosen, text)
    if exact:
        return exact
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    parts = []
    for k in chosen:
        vector = _vector(k)
        parts.append(
            k.model.objects.annotate(search_doc=vector)
            .filter(Q(search_doc=query) | Q(reference__iexact=text))
            .annotate(
                kind_code=Value(k.code, output_field=CharField()),
                rank=SearchRank(vector, query, cover_density=False),
                headline=SearchHeadline(
                    "description", query, config=CONFIG, start_sel=_START, stop_sel=_STOP,
                    max_words=30, min_words=10, max_fragments=2,
                ),
                ref=F("reference"),
            )
            .values_list("kind_code", "pk", "ref", "title", "rank", "headline")
        )
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    rows = list(combined.order_by("-rank", "ref")[:limit])
    by_code = {k.code: k for k in chosen}
    hits = []
    for code, pk, reference, title, rank, headline in rows:
        # An exact reference match ranks first.
        rank = 10.0 if reference.lower() == text.lower() else float(rank or 0.0)
        hits.append(SearchHit(by_code[code], pk, reference, title, rank, _headline(headline)))
    hits.sort(key=lambda h: -h.rank)
    return hits
