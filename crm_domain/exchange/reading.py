"""Reading an uploaded file into a header row and data rows, defensively.

CSV is read as UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"), or
GBK/GB18030 as Chinese Excel saves it; anything else is refused with a message saying how to
save the file. XLSX is read with openpyxl in read-only mode, after checking that the archive is
a workbook and does not expand beyond a sane size. Sizes and row counts are capped; a file over
a cap is `PayloadTooLarge` (413), a file that cannot be read is `Invalid` (422), never a crash.
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

from core.errors import Invalid, PayloadTooLarge

log = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 50 * 1024 * 1024
IMPORT_MAX_ROWS = 200_000
MAX_COLUMNS = 500
XLSX_MAX_EXPANDED_BYTES = 1024 * 1024 * 1024
CSV_FIELD_LIMIT = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other Office 97 files)
SAVE_AS = "Save it from Excel as 'CSV UTF-8 (comma delimited)' or as an .xlsx workbook."


@dataclass
class Table:
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]  # (row number as a spreadsheet shows it, cells)
    format: str  # "csv" or "xlsx"
    encoding: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


def file_error(message: str) -> Invalid:
    return Invalid(
        message, details=[{"row": None, "column": None, "field": None, "message": message}]
    )


def read_table(
    content: bytes,
    filename: str | None = None,
    *,
    max_rows: int | None = None,
    max_bytes: int | None = None,
    sheet_names: tuple[str, ...] = (),
) -> Table:
    """The header row and the data rows of a CSV or XLSX file (blank rows left out)."""
    max_rows = IMPORT_MAX_ROWS if max_rows is None else max_rows
    max_bytes = IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if len(content) > max_bytes:
        raise PayloadTooLarge(
            f"The file is {len(content) / 1048576:.1f} MB; the limit is "
            f"{max_bytes // 1048576} MB. Split it into smaller files."
        )
    if not content.strip():
        raise file_error("The file is empty.")
    suffix = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content, max_rows, sheet_names)
    if content.startswith(OLE_MAGIC) or suffix == "xls":
        raise file_error(f"This is an old Excel .xls file, which is not supported. {SAVE_AS}")
    if suffix in ("xlsx", "xlsm"):
        raise file_error("The file is named .xlsx but is not an Excel workbook.")
    return _read_csv(content, max_rows)


# --- CSV ---------------------------------------------------------------------------------------


def decode_text(content: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV upload, or `Invalid` saying it is not a text encoding we read."""
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _wrong_encoding(exc) from None
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _wrong_encoding(exc) from None
    if b"\x00" in content[:65536]:
        raise file_error(f"This is not a CSV or XLSX file (it holds binary data). {SAVE_AS}")
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise _wrong_encoding(utf8_error) from None
        if not _plausibly_chinese(text):
            raise _wrong_encoding(utf8_error) from None
        return text, "gb18030"


def _wrong_encoding(exc: UnicodeDecodeError) -> Invalid:
    return file_error(
        "The file's text encoding is wrong: it is neither UTF-8 nor GBK/GB18030 "
        f"(unreadable bytes at position {exc.start}). {SAVE_AS}"
    )


def _plausibly_chinese(text: str) -> bool:
    """GB18030 decodes much binary junk; real GBK text is mostly CJK where it is not ASCII."""
    sample = text[:200_000]
    non_ascii = [ch for ch in sample if ord(ch) > 127]
    if not non_ascii:
        return True
    if any(unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn") for ch in non_ascii):
        return False
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in sample):
        return False
    cjk = sum(
        1
        for ch in non_ascii
        if 0x4E00 <= ord(ch) <= 0x9FFF
        or 0x3000 <= ord(ch) <= 0x303F
        or 0xFF00 <= ord(ch) <= 0xFFEF
        or 0x3400 <= ord(ch) <= 0x4DBF
        or ch in "—…·“”‘’"
    )
    return cjk >= 0.9 * len(non_ascii)


def _delimiter(text: str) -> str:
    first_line = next((line for line in text[:65536].split("\n") if line.strip()), "")
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(content: bytes, max_rows: int) -> Table:
    text, encoding = decode_text(content)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    headers: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if headers is None:
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines above the header
                headers = _header_row(cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise _too_many_rows(max_rows)
            rows.append((number, cells))
    except csv.Error as exc:
        raise file_error(f"Row {number}: the CSV is malformed ({exc}). {SAVE_AS}") from None
    if headers is None:
        raise file_error("The file has no header row.")
    return Table(headers=headers, rows=rows, format="csv", encoding=encoding)


def _header_row(cells: list[Any]) -> list[Any]:
    while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
        cells = cells[:-1]
    if len(cells) > MAX_COLUMNS:
        raise file_error(
            f"The header row has {len(cells)} columns; at most {MAX_COLUMNS} are allowed. "
            "Is this the right file?"
        )
    return list(cells)


def _too_many_rows(max_rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file has more than {max_rows:,} data rows; split it into smaller files."
    )


# --- XLSX --------------------------------------------------------------------------------------


def _read_xlsx(content: bytes, max_rows: int, sheet_names: tuple[str, ...]) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise file_error(f"The file is not a readable XLSX workbook. {SAVE_AS}") from None
    if "xl/workbook.xml" not in names:
        raise file_error(f"The file is a ZIP archive but not an Excel workbook. {SAVE_AS}")
    if expanded > XLSX_MAX_EXPANDED_BYTES:
        raise PayloadTooLarge(
            "The workbook expands to more than 1 GB; split it into smaller files."
        )
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a hostile or broken file
        log.info("unreadable xlsx upload", exc_info=True)
        raise file_error(f"The workbook could not be read. {SAVE_AS}") from None
    try:
        return _sheet_rows(workbook, max_rows, sheet_names)
    except (Invalid, PayloadTooLarge):
        raise
    except Exception:
        log.info("unreadable xlsx sheet", exc_info=True)
        raise file_error(f"The workbook could not be read. {SAVE_AS}") from None
    finally:
        workbook.close()


def _sheet_rows(workbook, max_rows: int, sheet_names: tuple[str, ...]) -> Table:
    worksheets = workbook.worksheets
    if not worksheets:
        raise file_error("The workbook has no sheets.")
    wanted = {name.strip().casefold() for name in sheet_names if name}
    sheet = next((ws for ws in worksheets if ws.title.strip().casefold() in wanted), None)
    sheet = sheet or worksheets[0]
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # some writers declare a wrong size; read what is there
    headers: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = list(values)
        if not any(_filled(cell) for cell in cells):
            continue
        if headers is None:
            headers = _header_row(cells)
            continue
        if len(rows) >= max_rows:
            raise _too_many_rows(max_rows)
        rows.append((number, cells))
    if headers is None:
        raise file_error(f"The sheet '{sheet.title}' is empty; put the header in its first row.")
    return Table(headers=headers, rows=rows, format="xlsx", sheet=sheet.title)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and cell.strip() == "")
