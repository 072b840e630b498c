"""Backup and restore of Weft's database: the glue between core.backup, the models and the audit.

Shared by `weft backup|restore` and /api/v1/admin/backups|restore, so both take the same
snapshot, refuse the same things and leave the same audit entry.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import IO, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from core.backup import BackupSummary, RestoreSummary, restore_backup, write_backup
from core.db import Base
from crm_domain.admin_audit import record_admin_change
from crm_domain.users import SYSTEM_USERNAME, User
from web import models_registry  # noqa: F401  (every table in Base.metadata)

# Written by the migrations themselves (web.database._seed), so a freshly migrated database
# that holds only these still counts as empty.
SEEDED_TABLES = ("role",)


def take_backup(bind: Engine | Connection, out: IO[bytes]) -> BackupSummary:
    """Write a consistent snapshot of the whole database to `out`."""
    return write_backup(bind, Base.metadata, out)


def record_backup(session: Session, actor: Any, name: str, summary: BackupSummary) -> None:
    manifest = summary.manifest
    after = {"taken_at": manifest.created_at, "rows": manifest.total_rows}
    record_admin_change(session, actor, "backup", name, None, after)


def restore_into(
    session: Session, source: IO[bytes], name: str, actor: Any, force: bool
) -> RestoreSummary:
    """Replace the database's rows with the backup's, in the session's transaction."""
    user = getattr(actor, "user", actor)
    who = (user.id, user.username) if user is not None else None  # read before rows vanish
    summary = restore_backup(
        session.connection(),
        Base.metadata,
        source,
        force=force,
        seeded_tables=SEEDED_TABLES,
        seeded_rows={"user_account": User.username == SYSTEM_USERNAME},
    )
    session.expire_all()  # rows were replaced under the ORM's feet
    record_admin_change(
        session,
        _actor_in_restored_data(session, who),
        "restore",
        name,
        None,
        {
            "taken_at": summary.manifest.created_at,
            "taken_on": summary.manifest.source_dialect,
            "rows": sum(summary.tables.values()),
            "replaced_existing": summary.replaced_existing,
        },
    )
    session.flush()
    return summary


def _actor_in_restored_data(session: Session, who: tuple[int, str] | None) -> Any:
    """The actor, if the restored data has the same account; else only their name is kept."""
    if who is None:
        return None
    user_id, username = who
    restored = session.get(User, user_id)
    if restored is not None and restored.username == username:
        return restored
    return SimpleNamespace(id=None, username=username)
