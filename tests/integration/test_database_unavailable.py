"""When the database drops a connection (a restart), the request that meets it is told to try
again (503), nothing is half-saved, and the next request works on a fresh connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core import db
from web.app import create_app

pytestmark = pytest.mark.postgres_only

NOBODY = {"username": "nobody", "password": "not-a-password"}


def test_a_request_on_a_dropped_connection_is_a_503_and_the_next_one_works(
    settings, db_engine, is_postgres, monkeypatch
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL")
    monkeypatch.setattr(db, "ALIVE_BYPASS_SECONDS", 60.0)  # the pooled connection is trusted
    app = create_app(settings)  # its own engine and pool, as a server has
    engine = app.extensions["weft"].engine
    client = app.test_client()
    try:
        assert client.post("/api/v1/auth/token", json=NOBODY).status_code == 401
        with engine.connect() as conn:  # the pool's one connection
            pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with db_engine.connect() as admin:  # the server goes away under it
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        met_it = client.post("/api/v1/auth/token", json=NOBODY)
        assert met_it.status_code == 503
        assert met_it.get_json()["error"]["code"] == "unavailable"
        assert met_it.headers["Retry-After"] == "2"

        assert client.post("/api/v1/auth/token", json=NOBODY).status_code == 401
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", ["/api/v1/boom", "/boom"], ids=["api", "page"])
def test_a_lost_database_is_a_503_in_the_answer_the_caller_reads(app, path):
    from sqlalchemy.exc import OperationalError

    def lost():
        raise OperationalError(
            "SELECT 1", {}, Exception("server closed the connection unexpectedly"), True
        )

    app.add_url_rule(path, "boom", lost)
    answer = app.test_client().get(path)

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    if path.startswith("/api/"):
        assert answer.get_json()["error"]["code"] == "unavailable"
    else:  # a page that needs no database to show
        assert answer.mimetype == "text/html" and "数据库暂时不可用" in answer.text
