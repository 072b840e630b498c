"""Exporting the records a user can see as CSV or XLSX, batch by batch.

The query is the list endpoint's (`record_service.filtered_select`: data scope in SQL, `q`,
filters), read in id order with keyset paging, a batch at a time, so memory stays flat however
many records there are. Each record goes through `record_service.to_dicts`, which masks
sensitive fields for users without the `view_sensitive` grant, exactly as the API shows them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from core import clock
from core.errors import Invalid
from crm_domain import record_service as records
from crm_domain.access import Actor
from crm_domain.exchange.columns import ExchangeColumn, exchange_format, guard_formula

EXPORT_BATCH = 1000
FORMATS = ("csv", "xlsx")
LANGUAGES = ("en", "zh")
CSV_ENCODINGS = {"utf-8": "utf-8-sig", "gb18030": "gb18030", "gbk": "gb18030"}
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Export:
    """A prepared export: checked, with its columns and query; rows are read when iterated."""

    actor: Actor
    collection: str
    columns: list[ExchangeColumn]
    headers: list[str]
    statement: Select
    format: str
    encoding: str
    sheet_title: str

    @property
    def filename(self) -> str:
        stamp = clock.now().strftime("%Y%m%d-%H%M%S")
        return f"{self.collection}-{stamp}.{self.format}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def rows(self, session: Session, batch: int = EXPORT_BATCH) -> Iterator[list[Any]]:
        """Each record as a list of API values, in column order (masked where due)."""
        model = self.statement.column_descriptions[0]["entity"]
        last = 0
        while True:
            chunk = list(
                session.scalars(
                    self.statement.where(model.id > last).order_by(model.id).limit(batch)
                )
            )
            if not chunk:
                return
            last = chunk[-1].id
            for body in records.to_dicts(session, self.actor, self.collection, chunk):
                custom = body.get("custom") or {}
                yield [
                    custom.get(c.name.removeprefix("custom."))
                    if c.name.startswith("custom.")
                    else body.get(c.name)
                    for c in self.columns
                ]
            for record in chunk:  # keep the session's memory flat across batches
                session.expunge(record)
            if len(chunk) < batch:
                return


def prepare_export(
    session: Session,
    actor: Actor,
    name: str,
    *,
    format: str = "csv",
    language: str = "en",
    encoding: str = "utf-8",
    q: str | None = None,
    filters: dict[str, str] | None = None,
) -> Export:
    """Check everything (grant, scope, filters, options) before the first byte is sent."""
    actor.require_grant("export", "Exporting records")
    errors = {}
    if format not in FORMATS:
        errors["format"] = [f"Use one of: {', '.join(FORMATS)}."]
    if language not in LANGUAGES:
        errors["headers"] = [f"Use one of: {', '.join(LANGUAGES)}."]
    if encoding.lower() not in CSV_ENCODINGS:
        errors["encoding"] = [f"Use one of: {', '.join(CSV_ENCODINGS)}."]
    if errors:
        raise Invalid("The export options are not valid.", details=errors)
    spec = exchange_format(session, name)
    statement = records.filtered_select(session, actor, spec.collection, q=q, filters=filters)
    columns = spec.exported_columns()
    headers: list[str] = []
    for column in columns:
        text = column.header(language)
        headers.append(column.name if text in headers else text)
    label = spec.collection.label.get(language) or name
    return Export(
        actor=actor,
        collection=name,
        columns=columns,
        headers=headers,
        statement=statement,
        format=format,
        encoding=CSV_ENCODINGS[encoding.lower()],
        sheet_title=str(label)[:31],
    )


def _csv_text(column: ExchangeColumn, value: Any) -> Any:
    value = column.cell(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return guard_formula(value)


def csv_chunks(export: Export, session: Session) -> Iterator[bytes]:
    """The CSV file in pieces: a header line, then a piece per batch of records."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export.headers)
    encoding = export.encoding
    yield buffer.getvalue().encode(encoding)  # utf-8-sig puts the BOM Excel needs first
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for values in export.rows(session):
        writer.writerow([_csv_text(c, v) for c, v in zip(export.columns, values, strict=True)])
        pending += 1
        if pending >= EXPORT_BATCH:
            yield buffer.getvalue().encode(encoding)
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode(encoding)


def xlsx_file(export: Export, session: Session) -> IO[bytes]:
    """The workbook, written in openpyxl's streaming mode to a temporary file (rewound)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(export.sheet_title))
    sheet.append(export.headers)

    def cell(column: ExchangeColumn, value: Any):
        value = column.cell(value)
        if column.kind == "date" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = date.fromisoformat(value)
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
            written = WriteOnlyCell(sheet, value=value)
            written.data_type = "s"  # text stays text: never a formula
            return written
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, date):
            written.number_format = "yyyy-mm-dd"
        return written

    for values in export.rows(session):
        sheet.append([cell(c, v) for c, v in zip(export.columns, values, strict=True)])
    target = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (returned)
    workbook.save(target)
    target.seek(0)
    return target


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return cleaned or "Sheet1"


def export_records(
    session: Session, actor: Actor, name: str, target: IO[bytes], **options
) -> Export:
    """Write a whole export to `target` (for the CLI); the web layer streams instead."""
    export = prepare_export(session, actor, name, **options)
    if export.format == "csv":
        for chunk in csv_chunks(export, session):
            target.write(chunk)
    else:
        workbook = xlsx_file(export, session)
        try:
            while piece := workbook.read(1024 * 1024):
                target.write(piece)
        finally:
            workbook.close()
    return export
