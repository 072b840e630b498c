"""Whole-database backup and restore, portable between SQLite and PostgreSQL.

A backup is a zip: `manifest.json` (format, alembic revision(s), per-table row counts and
SHA-256, a checksum over the manifest itself) and `data/<table>.jsonl`, one JSON object per row.
It is written from one read transaction (a consistent snapshot) and read back row by row, so
memory stays bounded whatever the database's size. Knows nothing of Weft's models: callers pass
the SQLAlchemy MetaData that lists the tables.
"""

from core.backup.archive import FORMAT, BackupFileError, Manifest, read_manifest
from core.backup.restore import RestoreSummary, restore_backup
from core.backup.snapshot import BackupSummary, snapshot_connection, write_backup

__all__ = [
    "FORMAT",
    "BackupFileError",
    "BackupSummary",
    "Manifest",
    "RestoreSummary",
    "read_manifest",
    "restore_backup",
    "snapshot_connection",
    "write_backup",
]
