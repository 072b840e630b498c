"""Importing a table of records: validate every row, then write all of them or none.

The whole import runs inside one SAVEPOINT. Each row goes through `record_service.create_record`
or `update_record`, exactly as an API call would; a row that fails is noted with its row number
and the import carries on checking the rest. At the end, any error (or a dry run) rolls the
savepoint back, so nothing of the file is written; otherwise the savepoint is released and the
caller's commit makes the whole file visible at once.

Matching rows to existing records is done in bulk: the keys of the whole file are looked up in
a few `IN (...)` queries (and checked against the actor's update scope the same way), so an
import of 100,000 rows does not run 100,000 look-ups before its writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, Forbidden, Invalid, WeftError
from crm_domain import custom_fields
from crm_domain import record_service as records
from crm_domain.access import Actor
from crm_domain.collections import get_collection
from crm_domain.exchange.columns import CellError, ExchangeFormat, HeaderMap, exchange_format
from crm_domain.exchange.reading import Table
from crm_domain.unique_violations import ALREADY_USED, refused_fields

MAX_REPORTED_ERRORS = 1000
LOOKUP_CHUNK = 500
PROGRESS_EVERY = 250
MASKED = re.compile(r"^\*{4,}[^*]{0,4}$")

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    collection: str
    dry_run: bool
    filename: str | None = None
    format: str | None = None
    encoding: str | None = None
    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # header in the file -> field
    ignored_columns: list[str] = field(default_factory=list)
    applied: bool = False

    def add_error(self, row: int | None, column: str | None, name: str | None, message: str):
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": column, "field": name, "message": message})

    def to_dict(self) -> dict:
        return {
            "collection": self.collection,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "filename": self.filename,
            "format": self.format,
            "encoding": self.encoding,
            "total_rows": self.total_rows,
            "processed_rows": self.processed_rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_rows": self.error_rows,
            "errors": self.errors,
            "errors_truncated": self.error_rows > 0 and len(self.errors) >= MAX_REPORTED_ERRORS,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
        }


class ImportFailed(Invalid):
    """422: the file has errors; nothing was written. `details` lists `{row, column, field,
    message}`; `report` has the counts."""

    def __init__(self, message: str, report: ImportReport):
        super().__init__(message, details=report.errors)
        self.report = report

    def to_dict(self) -> dict:
        body = super().to_dict()
        summary = self.report.to_dict()
        summary.pop("errors")
        body["error"]["report"] = summary
        return body


@dataclass
class _Row:
    number: int
    data: dict = field(default_factory=dict)
    custom: dict = field(default_factory=dict)
    references: dict = field(default_factory=dict)
    masked: list = field(default_factory=list)  # sensitive fields given as masked values
    failed: bool = False  # has an error (the import will not be applied)
    blocked: bool = False  # cannot even be checked by the service (its target is unclear)
    bad_fields: set = field(default_factory=set)  # fields whose cells could not be read
    target: int | None = None  # the id of the record this row updates


def import_records(
    session: Session,
    actor: Actor,
    name: str,
    table: Table,
    *,
    dry_run: bool = False,
    ignore_unknown: bool = False,
    filename: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import `table` into collection `name` as `actor`; all or nothing.

    Returns the report (nothing written when `dry_run`); raises `ImportFailed` (422) with the
    row errors when any row is wrong, `Forbidden` without the `import` grant.
    """
    check_import_allowed(actor, name)
    spec = exchange_format(session, name)
    report = ImportReport(
        collection=name,
        dry_run=dry_run,
        filename=filename,
        format=table.format,
        encoding=table.encoding,
    )
    header, missing = _check_header(spec, table, ignore_unknown, report)
    if not table.rows:
        raise Invalid(
            "The file has no data rows.",
            details=[{"row": 2, "column": None, "field": None, "message": "No data rows."}],
        )

    rows = _parse(spec, header, table, actor, report)
    report.total_rows = len(rows)
    if progress:
        progress(0, report.total_rows)
    _match(session, actor, spec, header, rows, report)
    _resolve_parents(session, actor, spec, header, rows, report)

    with custom_fields.cached_definitions(session), session.begin_nested() as savepoint:
        _write(session, actor, spec, header, rows, report, missing, progress)
        report.error_rows = sum(1 for row in rows if row.failed)
        if report.error_rows or dry_run:
            savepoint.rollback()
    if report.error_rows:
        report.errors.sort(key=lambda error: error["row"] or 0)
        raise ImportFailed(
            f"{report.error_rows} of {report.total_rows} rows have errors; "
            + ("this file would not be imported." if dry_run else "nothing was imported."),
            report,
        )
    report.applied = not dry_run
    return report


def check_import_allowed(actor: Actor, name: str) -> None:
    """403 unless the actor holds the `import` grant and may create or change `name`."""
    actor.require_grant("import", "Importing records")
    get_collection(name)
    records.required_scope(actor, name, "read")
    if not any(actor.rights.scope(name, action) for action in ("create", "update")):
        raise Forbidden(f"You may not create or change {name}.")


def check_header(
    session: Session, name: str, table: Table, *, ignore_unknown: bool = False
) -> None:
    """Raise `ImportFailed` now when the header row is wrong (before a job is queued)."""
    report = ImportReport(collection=name, dry_run=False, format=table.format)
    _check_header(exchange_format(session, name), table, ignore_unknown, report)


def _check_header(spec: ExchangeFormat, table: Table, ignore_unknown: bool, report: ImportReport):
    header = spec.map_headers(table.headers, ignore_unknown=ignore_unknown)
    report.columns = {text: column for column, text in header.headers.items()}
    report.ignored_columns = header.ignored
    for error in header.errors:
        report.add_error(**_error_args(error))
    has_key = any(key in header.headers for key in ("id", *spec.keys))
    missing = spec.missing_required(header)
    if missing and not has_key:
        for column in missing:
            zh = column.label.get("zh")
            report.add_error(
                1,
                zh or column.name,
                column.name,
                f"The required column '{column.name}'{f' ({zh})' if zh else ''} is missing.",
            )
    if report.errors:
        report.error_rows = 1
        raise ImportFailed("The file's header row has errors; nothing was imported.", report)
    return header, missing


def _error_args(error: dict) -> dict:
    return {
        "row": error.get("row"),
        "column": error.get("column"),
        "name": error.get("field"),
        "message": error["message"],
    }


def _fail(
    report: ImportReport,
    row: _Row,
    column: str | None,
    name: str | None,
    message: str,
    blocked: bool = True,
):
    row.failed = True
    row.blocked = row.blocked or blocked
    report.add_error(row.number, column, name, message)


# --- reading the rows --------------------------------------------------------------------------


def _parse(
    spec: ExchangeFormat, header: HeaderMap, table: Table, actor: Actor, report: ImportReport
) -> list[_Row]:
    positions = sorted(header.columns.items())
    width = len(table.headers)
    sees_sensitive = actor.rights.has_grant("view_sensitive")
    parent_key = spec.collection.parent[0] if spec.collection.parent else None
    identifying = {"id", *spec.keys, parent_key}
    rows = []
    for number, cells in table.rows:
        row = _Row(number)
        for position, column in positions:
            raw = cells[position] if position < len(cells) else None
            try:
                value = column.read(raw)
            except CellError as exc:
                # The row is still checked by the service (for its other errors), unless
                # the unreadable cell decides which record it is.
                row.bad_fields.add(column.name)
                identifies = column.reference or column.name in identifying
                text = header.header_of(column.name)
                _fail(report, row, text, column.name, str(exc), blocked=bool(identifies))
                continue
            if value is None:
                continue
            masked = isinstance(value, str) and MASKED.match(value)
            if column.sensitive and not sees_sensitive and masked:
                row.masked.append(column.name)
                continue  # a masked export: leave the stored value alone
            if column.reference:
                row.references[column.name] = value
            elif column.name.startswith("custom."):
                row.custom[column.name.removeprefix("custom.")] = value
            else:
                row.data[column.name] = value
        beyond = [*cells[width:], *(cells[i] for i in header.headless if i < len(cells))]
        if header.strict and any(cell is not None and str(cell).strip() for cell in beyond):
            _fail(
                report,
                row,
                None,
                None,
                "This row has values in a column without a header; name the column (or ask to "
                "ignore unknown columns).",
            )
        rows.append(row)
    return rows


# --- matching rows to existing records ---------------------------------------------------------


def _chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ids_in_scope(session, actor: Actor, spec: ExchangeFormat, ids: set[int], action: str):
    if actor.rights.scope(spec.name, action) is None:
        return set()
    model = spec.collection.model
    found: set[int] = set()
    for chunk in _chunks(sorted(ids)):
        stmt = records.scoped_select(actor, spec.collection, action).where(model.id.in_(chunk))
        found.update(session.scalars(stmt.with_only_columns(model.id)))
    return found


def _match(session, actor, spec: ExchangeFormat, header: HeaderMap, rows, report) -> None:
    """Set each row's target record from `id` and the unique keys; flag clashes."""
    model = spec.collection.model
    keys = [key for key in ("id", *spec.keys) if key in header.headers]
    if not keys:
        return
    matches: dict[int, dict[str, int]] = {}  # row number -> {key: record id}
    for key in keys:
        seen: dict[Any, int] = {}
        for row in rows:
            value = row.data.get(key)
            if value is None:
                continue
            if value in seen:
                _fail(
                    report,
                    row,
                    header.header_of(key),
                    key,
                    f"Row {seen[value]} has the same {key} '{value}'; a file may hold each "
                    "record once.",
                )
                continue
            seen[value] = row.number
        column = getattr(model, key)
        found: dict[Any, int] = {}
        for chunk in _chunks(list(seen)):
            for record_id, value in session.execute(
                select(model.id, column).where(column.in_(chunk))
            ):
                found[value] = record_id
        for row in rows:
            value = row.data.get(key)
            if value is None or row.blocked:
                continue
            if value in found:
                matches.setdefault(row.number, {})[key] = found[value]
            elif key == "id":
                _fail(
                    report,
                    row,
                    header.header_of("id"),
                    "id",
                    f"There is no {spec.name} record {value}; leave id empty to create one.",
                )
    targets = {record_id for found in matches.values() for record_id in found.values()}
    updatable = _ids_in_scope(session, actor, spec, targets, "update")
    readable = _ids_in_scope(session, actor, spec, targets - updatable, "read")
    claimed: dict[int, int] = {}
    for row in rows:
        found = matches.get(row.number)
        if not found or row.blocked:
            continue
        ids = set(found.values())
        if len(ids) > 1:
            described = ", ".join(f"{key} matches record {rid}" for key, rid in found.items())
            _fail(report, row, None, None, f"The keys point at different records: {described}.")
            continue
        (target,) = ids
        key = next(iter(found))
        if target in claimed:
            _fail(
                report,
                row,
                header.header_of(key),
                key,
                f"Row {claimed[target]} already updates the same record; a file may hold each "
                "record once.",
            )
            continue
        if target not in updatable:
            where = f" (record {target})" if target in readable else ""
            _fail(
                report,
                row,
                header.header_of(key),
                key,
                f"A {spec.name} record with this {key} already exists{where}, and it is not one "
                "you may change.",
            )
            continue
        claimed[target] = row.number
        row.target = target


def _resolve_parents(session, actor, spec: ExchangeFormat, header: HeaderMap, rows, report):
    """Turn `customer_external_key` / `customer_tax_id` / `customer_name` into `customer_id`."""
    if not spec.collection.parent:
        return
    parent_key, parent_name = spec.collection.parent
    parent = get_collection(parent_name)
    for column in spec.columns:
        if not column.reference or column.name not in header.headers:
            continue
        field_name = column.reference[1]
        attribute = getattr(parent.model, field_name)
        wanted = sorted(
            {row.references[column.name] for row in rows if column.name in row.references}
        )
        found: dict[Any, list[int]] = {}
        for chunk in _chunks(wanted):
            stmt = records.scoped_select(actor, parent).where(attribute.in_(chunk))
            for record_id, value in session.execute(
                stmt.with_only_columns(parent.model.id, attribute)
            ):
                found.setdefault(value, []).append(record_id)
        for row in rows:
            value = row.references.get(column.name)
            if value is None or row.blocked:
                continue
            ids = found.get(value, [])
            text = header.header_of(column.name)
            if not ids:
                message = f"No {parent_name} record with {field_name} '{value}' that you can see."
                _fail(report, row, text, column.name, message)
            elif len(ids) > 1:
                message = (
                    f"{len(ids)} {parent_name} records have {field_name} '{value}'; name the "
                    f"record by {parent_key} or external key instead."
                )
                _fail(report, row, text, column.name, message)
            elif row.data.get(parent_key, ids[0]) != ids[0]:
                message = f"{parent_key} {row.data[parent_key]} and {column.name} disagree."
                _fail(report, row, text, column.name, message)
            else:
                row.data[parent_key] = ids[0]


# --- writing -----------------------------------------------------------------------------------


def _write(session, actor, spec, header, rows, report, missing, progress) -> None:
    """Create/update row by row; new records are INSERTed (and audited) a batch at a time."""
    model = spec.collection.model
    missing_names = {column.name for column in missing}
    try:
        for start in range(0, len(rows), LOOKUP_CHUNK):
            batch = rows[start : start + LOOKUP_CHUNK]
            targets = [row.target for row in batch if row.target is not None and not row.blocked]
            loaded = {r.id: r for r in session.scalars(select(model).where(model.id.in_(targets)))}
            with session.no_autoflush:
                for row in batch:
                    if not row.blocked:
                        try:
                            _write_row(session, actor, spec, row, loaded, report)
                        except WeftError as exc:
                            _report_error(report, row, header, missing_names, exc)
                        except DBAPIError as exc:
                            _refused(report, spec, row, None, exc)
                            return
                    report.processed_rows += 1
                    if progress and report.processed_rows % PROGRESS_EVERY == 0:
                        progress(report.processed_rows, report.total_rows)
            try:
                records.flush_batch(session)
            except DBAPIError as exc:  # a constraint the checks above did not foresee
                _refused(report, spec, batch[0], batch[-1], exc)
                return
            del loaded
    finally:
        records.discard_batch(session)
    if progress:
        progress(report.processed_rows, report.total_rows)


def _refused(
    report: ImportReport, spec: ExchangeFormat, first: _Row, last: _Row | None, exc: DBAPIError
) -> None:
    where = f"One of rows {first.number} to {last.number}" if last else "This row"
    collection = spec.collection
    taken = (
        refused_fields(exc, collection.model.__tablename__, collection.unique)
        if isinstance(exc, IntegrityError)
        else []
    )
    if taken:  # a unique value another user saved while the import ran
        for name in taken:
            _fail(report, first, name, name, f"{where}: {ALREADY_USED} (saved meanwhile)")
        return
    message = str(exc.orig).splitlines()[0] if exc.orig else "refused"
    _fail(
        report,
        first,
        None,
        None,
        f"{where} was refused by the database ({message}); the import stopped here.",
    )


def _write_row(session, actor, spec: ExchangeFormat, row: _Row, loaded: dict, report) -> None:
    # The version the file was exported at (if it has the column): a row edited from an old
    # export must not overwrite what someone changed since, exactly as a stale PATCH is refused.
    edited_version = row.data.pop("version", None)
    if row.target is None:
        if row.masked:
            raise Invalid(
                "Masked values cannot be imported.",
                details={
                    name: ["This value is masked (****); enter the real value or leave it empty."]
                    for name in row.masked
                },
            )
        payload = dict(row.data)
        if row.custom:
            payload["custom"] = row.custom
        records.create_record(session, actor, spec.name, payload, batch=True)
        report.created += 1
        return
    record = loaded.get(row.target) or session.get(spec.collection.model, row.target)
    structured = [key for key in row.data if key in spec.json_fields]
    shown = records.to_dict(session, None, spec.name, record) if structured else {}
    changes = {
        key: value
        for key, value in row.data.items()
        if key != "id"
        and not (
            same_structure(shown.get(key), value, spec.column(key).read_only_keys)
            if key in spec.json_fields
            else same_value(getattr(record, key, None), value)
        )
    }
    stored = record.custom or {}
    custom = {k: v for k, v in row.custom.items() if not same_value(stored.get(k), v)}
    if custom:
        changes["custom"] = custom
    if not changes:
        report.unchanged += 1
        return
    expected = record.version if edited_version is None else edited_version
    try:
        records.update_record(session, actor, spec.name, record.id, changes, expected, batch=True)
    except Conflict:
        raise Invalid(
            "Stale row.",
            details={
                "version": [
                    f"Someone changed this record after your file was made (the file has version "
                    f"{expected}, the record is now at {record.version}); export it again and "
                    "redo your change."
                ]
            },
        ) from None
    report.updated += 1


def _report_error(report, row: _Row, header: HeaderMap, missing: set[str], exc: WeftError):
    details = exc.details
    if isinstance(details, dict) and details:
        for name, messages in details.items():
            if name in row.bad_fields:
                continue  # already reported: the cell could not be read
            for message in messages if isinstance(messages, list) else [messages]:
                text = str(message)
                if name in missing:
                    text = (
                        f"{text} The file has no '{name}' column, which a new record needs "
                        "(this row matches no existing record)."
                    )
                report_name = name or None
                _fail(report, row, header.header_of(name) if name else None, report_name, text)
        return
    _fail(report, row, None, None, exc.message)


def same_value(current: Any, new: Any) -> bool:
    """Whether an imported value equals the stored one (so the field need not be written)."""
    if current is None or new is None:
        return current is None and new is None
    if isinstance(current, bool) or isinstance(new, bool):
        return current is new or (current == new and type(current) is type(new))
    if isinstance(current, int | float | Decimal) or isinstance(new, int | float | Decimal):
        try:
            return Decimal(str(current)) == Decimal(str(new))
        except (InvalidOperation, ValueError):
            return False
    if isinstance(current, datetime):
        try:
            return current == datetime.fromisoformat(str(new))
        except (TypeError, ValueError):
            return False
    if isinstance(current, date):
        return current.isoformat() == str(new)
    if isinstance(current, list) or isinstance(new, list):
        return list(current) == list(new) if isinstance(current, list | tuple) else False
    return str(current) == str(new)


def same_structure(current: Any, new: Any, read_only_keys: tuple[str, ...] = ()) -> bool:
    """Whether JSON-like values (order lines, ...) are equal, numbers compared as numbers and
    the keys the API computes left out."""
    return _canonical(current, read_only_keys) == _canonical(new, read_only_keys)


def _canonical(value: Any, skip: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v, skip) for k, v in value.items() if k not in skip and v is not None}
    if isinstance(value, list | tuple):
        return [_canonical(item, skip) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value)).normalize()
        except InvalidOperation:
            return value
    return str(value)
