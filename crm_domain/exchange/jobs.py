"""Import jobs: a large import runs in the background and reports its progress in a row.

`create_import_job` records the job (queued) in the caller's transaction. `run_import_job`
runs it, normally in a background thread, with sessions of its own from the session factory:
it marks the job running, imports the whole file in one transaction (all or nothing, like a
synchronous import), and stores the outcome: succeeded with the counts, or failed with the
row errors. Progress is kept in memory for this process and, on PostgreSQL, also written to the
job row every second or so from a separate short transaction. (On SQLite the import holds the
database's one write lock for its whole run, so the row is only updated at the start and end.)
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core import clock
from core.db import Base, JsonType, UtcDateTime, is_postgres
from core.errors import NotFound, WeftError
from crm_domain.access import Actor, actor_for
from crm_domain.exchange.importing import ImportFailed, import_records
from crm_domain.exchange.reading import Table
from crm_domain.users import User

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "succeeded", "failed")
PROGRESS_WRITE_SECONDS = 1.0
# A queued or running job whose row has not changed for this long, and that does not run in
# this process, was interrupted. (Imports are capped at 200,000 rows, minutes of work.)
STALE_AFTER = timedelta(minutes=30)

_live: dict[int, tuple[int, int]] = {}  # job id -> (processed, total), while it runs here
_live_lock = threading.Lock()


class ImportJob(Base):
    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255), default="")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JsonType, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def create_import_job(
    session: Session,
    actor: Actor,
    collection: str,
    filename: str,
    *,
    dry_run: bool = False,
    total_rows: int = 0,
) -> ImportJob:
    actor.require_grant("import", "Importing records")
    now = clock.now()
    job = ImportJob(
        collection=collection,
        filename=filename[:255],
        dry_run=dry_run,
        status="queued",
        total_rows=total_rows,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        errors=[],
    )
    session.add(job)
    session.flush()
    return job


def get_import_job(session: Session, actor: Actor, job_id: int) -> ImportJob:
    """A job its creator (or an admin) may see; anyone else gets 404."""
    job = session.get(ImportJob, job_id)
    if job is None or (job.created_by_id != actor.id and not actor.rights.is_admin):
        raise NotFound(f"There is no import job {job_id} that you can see.")
    return job


def job_to_dict(job: ImportJob) -> dict[str, Any]:
    processed, total = job.processed_rows, job.total_rows
    status, message = job.status, job.message
    if status in ("queued", "running"):
        with _live_lock:
            live = _live.get(job.id)
        if live:
            processed, total = live
        elif clock.now() - job.updated_at > STALE_AFTER:
            # Nobody has touched it for a long time: the process running it has gone.
            status = "failed"
            message = "The import was interrupted (the server stopped?); nothing was imported."
    return {
        "id": job.id,
        "collection": job.collection,
        "filename": job.filename,
        "dry_run": job.dry_run,
        "status": status,
        "total_rows": total,
        "processed_rows": processed,
        "percent": round(100 * processed / total) if total else (100 if job.finished_at else 0),
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "error_rows": job.error_rows,
        "errors": job.errors or [],
        "message": message,
        "created_by_id": job.created_by_id,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _set(factory: sessionmaker[Session], job_id: int, **values: Any) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(updated_at=clock.now(), **values)
            .execution_options(synchronize_session=False)
        )


def run_import_job(
    factory: sessionmaker[Session],
    job_id: int,
    table: Table,
    *,
    ignore_unknown: bool = False,
) -> None:
    """Run a queued job on a file already read; never raises (the outcome is in the job row)."""
    try:
        _run(factory, job_id, table, ignore_unknown)
    except Exception:
        log.exception("import job %s failed unexpectedly", job_id)
        try:
            _set(
                factory,
                job_id,
                status="failed",
                message="The import failed unexpectedly; nothing was imported.",
                finished_at=clock.now(),
            )
        except Exception:
            log.exception("could not mark import job %s failed", job_id)
    finally:
        with _live_lock:
            _live.pop(job_id, None)


def _run(factory, job_id: int, table: Table, ignore_unknown: bool) -> None:
    with factory() as session:
        job = session.get(ImportJob, job_id)
        if job is None or job.status != "queued":
            return
        collection, filename, dry_run = job.collection, job.filename, job.dry_run
        user_id = job.created_by_id
        writes_progress = is_postgres(session)
    with _live_lock:
        _live[job_id] = (0, len(table.rows))
    _set(factory, job_id, status="running", started_at=clock.now())
    last_write = [time.monotonic()]

    def progress(processed: int, total: int) -> None:
        with _live_lock:
            _live[job_id] = (processed, total)
        if writes_progress and time.monotonic() - last_write[0] >= PROGRESS_WRITE_SECONDS:
            last_write[0] = time.monotonic()
            _set(factory, job_id, processed_rows=processed, total_rows=total)

    outcome: dict[str, Any]
    session = factory()
    try:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise NotFound("The user who started this import no longer exists or is inactive.")
        actor = actor_for(session, user)
        report = import_records(
            session,
            actor,
            collection,
            table,
            dry_run=dry_run,
            ignore_unknown=ignore_unknown,
            filename=filename,
            progress=progress,
        )
        session.commit()
        outcome = {"status": "succeeded", "message": _summary(report)}
    except ImportFailed as failed:
        session.rollback()
        report = failed.report
        outcome = {"status": "failed", "message": failed.message}
    except WeftError as error:
        session.rollback()
        report = None
        errors = error.details if isinstance(error.details, list) else []
        outcome = {"status": "failed", "message": error.message, "errors": errors}
    finally:
        session.close()
    if report is not None:
        outcome.update(
            total_rows=report.total_rows,
            processed_rows=report.processed_rows,
            created_count=report.created,
            updated_count=report.updated,
            unchanged_count=report.unchanged,
            error_rows=report.error_rows,
            errors=report.errors,
        )
    _set(factory, job_id, finished_at=clock.now(), **outcome)


def _summary(report) -> str:
    verb = "would create" if report.dry_run else "created"
    return (
        f"{report.total_rows} rows: {verb} {report.created}, "
        f"{'would update' if report.dry_run else 'updated'} {report.updated}, "
        f"{report.unchanged} unchanged."
    )
