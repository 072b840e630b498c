"""The `weft` command line on a real SQLite database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core import clock
from core.db import make_engine, make_session_factory
from engine.models import ProcessDefinition, ProcessInstance
from tests.support.bpmn import linear_process, script_task, timer_event
from web.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("WEFT_DATABASE_URL", url)
    monkeypatch.setenv("WEFT_VAR_DIR", str(tmp_path / "var"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.factory = lambda: make_session_factory(make_engine(url))
    return run


def test_db_upgrade_deploys_shipped_processes_once(cli):
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "deployed shipped process quote_discount_approval v1" in result.output
    assert "deployed shipped process approval v1" in result.output
    again = cli("db", "upgrade")
    assert again.exit_code == 0 and "deployed shipped" not in again.output
    with cli.factory()() as session:
        keys = session.execute(select(ProcessDefinition.key, ProcessDefinition.version)).all()
    # Every shipped process once, at version 1 (other folders ship more keys).
    assert {("approval", 1), ("quote_discount_approval", 1)} <= set(keys)
    assert sorted(version for _key, version in keys) == [1] * len(keys)


def test_user_create_and_errors(cli):
    cli("db", "upgrade", "--no-shipped")
    ok = cli(
        "user",
        "create",
        "--username",
        "chen.jie",
        "--password",
        "long-enough-1",
        "--role",
        "sales_manager",
    )
    assert ok.exit_code == 0 and "sales_manager" in ok.output
    dup = cli("user", "create", "--username", "chen.jie", "--password", "long-enough-1")
    assert dup.exit_code == 2 and "already exists" in dup.output
    weak = cli("user", "create", "--username", "x", "--password", "short", "--role", "wizard")
    assert weak.exit_code == 2
    assert "password" in weak.output and "Unknown role" in weak.output


def test_user_create_places_the_user_in_an_org_unit(cli):
    from crm_domain.org import create_org_unit
    from crm_domain.users import User

    cli("db", "upgrade", "--no-shipped")
    with cli.factory()() as session:
        unit_id = create_org_unit(session, "杭州办事处", "office").id
        session.commit()
    args = ("user", "create", "--password", "long-enough-1", "--role", "salesperson")
    assert cli(*args, "--username", "a", "--org-unit", "杭州办事处").exit_code == 0
    assert cli(*args, "--username", "b", "--org-unit", str(unit_id)).exit_code == 0
    nowhere = cli(*args, "--username", "c", "--org-unit", "火星办事处")
    assert nowhere.exit_code == 2 and "No org unit" in nowhere.output
    with cli.factory()() as session:
        placed = dict(session.execute(select(User.username, User.org_unit_id)).all())
    assert placed == {"a": unit_id, "b": unit_id, "system": None}


def test_deploy_and_tick_now(cli, tmp_path):
    cli("db", "upgrade", "--no-shipped")
    bpmn = tmp_path / "nightly.bpmn"
    bpmn.write_bytes(
        linear_process("nightly", timer_event("wait", "P1D"), script_task("s", "done = True"))
    )
    deployed = cli("deploy", str(bpmn))
    assert deployed.exit_code == 0 and "nightly v1 (new version)" in deployed.output
    same = cli("deploy", str(bpmn))
    assert "nightly v1 (unchanged)" in same.output
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<not-bpmn")
    refused = cli("deploy", str(broken))
    assert refused.exit_code == 2 and "broken.bpmn" in refused.output

    from engine.instances import start_instance

    factory = cli.factory()
    t0 = clock.now()
    with clock.frozen_at(t0), factory() as session:
        iid = start_instance(session, None, "nightly").id
        session.commit()
    early = cli("tick", "--now", (t0 + timedelta(hours=1)).isoformat())
    assert "timers fired for 0 instance(s)" in early.output
    late = cli("tick", "--now", (t0 + timedelta(days=2)).isoformat())
    assert "timers fired for 1 instance(s)" in late.output
    with factory() as session:
        assert (
            session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == iid))
            == "completed"
        )
    bad = cli("tick", "--now", "yesterday")
    assert bad.exit_code == 2
