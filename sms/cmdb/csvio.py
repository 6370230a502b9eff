"""Import and export of CIs and relationships as CSV (clause 9.1: the CMDB is kept
accurate, with control of update access; changes are traceable).

CI files have one row per CI with these columns (only ``type`` and ``title`` are
required in an import; unknown columns are refused):

    reference, type, title, description, status, version, location, owner, serial_number,
    asset_tag, master_copy_location, master_copy_sha256, attributes, change_reason,
    change_reference

- ``type`` is the CI type's code, ``owner`` a member's username, ``status`` the status
  code (``live``...);
- ``attributes`` is one column holding a JSON object (``{"ram_gb": 32}``): types define
  different attributes, so one column per attribute would make a sparse, type-specific
  file; a JSON object round-trips every value type exactly;
- an empty ``reference`` creates a CI; a reference updates that CI of the tenant (a
  reference of another tenant is "not found" like any unknown one); the status of an
  existing CI only changes through its transitions, so it must be left empty or equal;
- for a CI whose type is under change control, a row that creates or changes it needs
  ``change_reason`` and ``change_reference`` (the RFC), as every other write does.

Relationship files: ``source, kind, target, note, change_reason`` with CI references;
relationships are added (an existing one is reported unchanged), never removed.

An import validates every row first and reports every error (row number as in a
spreadsheet, the header being row 1; column; message). A dry run stops there. A real
run writes all rows in one transaction, or nothing if any row fails; each change is in
the history with the reason "Imported from <file name>".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sms.core.api.serializers import tenant_members
from sms.tenancy import context

from .choices import CI_INITIAL_STATES, CIState, RelationshipKind
from .hooks import change_reference_errors
from .models import CIType, ConfigurationItem, Relationship
from .models.items import CHANGE_REFERENCE_RE

CI_COLUMNS = [
    "reference", "type", "title", "description", "status", "version", "location", "owner", "serial_number",
    "asset_tag", "master_copy_location", "master_copy_sha256", "attributes", "change_reason", "change_reference",
]
CI_REQUIRED = ["type", "title"]
RELATIONSHIP_COLUMNS = ["source", "kind", "target", "note", "change_reason"]
RELATIONSHIP_REQUIRED = ["source", "kind", "target"]
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
EXPORT_BATCH = 2000
# Model field -> CSV column, for errors raised by the model's own validation.
_FIELD_COLUMNS = {"ci_type": "type", "last_change_reference": "change_reference", "state": "status"}
_TEXT_FIELDS = ("title", "description", "version", "location", "serial_number", "asset_tag",
                "master_copy_location", "master_copy_sha256")


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, size, header)."""


@dataclass
class ImportReport:
    kind: str
    filename: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "filename": self.filename, "dry_run": self.dry_run, "valid": self.valid,
            "written": self.written, "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "errors": self.errors,
        }


# --- export ----------------------------------------------------------------------------------
class _Echo:
    def write(self, value: str) -> str:
        return value


def _batches(queryset) -> Iterator:
    """Keyset pages by primary key: each page is one ordinary query, so streaming needs
    no server-side cursor and memory stays flat whatever the size of the CMDB."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk")[:EXPORT_BATCH])
        if not page:
            return
        yield from page
        last = page[-1].pk


def _stream(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    # Captured now: the response is iterated after the view returned and the request's
    # tenant context was reset; every batch query runs under this tenant again.
    tenant, user = context.get_current_tenant(), context.get_current_user()
    writer = csv.writer(_Echo())

    def generate() -> Iterator[str]:
        with context.tenant_context(tenant, user):
            yield writer.writerow(header)
            for row in rows:
                yield writer.writerow(row)

    return generate()


def export_cis(queryset) -> Iterator[str]:
    """CSV lines of the CIs of ``queryset`` (already filtered), in the import's format."""
    qs = queryset.select_related("ci_type", "owner")

    def rows():
        for ci in _batches(qs):
            yield [
                ci.reference, ci.ci_type.code, ci.title, ci.description, ci.state, ci.version, ci.location,
                ci.owner.username if ci.owner_id else "", ci.serial_number, ci.asset_tag, ci.master_copy_location,
                ci.master_copy_sha256, json.dumps(ci.attributes or {}, sort_keys=True, ensure_ascii=False), "", "",
            ]

    return _stream(CI_COLUMNS, rows())


def export_relationships(queryset) -> Iterator[str]:
    qs = queryset.select_related("source", "target")

    def rows():
        for rel in _batches(qs):
            yield [rel.source.reference, rel.kind, rel.target.reference, rel.note, ""]

    return _stream(RELATIONSHIP_COLUMNS, rows())


# --- reading ---------------------------------------------------------------------------------
def read_rows(content: bytes, columns: list[str], required: list[str]) -> list[tuple[int, dict[str, str]]]:
    if len(content) > MAX_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text; save it as CSV UTF-8.") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration as exc:
        raise ImportFileError("The file is empty.") from exc
    except csv.Error as exc:
        raise ImportFileError(f"Not a readable CSV file: {exc}.") from exc
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        raise ImportFileError(f"The header row is not valid ({'; '.join(parts)}). Columns: {', '.join(columns)}.")
    if len(set(header)) != len(header):
        raise ImportFileError("A column appears twice in the header row.")
    rows = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"At most {MAX_ROWS} rows per file; split it.")
            padded = values + [""] * (len(header) - len(values))
            rows.append((number, {h: padded[i].strip() for i, h in enumerate(header)} | {
                "__extra__": str(len(values) > len(header))}))
    except csv.Error as exc:
        raise ImportFileError(f"Not a readable CSV file: {exc}.") from exc
    return rows


def _file_error(report: ImportReport, exc: ImportFileError) -> ImportReport:
    report.error(1, "", str(exc))
    return report


def _max_length(name: str) -> int:
    return ConfigurationItem._meta.get_field(name).max_length or 0


# --- CIs -----------------------------------------------------------------------------------------
@dataclass
class _Plan:
    row: int
    ci: ConfigurationItem
    creating: bool
    changed: bool
    reason: str


def import_cis(content: bytes, *, filename: str, by, dry_run: bool = True) -> ImportReport:
    """Validate, and unless ``dry_run`` write, a CSV file of CIs (see the module docstring)."""
    report = ImportReport("cis", filename, dry_run)
    try:
        rows = read_rows(content, CI_COLUMNS, CI_REQUIRED)
    except ImportFileError as exc:
        return _file_error(report, exc)
    report.rows = len(rows)
    types = {t.code.lower(): t for t in CIType.objects.all()}
    members = {u.username.lower(): u for u in tenant_members()}
    references = {r["reference"].upper() for _, r in rows if r.get("reference")}
    existing = {
        ci.reference.upper(): ci
        for ci in ConfigurationItem.objects.filter(reference__in=references).select_related("ci_type", "owner")
    }
    tags = {r["asset_tag"] for _, r in rows if r.get("asset_tag")}
    tag_owner = dict(ConfigurationItem.objects.filter(asset_tag__in=tags).values_list("asset_tag", "reference"))
    seen_refs: dict[str, int] = {}
    seen_tags: dict[str, int] = {}
    plans: list[_Plan] = []
    for number, data in rows:
        plan = _plan_ci(report, number, data, types, members, existing, tag_owner, seen_refs, seen_tags)
        if plan is not None:
            plans.append(plan)
    return _write(report, plans, filename, by, dry_run)


def _plan_ci(report, number, data, types, members, existing, tag_owner, seen_refs, seen_tags) -> _Plan | None:
    errors_before = len(report.errors)

    def err(column: str, message: str) -> None:
        report.error(number, column, message)

    if data.get("__extra__") == "True":
        err("", "The row has more values than the header has columns.")
    reference = data.get("reference", "").upper()
    ci = None
    if reference:
        if reference in seen_refs:
            err("reference", f"{reference} is also on row {seen_refs[reference]}.")
        seen_refs[reference] = number
        ci = existing.get(reference)
        if ci is None:
            err("reference", f"No CI {reference} in this tenant; leave the reference empty to create one.")
            return None
    creating = ci is None
    ci_type = types.get(data.get("type", "").lower())
    if ci_type is None:
        err("type", f"Unknown CI type {data.get('type')!r}; use a type code such as server.")
        return None
    if creating and not ci_type.is_active:
        err("type", f"The type {ci_type.name} is no longer in use.")
    if not creating and ci.ci_type_id != ci_type.pk:
        err("type", f"{ci.reference} is a {ci.ci_type.name}; the type of a CI cannot change.")
        return None
    status = data.get("status", "")
    if creating:
        # The status is given once, at registration; the state field is protected afterwards.
        if status and status not in [s.value for s in CI_INITIAL_STATES]:
            err("status", f"A CI is registered as {', '.join(s.value for s in CI_INITIAL_STATES)}.")
            status = ""
        ci = ConfigurationItem(ci_type=ci_type, state=status or CIState.PLANNED)
    elif status and status != ci.state:
        err("status", f"{ci.reference} is {ci.state}; the status changes through the CI's transitions.")
    if not data.get("title"):
        err("title", "A name is required.")
    before = {name: getattr(ci, name) for name in (*_TEXT_FIELDS, "owner_id", "attributes")}
    for name in _TEXT_FIELDS:
        if name in data:
            value = data[name]
            if len(value) > _max_length(name) and _max_length(name):
                err(name, f"At most {_max_length(name)} characters.")
            setattr(ci, name, value)
    if "owner" in data:
        username = data["owner"].lower()
        if username and username not in members:
            err("owner", f"{data['owner']} is not a member of this tenant.")
        else:
            ci.owner = members.get(username)
    if "attributes" in data:
        raw = data["attributes"] or "{}"
        try:
            values = json.loads(raw)
        except ValueError:
            err("attributes", 'Expected a JSON object, e.g. {"ram_gb": 32}.')
            values = None
        if values is not None:
            cleaned, problems = ci_type.check_attributes(values)
            for name, messages in problems.items():
                err("attributes", f"{name}: {' '.join(messages)}" if name != "attributes" else " ".join(messages))
            if not problems:
                ci.attributes = cleaned
    tag = data.get("asset_tag", "")
    if tag:
        if tag in seen_tags:
            err("asset_tag", f"The asset tag {tag} is also on row {seen_tags[tag]}.")
        seen_tags[tag] = number
        holder = tag_owner.get(tag)
        if holder is not None and holder.upper() != reference:
            err("asset_tag", f"{holder} already has the asset tag {tag}.")
    changed = creating or any(getattr(ci, k) != v for k, v in before.items())
    reason, change_reference = data.get("change_reason", ""), data.get("change_reference", "")
    if changed and ci_type.under_change_control:
        if not reason:
            err("change_reason", f"CIs of type {ci_type.name} are under change control: say why.")
        if not change_reference:
            err("change_reference", f"CIs of type {ci_type.name} are under change control: give the RFC.")
    if change_reference:
        if not CHANGE_REFERENCE_RE.match(change_reference):
            err("change_reference", "Expected a change reference such as CHG-42.")
        elif changed:
            refused = change_reference_errors(ci, change_reference) if ci_type.under_change_control else []
            for message in refused:
                err("change_reference", message)
            ci.last_change_reference = change_reference
    if len(report.errors) == errors_before and changed:
        try:
            ci.clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    err(_FIELD_COLUMNS.get(name, name if name != "__all__" else ""), message)
    if len(report.errors) != errors_before:
        return None
    detail = f": {reason} (under {change_reference})" if reason and change_reference else (f": {reason}" if reason
                                                                                             else "")
    return _Plan(number, ci, creating, changed, detail)


def _write(report: ImportReport, plans: list[_Plan], filename: str, by, dry_run: bool) -> ImportReport:
    for plan in plans:
        if plan.creating:
            report.created += 1
        elif plan.changed:
            report.updated += 1
        else:
            report.unchanged += 1
    if report.errors or dry_run:
        return report
    current = None
    try:
        with transaction.atomic():
            for plan in plans:
                if not plan.changed:
                    continue
                current = plan
                obj = plan.ci
                obj._history_user = by
                obj.save(reason=f"Imported from {filename}{plan.reason}")
    except IntegrityError:
        # Another writer took an asset tag or added a relationship meanwhile: nothing is kept.
        report.error(current.row if current else 1, "", "This row conflicts with the CMDB as it is now; "
                     "nothing was imported. Run the import again.")
        report.created = report.updated = 0
        return report
    report.written = True
    return report


# --- relationships ---------------------------------------------------------------------------------
def import_relationships(content: bytes, *, filename: str, by, dry_run: bool = True) -> ImportReport:
    """Validate, and unless ``dry_run`` add, a CSV file of relationships."""
    report = ImportReport("relationships", filename, dry_run)
    try:
        rows = read_rows(content, RELATIONSHIP_COLUMNS, RELATIONSHIP_REQUIRED)
    except ImportFileError as exc:
        return _file_error(report, exc)
    report.rows = len(rows)
    refs = {r[k].upper() for _, r in rows for k in ("source", "target") if r.get(k)}
    cis = {ci.reference.upper(): ci for ci in ConfigurationItem.objects.filter(reference__in=refs).select_related(
        "ci_type")}
    ids = [ci.pk for ci in cis.values()]
    existing = set(
        Relationship.objects.filter(source_id__in=ids, target_id__in=ids).values_list("source_id", "kind", "target_id")
    )
    seen: dict[tuple, int] = {}
    plans: list[_Plan] = []
    for number, data in rows:
        errors_before = len(report.errors)
        source, target = cis.get(data["source"].upper()), cis.get(data["target"].upper())
        kind = data["kind"]
        if data.get("__extra__") == "True":
            report.error(number, "", "The row has more values than the header has columns.")
        for column, ci in (("source", source), ("target", target)):
            if ci is None:
                report.error(number, column, f"No CI {data[column] or '(empty)'} in this tenant.")
            elif ci.state == CIState.DISPOSED:
                report.error(number, column, f"{ci.reference} has been disposed of.")
        if kind not in RelationshipKind.values:
            kinds = ", ".join(RelationshipKind.values)
            report.error(number, "kind", f"Unknown relationship kind {kind!r}; one of {kinds}.")
        elif source is not None and not source.ci_type.allows(kind):
            report.error(number, "kind", f"A {source.ci_type.name} cannot have a '{RelationshipKind(kind).label}' "
                         "relationship.")
        if source is not None and source == target:
            report.error(number, "target", "A CI cannot have a relationship with itself.")
        if len(data.get("note", "")) > 250:
            report.error(number, "note", "At most 250 characters.")
        if len(report.errors) != errors_before:
            continue
        key = (source.pk, kind, target.pk)
        if key in seen:
            report.error(number, "", f"The same relationship is also on row {seen[key]}.")
            continue
        seen[key] = number
        if key in existing:
            plans.append(_Plan(number, None, False, False, ""))
            continue
        reason = data.get("change_reason", "")
        if source.ci_type.under_change_control and not reason:
            report.error(number, "change_reason", f"CIs of type {source.ci_type.name} are under change control: "
                         "say why this relationship is added.")
            continue
        plans.append(_Plan(number, Relationship(source=source, kind=kind, target=target, note=data.get("note", "")),
                           True, True, f": {reason}" if reason else ""))
    return _write(report, plans, filename, by, dry_run)
