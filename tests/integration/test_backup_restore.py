"""Backup and restore: whole-database snapshots that move between SQLite and PostgreSQL.

These tests use databases of their own (SQLite files under tmp_path, PostgreSQL databases named
weft_backup_*), whatever WEFT_TEST_DATABASE_URL says, because a restore must be checked from one
kind of database into the other. The API tests at the end use the usual per-test savepoint.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core import clock
from core.backup import snapshot as snapshot_module
from core.backup.archive import manifest_checksum
from core.db import Base, make_engine
from crm_domain import settings as system_settings
from crm_domain.admin_audit import AdminChange
from crm_domain.demo import load_demo
from crm_domain.org import create_org_unit, move_org_unit
from crm_domain.users import User, create_user
from engine.definitions import deploy_files
from engine.instances import start_instance
from engine.models import ProcessInstance, Timer
from engine.parsing import UploadedFile
from tests.support.bpmn import linear_process, script_task, timer_event
from web.backups import take_backup
from web.cli import main
from web.database import upgrade

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
AUDIT = "admin_audit_entry"
T0 = clock.parse_instant("2026-03-02T01:00:00Z")


def _postgres_reachable() -> bool:
    try:
        engine = make_engine(PG_SERVER + "postgres")
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


needs_postgres = pytest.mark.skipif(not _postgres_reachable(), reason="no PostgreSQL server")
KINDS = ["sqlite", pytest.param("postgresql", marks=needs_postgres)]


def _fresh_url(kind: str, name: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / name}.sqlite3"
    url = PG_SERVER + f"weft_backup_{name}"
    admin = make_engine(PG_SERVER + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        database = make_url(url).database
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}):
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def fresh_db(tmp_path):
    """fresh_db(kind, name) -> (url, engine) of a newly migrated, empty database."""
    engines: list[Engine] = []

    def make(kind: str, name: str) -> tuple[str, Engine]:
        url = _fresh_url(kind, name, tmp_path)
        engine = make_engine(url)
        upgrade(engine)
        engines.append(engine)
        return url, engine

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """The demo company's 25 users would spend most of the test in argon2; backups don't care."""
    monkeypatch.setattr("crm_domain.users.hash_password", lambda password: "not-a-real-hash")


@pytest.fixture
def weft(tmp_path, monkeypatch):
    """weft(url, *args): run the `weft` command line against the database at url."""
    monkeypatch.setenv("WEFT_VAR_DIR", str(tmp_path / "var"))
    runner = CliRunner()

    def run(url: str, *args: str):
        return runner.invoke(main, list(args), env={"WEFT_DATABASE_URL": url})

    return run


WAIT_AN_HOUR = "backup_wait_an_hour"


def _populate(engine: Engine) -> int:
    """A small but complete CRM: demo company, a moved org unit, a setting, a waiting timer.

    Returns the id of the process instance that waits on its timer.
    """
    with Session(engine) as session:
        load_demo(session, customers=25)
        admin = create_user(session, "backup.admin", "long-enough-1", ["admin"])
        # A unit moved under a newer one: its parent's id is higher than its own.
        older = create_org_unit(session, "宁波办事处", "office", actor=admin)
        newer = create_org_unit(session, "浙江分公司", "branch", actor=admin)
        move_org_unit(session, older.id, newer.id, actor=admin)
        system_settings.update_settings(session, admin, {"money.decimal_places": 3})
        bpmn = linear_process(
            WAIT_AN_HOUR, timer_event("wait", "PT1H"), script_task("after", "woke = True")
        )
        deploy_files(session, [UploadedFile(f"{WAIT_AN_HOUR}.bpmn", bpmn)], admin, 5_000_000)
        with clock.frozen_at(T0):
            instance = start_instance(session, admin, WAIT_AN_HOUR, {"客户": "锦华纺织"})
        session.commit()
        assert instance.status == "waiting"
        return instance.id


def _contents(engine: Engine, skip: tuple[str, ...] = (AUDIT,)) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key, as Python values."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
            if table.name not in skip
        }


def _backup_file(engine: Engine, path: Path) -> Path:
    with path.open("wb") as out:
        take_backup(engine, out)
    return path


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [
        ("sqlite", "sqlite"),
        pytest.param("sqlite", "postgresql", marks=needs_postgres),
        pytest.param("postgresql", "sqlite", marks=needs_postgres),
    ],
)
def test_restore_reproduces_every_row_across_databases(
    fresh_db, weft, tmp_path, source_kind, target_kind
):
    source_url, source = fresh_db(source_kind, "src")
    target_url, target = fresh_db(target_kind, "dst")
    _populate(source)

    taken = weft(source_url, "backup", str(tmp_path / "weft.zip"))
    assert taken.exit_code == 0, taken.output
    restored = weft(target_url, "restore", str(tmp_path / "weft.zip"))
    assert restored.exit_code == 0, restored.output
    assert f"on {source_kind}" in restored.output

    before, after = _contents(source), _contents(target)
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    for name in before:
        assert after[name] == before[name], f"table {name} differs after restore"
    assert len(before["customer"]) == 25 and before["process_instance"]

    with Session(target) as session:
        assert system_settings.get_setting(session, "money.decimal_places") == 3
        # The restore itself is in the admin audit log, after the source's own entries.
        kinds = session.scalars(select(AdminChange.kind).order_by(AdminChange.id)).all()
        assert kinds[-1] == "restore" and "setting" in kinds
        # Sequences continue after the restored ids (PostgreSQL needs them reset).
        top_user = session.scalar(select(func.max(User.id)))
        new_user = create_user(session, "after.restore", "long-enough-1", [])
        new_unit = create_org_unit(session, "新单位", "team")
        session.commit()
        assert new_user.id == top_user + 1
        assert new_unit.id > max(row[0] for row in before["org_unit"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [
        pytest.param("sqlite", "postgresql", marks=needs_postgres),
        pytest.param("postgresql", "sqlite", marks=needs_postgres),
        ("sqlite", "sqlite"),
    ],
)
def test_a_restored_waiting_timer_fires_exactly_once(
    fresh_db, weft, tmp_path, source_kind, target_kind
):
    _source_url, source = fresh_db(source_kind, "src")
    target_url, target = fresh_db(target_kind, "dst")
    instance_id = _populate(source)
    backup = _backup_file(source, tmp_path / "timers.zip")
    assert weft(target_url, "restore", str(backup)).exit_code == 0

    early = weft(target_url, "tick", "--now", (T0 + timedelta(minutes=30)).isoformat())
    assert early.exit_code == 0 and "timers fired for 0 instance(s)" in early.output
    due = weft(target_url, "tick", "--now", (T0 + timedelta(hours=2)).isoformat())
    assert due.exit_code == 0 and "timers fired for 1 instance(s)" in due.output, due.output
    again = weft(target_url, "tick", "--now", (T0 + timedelta(hours=3)).isoformat())
    assert "timers fired for 0 instance(s)" in again.output

    with Session(target) as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "completed"
        assert session.scalar(select(func.count(Timer.id))) == 0
    with Session(source) as session:  # the source database is not touched by any of this
        assert session.get(ProcessInstance, instance_id).status == "waiting"


@pytest.mark.parametrize("kind", KINDS)
def test_backup_is_one_consistent_snapshot(fresh_db, tmp_path, monkeypatch, kind):
    """A change committed while the backup runs is not half in it: the snapshot predates it."""
    _url, engine = fresh_db(kind, "snap")
    first_table = Base.metadata.sorted_tables[0].name
    original = snapshot_module._write_table

    def write_then_commit_elsewhere(connection, table, archive):
        entry = original(connection, table, archive)
        if table.name == first_table:  # after the first read, another worker saves a setting
            with Session(engine) as other:
                system_settings.update_settings(other, None, {"money.decimal_places": 4})
                other.commit()
        return entry

    monkeypatch.setattr(snapshot_module, "_write_table", write_then_commit_elsewhere)
    backup = _backup_file(engine, tmp_path / "snap.zip")

    with zipfile.ZipFile(backup) as archive:
        assert archive.read("data/system_setting.jsonl") == b""
        assert archive.read("data/admin_audit_entry.jsonl") == b""
    with Session(engine) as session:
        assert system_settings.get_setting(session, "money.decimal_places") == 4


# --- refusals ------------------------------------------------------------------------------------


def _rewrite(backup: Path, target: Path, change) -> Path:
    """Copy a backup, letting `change(name, data) -> data` alter its members."""
    with zipfile.ZipFile(backup) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, change(info.filename, source.read(info.filename)))
    return target


def _with_revision(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    body = json.loads(data)
    body["alembic_revisions"] = ["0001_initial_engine"]
    body["checksum"] = manifest_checksum(body)  # a well-formed backup of an older schema
    return json.dumps(body).encode()


def _tampered_row(name: str, data: bytes) -> bytes:
    return data.replace("锦华纺织".encode(), "别人的公司".encode()) if "instance" in name else data


def _tampered_manifest(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    body = json.loads(data)
    body["tables"][0]["rows"] += 1
    return json.dumps(body).encode()


@pytest.mark.parametrize("kind", KINDS)
def test_bad_backups_are_refused_and_change_nothing(fresh_db, weft, tmp_path, kind):
    _source_url, source = fresh_db("sqlite", "src")
    target_url, target = fresh_db(kind, "dst")
    _populate(source)
    with Session(target) as session:
        create_user(session, "keeps.working", "long-enough-1", ["admin"])
        session.commit()
    good = _backup_file(source, tmp_path / "good.zip")
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("客户名单,电话\n锦华,123\n", encoding="utf-8")
    cases = {
        not_zip: "not a zip archive",
        _rewrite(good, tmp_path / "row.zip", _tampered_row): "checksum of data/",
        _rewrite(good, tmp_path / "manifest.zip", _tampered_manifest): "manifest checksum",
        _rewrite(good, tmp_path / "old.zip", _with_revision): "schema revision 0001_initial",
    }
    before = _contents(target, skip=())
    for bad, message in cases.items():
        result = weft(target_url, "restore", "--force", str(bad))
        assert result.exit_code == 2, (bad.name, result.output)
        assert message in result.output, (bad.name, result.output)
        assert _contents(target, skip=()) == before, f"{bad.name} changed the database"


def test_an_existing_database_is_replaced_only_with_force(fresh_db, weft, tmp_path):
    _source_url, source = fresh_db("sqlite", "src")
    target_url, target = fresh_db("sqlite", "dst")
    _populate(source)
    with Session(target) as session:
        create_user(session, "existing.user", "long-enough-1", [])
        session.commit()
    backup = _backup_file(source, tmp_path / "b.zip")

    refused = weft(target_url, "restore", str(backup))
    assert refused.exit_code == 2 and "already holds data" in refused.output
    assert "--force" in refused.output
    forced = weft(target_url, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    with Session(target) as session:
        names = set(session.scalars(select(User.username)))
    assert "existing.user" not in names and "backup.admin" in names


def test_restore_into_a_brand_new_database_creates_its_schema(fresh_db, weft, tmp_path):
    _source_url, source = fresh_db("sqlite", "src")
    _populate(source)
    backup = _backup_file(source, tmp_path / "b.zip")
    new_url = f"sqlite:///{tmp_path / 'brand-new.sqlite3'}"

    result = weft(new_url, "restore", str(backup))

    assert result.exit_code == 0, result.output
    assert "created the schema" in result.output
    target = make_engine(new_url)
    try:
        assert _contents(target) == _contents(source)
    finally:
        target.dispose()


def test_backup_file_has_a_manifest_with_counts_and_revision(fresh_db, weft, tmp_path):
    url, engine = fresh_db("sqlite", "m")
    _populate(engine)
    target = tmp_path / "out" / "weft.zip"
    target.parent.mkdir()
    result = weft(url, "backup", str(target))
    assert result.exit_code == 0 and "rows in" in result.output
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        with engine.connect() as conn:
            heads = sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
        assert manifest["alembic_revisions"] == heads == sorted(_script_heads(engine))
        counts = {entry["name"]: entry["rows"] for entry in manifest["tables"]}
        assert counts["customer"] == 25 and counts["engine_timer"] == 1
        assert set(counts) == set(Base.metadata.tables)
        first = json.loads(archive.read("data/customer.jsonl").splitlines()[0])
        assert isinstance(first["created_at"], str) and first["created_at"].endswith("+00:00")
    assert not (tmp_path / "out" / "weft.zip.partial").exists()
    with Session(engine) as session:  # taking a backup is itself audited
        assert session.scalar(select(AdminChange.kind).order_by(AdminChange.id.desc())) == "backup"


# --- over HTTP -----------------------------------------------------------------------------------


def _restore(api, content: bytes, confirm: str | None = "true"):
    data = {"file": (io.BytesIO(content), "weft-backup.zip")}
    if confirm is not None:
        data["confirm"] = confirm
    return api.post("/api/v1/admin/restore", data=data, content_type="multipart/form-data")


def _unit_names(api) -> set[str]:
    return {unit["name"] for unit in api.get("/api/v1/org-units").get_json()["items"]}


def test_admin_downloads_a_backup_and_restores_it(api_as, session):
    admin = api_as("admin")
    created = admin.post("/api/v1/org-units", json={"name": "上海总部", "kind": "headquarters"})
    assert created.status_code == 201
    download = admin.post("/api/v1/admin/backups")
    assert download.status_code == 200, download.get_json()
    assert download.mimetype == "application/zip"
    assert "attachment; filename=weft-backup-" in download.headers["Content-Disposition"]
    backup = download.data
    with zipfile.ZipFile(io.BytesIO(backup)) as archive:
        units = [json.loads(line) for line in archive.read("data/org_unit.jsonl").splitlines()]
    assert [unit["name"] for unit in units] == ["上海总部"]

    admin.post("/api/v1/org-units", json={"name": "临时小组", "kind": "team"})
    assert _unit_names(admin) == {"上海总部", "临时小组"}

    restored = _restore(admin, backup)
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["tables"]["org_unit"] == 1
    assert _unit_names(admin) == {"上海总部"}
    log = admin.get("/api/v1/admin/audit-log?kind=restore").get_json()["items"]
    assert log[0]["actor"]["username"] == admin.user.username
    assert log[0]["after"]["replaced_existing"] is True


def test_restore_needs_confirmation_admin_and_a_good_file(api_as):
    admin = api_as("admin")
    admin.post("/api/v1/org-units", json={"name": "保留单位", "kind": "team"})
    backup = admin.post("/api/v1/admin/backups").data

    unconfirmed = _restore(admin, backup, confirm=None)
    assert unconfirmed.status_code == 422
    assert "confirm" in unconfirmed.get_json()["error"]["details"]

    garbage = _restore(admin, b"PK\x03\x04 this is not really a zip")
    assert garbage.status_code == 422
    assert "not a zip" in garbage.get_json()["error"]["details"]["file"][0]

    sales = api_as("salesperson", "sales_manager")
    assert _restore(sales, backup).status_code == 403
    assert sales.post("/api/v1/admin/backups").status_code == 403
    assert _unit_names(admin) == {"保留单位"}


def _script_heads(engine) -> list[str]:
    """The newest migrations the code ships: what a current database is at."""
    from alembic.script import ScriptDirectory

    from web.database import alembic_config

    return ScriptDirectory.from_config(alembic_config(engine)).get_heads()
