"""Database plumbing: declarative Base, engines for SQLite and PostgreSQL, sessions."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, **kwargs)
    if "pool_pre_ping" not in kwargs:  # an explicit choice either way is left alone
        _check_idle_connections(engine)
    return engine


# A pooled connection used this recently is taken as alive without asking the server (as
# HikariCP's aliveBypassWindowMs does): a busy server then pays no extra round trip per
# transaction, while one that sat idle (a database restart, a firewall dropping quiet
# connections) is still checked before use and replaced when dead.
ALIVE_BYPASS_SECONDS = 0.5


def _check_idle_connections(engine: Engine) -> None:
    def note_use(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info["last_used"] = time.monotonic()

    def check_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get("last_used")
        if last_used is not None and time.monotonic() - last_used < ALIVE_BYPASS_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool then retries with a fresh connection
            raise DisconnectionError(f"Stale pooled connection: {exc}") from exc

    event.listen(engine, "connect", note_use)
    event.listen(engine, "checkin", note_use)
    event.listen(engine, "checkout", check_if_idle)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy manage transactions (pysqlite's own BEGIN handling breaks SAVEPOINTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a read that later upgrades to a write deadlocks in WAL mode.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextlib.contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, one commit: for CLI commands and scheduler jobs."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_INSERTED = "weft_core_inserted"


def attach_inserted(session: Session, obj: Any) -> None:
    """Put an object whose row was just written by a Core INSERT into the session as a flush
    would have: persistent now, and out of the session again if the transaction or savepoint
    it was inserted in rolls back (as the unit of work does with its own inserts), so a
    database that hands the id out again meets no stale object."""
    make_transient_to_detached(obj)
    session.add(obj)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((transaction, obj))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_inserts(session: Session, rolled_back: Any) -> None:
    inserted = session.info.get(_INSERTED)
    if not inserted:
        return
    kept = []
    for transaction, obj in inserted:
        if _within(transaction, rolled_back):
            if obj in session:
                session.expunge(obj)
        else:
            kept.append((transaction, obj))
    session.info[_INSERTED] = kept


@event.listens_for(Session, "after_commit")
def _forget_committed_inserts(session: Session) -> None:
    # Also fired when a savepoint is released; its rows can still roll back with the
    # transaction around it, which _within() sees through the savepoint's parent.
    if session.in_nested_transaction():
        return
    session.info.pop(_INSERTED, None)


def _within(transaction: Any, outer: Any) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


# PostgreSQL SQLSTATEs meaning the server cannot serve the request now: connection exceptions
# (class 08), the server shutting down or restarting (57P01-57P05), too many connections.
_UNREACHABLE_STATES = {"57P01", "57P02", "57P03", "57P04", "57P05", "53300"}
# Two transactions that cannot both go through: the same request may succeed when sent again.
_WRITE_CONFLICT_STATES = {"40001", "40P01"}
_SQLITE_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) means the database could not be reached or dropped the
    connection, or was too busy: nothing was saved, and the same request can be sent again.
    A broken statement or schema is not that: it stays an error with its traceback."""
    for error in _causes(exc):
        if isinstance(error, PoolTimeout):
            return True
        if not isinstance(error, DBAPIError):
            continue
        if error.connection_invalidated:
            return True
        if not isinstance(error, OperationalError):
            continue
        state = getattr(error.orig, "sqlstate", None)
        if state is not None and (state.startswith("08") or state in _UNREACHABLE_STATES):
            return True
        if state is None and type(error.orig).__module__.startswith("psycopg"):
            return True  # no answer from the server at all (connecting failed)
        if getattr(error.orig, "sqlite_errorname", None) in _SQLITE_BUSY:
            return True
    return False


def write_conflict(exc: BaseException) -> bool:
    """A serialization failure or deadlock: another transaction won; try again."""
    return any(
        isinstance(error, DBAPIError)
        and getattr(error.orig, "sqlstate", None) in _WRITE_CONFLICT_STATES
        for error in _causes(exc)
    )


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 20:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
