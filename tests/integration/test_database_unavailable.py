"""When the database drops a connection (a restart), the request that meets it is told to try
again (503), nothing is half-saved, and the next request works on a fresh connection."""

from __future__ import annotations

import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from marshmallow import Schema
from sqlalchemy import func, select, text
from sqlalchemy.exc import InterfaceError, OperationalError

from core import db
from crm_domain.users import create_user
from engine.definitions import deploy_files
from engine.models import ProcessInstance
from engine.operations import registry
from engine.operations.registry import operation
from engine.parsing import UploadedFile
from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task
from web.app import create_app

NOBODY = {"username": "nobody", "password": "not-a-password"}


@pytest.mark.postgres_only
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
            admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})

        met_it = client.post("/api/v1/auth/token", json=NOBODY)
        assert met_it.status_code == 503
        assert met_it.get_json()["error"]["code"] == "unavailable"
        assert met_it.headers["Retry-After"] == "2"

        assert client.post("/api/v1/auth/token", json=NOBODY).status_code == 401
    finally:
        engine.dispose()


def _sqlite_busy() -> sqlite3.OperationalError:
    """A real "database is locked" from SQLite: another connection holds the write lock."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "busy.sqlite3"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            waiter.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return exc
        finally:
            waiter.close()
            holder.close()
    raise AssertionError("SQLite did not report the lock")


class _ServerError(Exception):
    """Stands for a psycopg error: the server's SQLSTATE says what happened."""

    def __init__(self, sqlstate: str):
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


DATABASE_ERRORS = {
    "connection dropped": (
        lambda: OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        503,
    ),
    "dropped, seen as an interface error": (
        lambda: InterfaceError("SELECT 1", {}, Exception("closed"), connection_invalidated=True),
        503,
    ),
    "server shutting down": (lambda: OperationalError("SELECT 1", {}, _ServerError("57P01")), 503),
    "SQLite locked": (lambda: OperationalError("BEGIN", {}, _sqlite_busy()), 503),
    "deadlock": (lambda: OperationalError("UPDATE t", {}, _ServerError("40P01")), 409),
    "serialization failure": (lambda: OperationalError("UPDATE t", {}, _ServerError("40001")), 409),
    "a broken statement": (
        lambda: OperationalError("SELECT nope", {}, sqlite3.OperationalError("no such column")),
        500,
    ),
}


@pytest.mark.parametrize("case", list(DATABASE_ERRORS))
@pytest.mark.parametrize("path", ["/api/v1/boom", "/boom"], ids=["api", "page"])
def test_database_errors_get_the_status_that_tells_the_caller_what_to_do(app, path, case):
    make_error, status = DATABASE_ERRORS[case]

    def fails():
        raise make_error()

    app.add_url_rule(path, "boom", fails)
    answer = app.test_client().get(path)

    assert answer.status_code == status
    if status == 503:  # try again: nothing was saved
        assert answer.headers["Retry-After"] == "2"
        if path.startswith("/api/"):
            assert answer.get_json()["error"]["code"] == "unavailable"
        else:  # a page that needs no database to show
            assert answer.mimetype == "text/html" and "数据库暂时不可用" in answer.text
    elif status == 409:
        assert answer.get_json()["error"]["code"] == "conflict"
    else:  # a bug: no "try again", the traceback is logged
        assert answer.get_json()["error"]["message"] == "Something went wrong on our side."


PASSWORD = "correct-horse-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _kill_pooled_connection(app, db_engine) -> None:
    engine = app.extensions["weft"].engine
    with engine.connect() as conn:  # the pool's one connection, trusted as just used
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    with db_engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


@pytest.mark.postgres_only
def test_a_signed_in_page_on_a_dropped_connection_is_the_503_page(
    settings, db_engine, committed_factory, is_postgres, monkeypatch
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL")
    monkeypatch.setattr(db, "ALIVE_BYPASS_SECONDS", 60.0)
    with committed_factory() as session:
        create_user(session, "wu.lei", PASSWORD, ["salesperson"], "吴磊")
        session.commit()
    app = create_app(settings)
    browser = app.test_client()
    try:
        login = browser.get("/login").text
        signed_in = browser.post(
            "/login",
            data={"csrf_token": _CSRF.search(login)[1], "username": "wu.lei", "password": PASSWORD},
        )
        assert signed_in.status_code == 302 and browser.get("/inbox").status_code == 200
        _kill_pooled_connection(app, db_engine)

        page = browser.get("/inbox")  # loading the signed-in user meets the dead connection
        assert page.status_code == 503 and page.mimetype == "text/html"
        assert "数据库暂时不可用" in page.text

        assert browser.get("/inbox").status_code == 200
    finally:
        app.extensions["weft"].engine.dispose()


@pytest.fixture
def connection_losing_operation():
    class NoParams(Schema):
        pass

    @operation("test.lose_connection", NoParams, result_variable="lost")
    def lose_connection(ctx, params):
        """Ends its own database connection, as a database restart would mid-request."""
        ctx.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    yield
    del registry._registry["test.lose_connection"]


@pytest.mark.postgres_only
def test_a_connection_lost_inside_a_service_task_is_a_503_not_an_incident(
    settings, committed_factory, is_postgres, connection_losing_operation
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL")
    key = "loses_its_connection"
    bpmn = linear_process(key, service_task("call_it", "test.lose_connection"))
    with committed_factory() as session:
        deploy_files(session, [UploadedFile(f"{key}.bpmn", bpmn)], None, 5_000_000)
        create_user(session, "wu.lei", PASSWORD, ["salesperson"], "吴磊")
        session.commit()
    app = create_app(settings)
    api = app.test_client()
    try:
        token = api.post(
            "/api/v1/auth/token", json={"username": "wu.lei", "password": PASSWORD}
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        started = api.post("/api/v1/process-instances", json={"process_key": key}, headers=headers)
        assert started.status_code == 503, started.get_json()
        assert started.get_json()["error"]["code"] == "unavailable"
        with committed_factory() as session:  # nothing of it was saved, no incident either
            assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0

        assert api.get("/api/v1/tasks", headers=headers).status_code == 200
    finally:
        app.extensions["weft"].engine.dispose()


def test_a_connection_lost_at_commit_says_the_outcome_is_unknown(client, make_user, monkeypatch):
    from sqlalchemy.orm import Session

    make_user("salesperson", username="wu.lei", password=PASSWORD)

    def lost_at_commit(self):
        raise OperationalError("COMMIT", {}, Exception("gone"), connection_invalidated=True)

    monkeypatch.setattr(Session, "commit", lost_at_commit)
    answer = client.post("/api/v1/auth/token", json={"username": "wu.lei", "password": PASSWORD})

    assert answer.status_code == 503
    assert "Reload to see whether the change was saved" in answer.get_json()["error"]["message"]
