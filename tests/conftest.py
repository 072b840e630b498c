"""Shared fixtures: a migrated database per run, a savepoint per test, app and API clients.

The database comes from WEFT_TEST_DATABASE_URL (SQLite file by default; `make test` runs the
suite once on SQLite and once on PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.config import PROJECT_ROOT, Settings
from core.db import Base, make_engine
from core.security import issue_token
from crm_domain.users import User, create_user
from web import models_registry  # noqa: F401
from web.app import create_app
from web.database import upgrade

# Cheap argon2 parameters for the thousands of users the suite makes (core/security.py); one
# test checks what production uses.
os.environ.setdefault("WEFT_PASSWORD_PROFILE", "cheapest")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROCESSES = PROJECT_ROOT / "processes"
TEST_SECRET = "weft-test-secret"


def _database_url(tmp_root: Path) -> str:
    url = make_url(
        os.environ.get("WEFT_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'weft-test.sqlite3'}"
    )
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # each pytest-xdist worker gets a database of its own
        database = url.database or ""
        if url.get_backend_name() == "sqlite":
            database = f"{database.removesuffix('.sqlite3')}-{worker}.sqlite3"
        else:
            database = f"{database}_{worker}"
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _reset(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db_file = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        return
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    _reset(url)
    return url


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def is_postgres(db_engine: Engine) -> bool:
    return db_engine.dialect.name == "postgresql"


@pytest.fixture
def connection(db_engine: Engine) -> Iterator[Connection]:
    conn = db_engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Every session joins the test's outer transaction; its commits release savepoints only.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path)


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]):
    return create_app(settings, session_factory=session_factory)


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """The Flask test client with a bearer token and JSON by default."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def get(self, url: str, **kw):
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url: str, json=None, **kw):
        headers = self._headers(kw.pop("headers", None))
        if json is None and "data" not in kw:
            json = {}
        return self.client.post(url, json=json, headers=headers, **kw)

    def put(self, url: str, json=None, **kw):
        return self.client.put(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, url: str, json=None, **kw):
        headers = self._headers(kw.pop("headers", None))
        return self.client.patch(url, json=json, headers=headers, **kw)

    def delete(self, url: str, **kw):
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def upload(self, *paths_or_pairs):
        """POST files to /api/v1/process-definitions: Paths or (filename, bytes) pairs."""
        files = []
        for item in paths_or_pairs:
            if isinstance(item, Path):
                files.append((item.read_bytes(), item.name))
            else:
                name, content = item
                files.append((content, name))
        from io import BytesIO

        data = {"file": [(BytesIO(content), name) for content, name in files]}
        return self.client.post(
            "/api/v1/process-definitions",
            data=data,
            headers=self._headers(None),
            content_type="multipart/form-data",
        )


@pytest.fixture
def make_user(session: Session):
    counter = {"n": 0}

    def _make(
        *roles: str,
        username: str | None = None,
        password: str = "correct-horse-1",
        org_unit_id: int | None = None,
    ) -> User:
        counter["n"] += 1
        user = create_user(
            session,
            username or f"user{counter['n']}",
            password,
            list(roles),
            org_unit_id=org_unit_id,
        )
        session.commit()
        return user

    return _make


@pytest.fixture
def api_as(client, make_user):
    """api_as('sales_manager') -> an ApiClient for a new user holding those roles."""

    def _as(*roles: str, user: User | None = None) -> ApiClient:
        user = user or make_user(*roles)
        token, _ = issue_token(TEST_SECRET, user.id, 3600)
        api = ApiClient(client, token)
        api.user = user
        return api

    return _as


@pytest.fixture
def designer(api_as) -> ApiClient:
    return api_as("process_designer")


@pytest.fixture
def anonymous(client) -> ApiClient:
    return ApiClient(client, None)


def all_tables() -> list[str]:
    return [t.name for t in reversed(Base.metadata.sorted_tables)]


@pytest.fixture
def committed_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Real commits on the real engine (for tests with threads); tables are emptied after."""
    factory = sessionmaker(bind=db_engine, expire_on_commit=False)
    yield factory
    with db_engine.begin() as conn:
        for table in all_tables():
            if table != "role":  # the built-in roles are part of the schema's seed
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def org(session, make_user):
    """The org tree with its people (tests/support/rules.Org), the reminder process deployed."""
    from tests.support.rules import Org, deploy_reminder_process

    deploy_reminder_process(session)
    return Org(session, make_user)
