"""Taking a backup: every table from one read transaction, streamed into the zip."""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, select
from sqlalchemy.pool import NullPool

from core import clock
from core.backup.archive import MANIFEST, Manifest, TableEntry, table_file
from core.backup.revision import database_revisions
from core.backup.values import encoder
from core.db import _sqlite_pragmas

FETCH_ROWS = 1000


@dataclass
class BackupSummary:
    manifest: Manifest

    @property
    def tables(self) -> dict[str, int]:
        return {entry.name: entry.rows for entry in self.manifest.tables}


@contextlib.contextmanager
def snapshot_connection(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection whose reads all see one consistent state of the database.

    Given a Connection, its own transaction is the snapshot (the caller chose it). Given an
    Engine: PostgreSQL gets a READ ONLY REPEATABLE READ transaction; SQLite a plain deferred
    BEGIN, which in WAL mode pins a snapshot at the first read without blocking writers (the
    app's engines take the write lock up front with BEGIN IMMEDIATE, which a backup must not).
    """
    if isinstance(bind, Connection):
        yield bind
        return
    if bind.dialect.name == "postgresql":
        connection = bind.connect().execution_options(isolation_level="REPEATABLE READ")
        with connection, connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection
        return
    reader = create_engine(
        bind.url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 30}
    )
    event.listen(reader, "connect", _sqlite_pragmas)
    event.listen(reader, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    try:
        with reader.connect() as connection, connection.begin():
            yield connection
    finally:
        reader.dispose()


def write_backup(bind: Engine | Connection, metadata: MetaData, out: IO[bytes]) -> BackupSummary:
    """Write a backup of every table in `metadata` to the binary stream `out`."""
    with snapshot_connection(bind) as connection:
        manifest = Manifest(
            created_at=clock.now().isoformat(),
            source_dialect=connection.dialect.name,
            revisions=database_revisions(connection),
        )
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in metadata.sorted_tables:
                manifest.tables.append(_write_table(connection, table, archive))
            archive.writestr(MANIFEST, manifest.to_json())
    return BackupSummary(manifest)


def _write_table(connection: Connection, table, archive: zipfile.ZipFile) -> TableEntry:
    columns = list(table.columns)
    encoders = [encoder(column) for column in columns]
    names = [column.name for column in columns]
    digest, count = hashlib.sha256(), 0
    # Options on the statement, not the connection: Connection.execution_options() changes the
    # caller's connection in place, and a server-side cursor must not outlive this query.
    query = (
        select(*columns)
        .order_by(*table.primary_key.columns)
        .execution_options(stream_results=True, yield_per=FETCH_ROWS)
    )
    result = connection.execute(query)
    name = table_file(table.name)
    with archive.open(name, "w", force_zip64=True) as member:
        for row in result:
            record = {
                key: encode(value) for key, encode, value in zip(names, encoders, row, strict=True)
            }
            line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            member.write(line)
            digest.update(line)
            count += 1
    return TableEntry(
        name=table.name, file=name, rows=count, sha256=digest.hexdigest(), columns=names
    )
