"""Pooled PostgreSQL connections: a connection that sat idle is checked before use and replaced
when the server has dropped it; one used a moment ago is trusted without a round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core import db
from core.db import make_engine

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg_engine(database_url, is_postgres):
    if not is_postgres:
        pytest.skip("needs PostgreSQL")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    pg_engine, db_engine, monkeypatch
):
    dropped = _backend_pid(pg_engine)
    with db_engine.connect() as admin:  # the server ends the pooled connection's backend
        admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped})
    monkeypatch.setattr(db, "ALIVE_BYPASS_SECONDS", 0.0)  # the connection counts as idle

    with pg_engine.connect() as conn:  # no error reaches the caller
        assert conn.scalar(text("SELECT 1")) == 1
    assert _backend_pid(pg_engine) != dropped


def test_a_connection_used_a_moment_ago_is_not_pinged_again(pg_engine, monkeypatch):
    pings = []
    real_ping = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    _backend_pid(pg_engine)  # a new connection: just made, so alive

    _backend_pid(pg_engine)
    assert pings == []  # back in the pool a moment ago: trusted

    monkeypatch.setattr(db, "ALIVE_BYPASS_SECONDS", 0.0)
    _backend_pid(pg_engine)
    assert len(pings) == 1  # idle longer than the window: checked
