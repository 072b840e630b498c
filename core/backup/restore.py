"""Restoring a backup: check everything first, then replace all rows in one transaction.

The order matters for "database untouched" on a bad file: the archive, the manifest checksum,
every table file's SHA-256 and row count, the schema revision and the emptiness check all run
before the first DELETE. The caller owns the transaction, so a failure during loading (a disk
error, a constraint) rolls back to the old data too.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import (
    Connection,
    MetaData,
    Table,
    bindparam,
    delete,
    func,
    not_,
    select,
    text,
    update,
)

from core.backup.archive import BackupFileError, Manifest, open_archive, read_manifest
from core.backup.revision import database_revisions
from core.backup.values import decoder
from core.errors import Conflict

INSERT_BATCH = 500


@dataclass
class RestoreSummary:
    manifest: Manifest
    tables: dict[str, int] = field(default_factory=dict)
    replaced_existing: bool = False


def restore_backup(
    connection: Connection,
    metadata: MetaData,
    source: IO[bytes],
    *,
    force: bool = False,
    seeded_tables: Iterable[str] = (),
    seeded_rows: Mapping[str, Any] | None = None,
) -> RestoreSummary:
    """Replace every row of the tables in `metadata` with the backup's rows.

    Refuses (Conflict) when the database holds data and `force` is false, or when its schema
    revision differs from the backup's. Rows of `seeded_tables` (written by the migrations
    themselves, e.g. built-in roles) do not count as data, nor do the rows `seeded_rows` names
    by a SQL condition per table (e.g. the seeded system user). Runs in the caller's transaction.
    """
    archive = open_archive(source)
    manifest = read_manifest(archive)
    _verify_files(archive, manifest)
    _check_revision(connection, manifest)
    tables = _tables_in_order(metadata, manifest)
    holding = _tables_with_rows(connection, metadata, set(seeded_tables), seeded_rows or {})
    if holding and not force:
        raise Conflict(
            "The database already holds data; restoring would replace all of it. "
            "Repeat with force (weft restore --force, or confirm in the API) to do that.",
            details={"force": [f"Tables with rows: {', '.join(holding[:10])}."]},
        )
    if connection.dialect.name == "postgresql":
        # Keep other workers out until the commit: none may write between DELETE and INSERT.
        names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
    for table in reversed(metadata.sorted_tables):
        connection.execute(delete(table))
    summary = RestoreSummary(manifest, replaced_existing=bool(holding))
    for table, entry in tables:
        summary.tables[table.name] = _load_table(connection, archive, table, entry.file)
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection, metadata)
    return summary


def _verify_files(archive: zipfile.ZipFile, manifest: Manifest) -> None:
    for entry in manifest.tables:
        digest, rows = hashlib.sha256(), 0
        try:
            with archive.open(entry.file) as member:
                for line in member:
                    digest.update(line)
                    rows += 1
        except KeyError:
            raise BackupFileError(f"The backup lacks {entry.file}.") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BackupFileError(f"{entry.file} in the backup is damaged: {exc}.") from None
        if digest.hexdigest() != entry.sha256 or rows != entry.rows:
            raise BackupFileError(
                f"The checksum of {entry.file} does not match the manifest: "
                "the backup was altered or damaged."
            )


def _check_revision(connection: Connection, manifest: Manifest) -> None:
    here = database_revisions(connection)
    if here != manifest.revisions:
        raise Conflict(
            f"The backup was taken at schema revision {', '.join(manifest.revisions) or 'none'}, "
            f"but this database is at {', '.join(here) or 'none (not migrated)'}. "
            "Restore it with the Weft release that took it, or bring this database to the "
            "same revision first.",
            details={"revision": [f"backup: {manifest.revisions}, database: {here}"]},
        )


def _tables_in_order(metadata: MetaData, manifest: Manifest) -> list[tuple[Table, Any]]:
    by_name = {entry.name: entry for entry in manifest.tables}
    unknown = sorted(set(by_name) - set(metadata.tables))
    if unknown:
        raise BackupFileError(f"The backup has tables this Weft does not know: {unknown}.")
    ordered = []
    for table in metadata.sorted_tables:  # parents before children, for foreign keys
        entry = by_name.get(table.name)
        if entry is None:
            continue
        missing = sorted(set(entry.columns) - set(table.columns.keys()))
        if missing:
            raise BackupFileError(
                f"Table {table.name} in the backup has unknown columns {missing}."
            )
        ordered.append((table, entry))
    return ordered


def _tables_with_rows(
    connection: Connection, metadata: MetaData, seeded: set[str], seeded_rows: Mapping[str, Any]
) -> list[str]:
    holding = []
    for table in metadata.sorted_tables:
        if table.name in seeded:
            continue
        query = select(1).select_from(table).limit(1)
        if table.name in seeded_rows:
            query = query.where(not_(seeded_rows[table.name]))
        if connection.execute(query).first() is not None:
            holding.append(table.name)
    return holding


def _rows(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with archive.open(name) as member:
        for line in io.TextIOWrapper(member, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


def _self_references(table: Table) -> list[str]:
    """Nullable columns pointing into the same table (a parent unit, a renewed contract)."""
    return [
        column.name
        for column in table.columns
        if column.nullable and any(fk.column.table is table for fk in column.foreign_keys)
    ]


def _load_table(connection: Connection, archive: zipfile.ZipFile, table: Table, name: str) -> int:
    decoders = {column.name: decoder(column) for column in table.columns}
    # A row may point at a row inserted after it (a unit moved under a newer one): insert those
    # columns as NULL first, then set them once every row of the table exists.
    deferred = _self_references(table)
    count, batch = 0, []
    for record in _rows(archive, name):
        row = {key: decoders[key](value) for key, value in record.items()}
        for column in deferred:
            row[column] = None
        batch.append(row)
        count += 1
        if len(batch) >= INSERT_BATCH:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
    if deferred:
        _set_self_references(connection, archive, table, name, deferred)
    return count


def _set_self_references(
    connection: Connection, archive: zipfile.ZipFile, table: Table, name: str, columns: list[str]
) -> None:
    keys = [column.name for column in table.primary_key.columns]
    decoders = {column.name: decoder(column) for column in table.columns}
    statement = (
        update(table)
        .where(*[table.c[key] == bindparam(f"pk_{key}") for key in keys])
        .values({column: bindparam(f"v_{column}") for column in columns})
    )
    batch = []
    for record in _rows(archive, name):
        if all(record.get(column) is None for column in columns):
            continue
        params = {f"pk_{key}": decoders[key](record[key]) for key in keys}
        params.update({f"v_{c}": decoders[c](record.get(c)) for c in columns})
        batch.append(params)
        if len(batch) >= INSERT_BATCH:
            connection.execute(statement, batch)
            batch = []
    if batch:
        connection.execute(statement, batch)


def _reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """Make each serial/identity column continue after the restored rows' highest id."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is False or column.type.python_type is not int:
                continue
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            )
            if sequence is None:
                continue
            highest = connection.scalar(select(func.max(column)))
            connection.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )
