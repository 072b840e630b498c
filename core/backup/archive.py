"""The backup file: a zip with `manifest.json` and one JSON-lines file per table."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from core.errors import Invalid

FORMAT = "weft-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BackupFileError(Invalid):
    """The file is not a usable Weft backup (not a zip, damaged, tampered with, other format)."""

    def __init__(self, message: str):
        super().__init__(message, details={"file": [message]})


@dataclass
class TableEntry:
    name: str
    file: str
    rows: int
    sha256: str
    columns: list[str]


@dataclass
class Manifest:
    created_at: str
    source_dialect: str
    revisions: list[str]
    tables: list[TableEntry] = field(default_factory=list)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def body(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "format_version": self.format_version,
            "created_at": self.created_at,
            "source_dialect": self.source_dialect,
            "alembic_revisions": self.revisions,
            "tables": [vars(entry) for entry in self.tables],
        }

    def to_json(self) -> str:
        body = self.body()
        body["checksum"] = manifest_checksum(body)
        return json.dumps(body, ensure_ascii=False, indent=1)

    @property
    def total_rows(self) -> int:
        return sum(entry.rows for entry in self.tables)


def manifest_checksum(body: dict[str, Any]) -> str:
    """SHA-256 over the manifest (sans checksum); it covers every table file's own SHA-256."""
    content = {key: value for key, value in body.items() if key != "checksum"}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def open_archive(source: IO[bytes]) -> zipfile.ZipFile:
    if not zipfile.is_zipfile(source):
        raise BackupFileError("This is not a Weft backup: the file is not a zip archive.")
    source.seek(0)
    try:
        return zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise BackupFileError(f"The backup archive is damaged: {exc}.") from None


def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        body = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupFileError("This is not a Weft backup: it has no manifest.json.") from None
    except (ValueError, zipfile.BadZipFile) as exc:
        raise BackupFileError(f"The backup's manifest cannot be read: {exc}.") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BackupFileError("This is not a Weft backup: the manifest has another format.")
    if body.get("format_version") != FORMAT_VERSION:
        raise BackupFileError(
            f"This backup has format version {body.get('format_version')}; "
            f"this Weft reads version {FORMAT_VERSION}."
        )
    if body.get("checksum") != manifest_checksum(body):
        raise BackupFileError("The backup's manifest checksum does not match: it was altered.")
    try:
        tables = [TableEntry(**entry) for entry in body["tables"]]
        return Manifest(
            created_at=body["created_at"],
            source_dialect=body["source_dialect"],
            revisions=list(body["alembic_revisions"]),
            tables=tables,
        )
    except (KeyError, TypeError) as exc:
        raise BackupFileError(f"The backup's manifest is incomplete: {exc}.") from None


def table_file(table_name: str) -> str:
    return f"data/{table_name}.jsonl"
