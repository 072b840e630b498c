"""The admin audit log: who changed fields, roles, users, org units, webhooks, settings and
process definitions, when, and what the values were before and after."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from crm_domain.admin_audit import record_admin_change
from tests.support.bpmn import linear_process, script_task

LOG = "/api/v1/admin/audit-log"


def entries(api, **filters) -> list[dict]:
    response = api.get(LOG, query_string=filters)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_custom_field_changes_are_logged_with_before_and_after(api_as):
    admin = api_as("admin")
    field = admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "customers",
            "name": "fabric",
            "type": "text",
            "label": {"zh": "面料", "en": "Fabric"},
        },
    ).get_json()
    relabel = {"label": {"zh": "主营面料", "en": "Main fabric"}}
    assert admin.patch(f"/api/v1/admin/fields/{field['id']}", json=relabel).status_code == 200
    admin.delete(f"/api/v1/admin/fields/{field['id']}")

    log = entries(admin, kind="custom_field")
    assert [e["action"] for e in log] == ["update", "update", "create"]  # newest first
    created, relabelled, archived = log[2], log[1], log[0]
    assert created["target"] == "customers.fabric" and created["before"] is None
    assert created["after"]["spec"]["label"]["zh"] == "面料"
    assert relabelled["before"]["spec"]["label"]["zh"] == "面料"
    assert relabelled["after"]["spec"]["label"]["zh"] == "主营面料"
    assert archived["before"]["archived"] is False and archived["after"]["archived"] is True
    assert {e["actor"]["username"] for e in log} == {admin.user.username}


def test_roles_users_org_units_and_webhooks_are_logged_without_secrets(api_as):
    admin = api_as("admin")
    admin.post("/api/v1/admin/roles", json={"key": "quality", "name": {"zh": "质检"}})
    admin.patch("/api/v1/admin/roles/quality", json={"grants": ["manage_fields"]})
    unit = admin.post("/api/v1/org-units", json={"name": "质检部", "kind": "team"}).get_json()
    user = admin.post(
        "/api/v1/users",
        json={"username": "zhao.qiang", "password": "long-enough-1", "roles": ["quality"]},
    ).get_json()
    admin.patch(f"/api/v1/users/{user['id']}", json={"org_unit_id": unit["id"]})
    hook = admin.post(
        "/api/v1/admin/webhooks", json={"url": "https://erp.example.com/hook", "events": ["*"]}
    ).get_json()

    role_change = entries(admin, kind="role")[0]
    assert role_change["before"]["grants"] == [] and role_change["after"]["grants"] == [
        "manage_fields"
    ]
    user_log = entries(admin, kind="user")
    assert user_log[0]["before"]["org_unit_id"] is None
    assert user_log[0]["after"]["org_unit_id"] == unit["id"]
    assert entries(admin, kind="org_unit")[0]["after"]["name"] == "质检部"
    webhook = entries(admin, kind="webhook")[0]
    assert webhook["after"]["url"] == "https://erp.example.com/hook"
    everything = str(entries(admin, per_page=200))
    assert "password_hash" not in everything and "argon2" not in everything
    assert hook["secret"] not in everything


def test_deploys_and_version_switches_are_logged(api_as):
    designer = api_as("process_designer")
    key = "audited_flow"
    for script in ("x = 1", "x = 2"):
        bpmn = linear_process(key, script_task("s", script))
        assert designer.upload((f"{key}.bpmn", bpmn)).status_code == 201
    switched = designer.put(f"/api/v1/process-definitions/{key}/current", json={"version": 1})
    assert switched.status_code == 200

    admin = api_as("admin")
    log = entries(admin, kind="process_definition", q=key)
    assert [(e["before"], e["after"]["current_version"]) for e in log] == [
        ({"current_version": 2}, 1),
        ({"current_version": 1}, 2),
        (None, 1),
    ]
    assert log[0]["actor"]["username"] == designer.user.username


def test_search_by_actor_kind_dates_and_text(api_as, session):
    t0 = clock.now()
    first, second = api_as("admin"), api_as("admin")  # their creation is logged after t0
    with clock.frozen_at(t0 - timedelta(days=10)):
        first.post("/api/v1/org-units", json={"name": "苏州工厂", "kind": "workshop"})
    with clock.frozen_at(t0 - timedelta(days=1)):
        second.patch("/api/v1/admin/settings", json={"money.decimal_places": 3})
        second.post("/api/v1/org-units", json={"name": "Ningbo Office", "kind": "office"})

    by_actor = entries(first, actor=first.user.username)
    assert [e["after"]["name"] for e in by_actor] == ["苏州工厂"]
    assert entries(first, actor=str(second.user.id))[0]["actor"]["id"] == second.user.id
    assert [e["target"] for e in entries(first, kind="setting")] == ["money.decimal_places"]
    recent = entries(first, since=(t0 - timedelta(days=2)).isoformat(), until=t0.isoformat())
    assert {e["kind"] for e in recent} == {"setting", "org_unit"} and len(recent) == 2
    assert [e["after"]["name"] for e in entries(first, q="苏州")] == ["苏州工厂"]
    assert [e["after"]["name"] for e in entries(first, q="ningbo office")] == ["Ningbo Office"]
    assert entries(first, q="100%_") == []

    query = {"kind": "org_unit", "per_page": 1, "page": 2}
    paged = first.get(LOG, query_string=query).get_json()
    assert paged["total"] == 2 and [e["after"]["name"] for e in paged["items"]] == ["苏州工厂"]

    bad = first.get(LOG, query_string={"since": "last tuesday", "page": "0"})
    assert bad.status_code == 422
    assert "since" in bad.get_json()["error"]["details"]
    backwards = first.get(LOG, query_string={"since": t0.isoformat(), "until": "2020-01-01"})
    assert backwards.status_code == 422


def test_only_administrators_read_the_log(api_as, anonymous):
    assert anonymous.get(LOG).status_code == 401
    assert api_as("sales_manager", "process_designer").get(LOG).status_code == 403


def test_record_admin_change_is_open_to_other_modules(api_as, session):
    """Rules and other admin features log through the same function."""
    admin = api_as("admin")
    rule_before = {"name": "逾期提醒", "days": 3, "enabled": True}
    rule_after = {"name": "逾期提醒", "days": 5, "enabled": True}
    entry = record_admin_change(
        session, admin.user, "rule", "overdue-reminder", rule_before, rule_after
    )
    assert record_admin_change(session, admin.user, "rule", "x", {"a": 1}, {"a": 1}) is None
    session.commit()
    logged = entries(admin, kind="rule")
    assert logged[0]["id"] == entry.id
    # Only what changed is kept, plus the name that says what it is.
    assert logged[0]["before"] == {"days": 3, "name": "逾期提醒"}
    assert logged[0]["after"] == {"days": 5, "name": "逾期提醒"}
    assert logged[0]["action"] == "update"


def test_command_line_changes_are_logged_as_the_system(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from core.db import make_engine
    from crm_domain.admin_audit import AdminChange
    from web.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("WEFT_DATABASE_URL", url)
    monkeypatch.setenv("WEFT_VAR_DIR", str(tmp_path / "var"))
    bpmn = tmp_path / "cli_flow.bpmn"
    bpmn.write_bytes(linear_process("cli_flow", script_task("s", "x = 1")))
    runner = CliRunner()
    for args in (
        ["db", "upgrade", "--no-shipped"],
        ["deploy", str(bpmn)],
        ["user", "create", "--username", "ops", "--password", "long-enough-1"],
    ):
        assert runner.invoke(main, args).exit_code == 0, args

    engine = make_engine(url)
    with Session(engine) as session:
        logged = session.execute(
            select(AdminChange.actor_name, AdminChange.kind, AdminChange.target).order_by(
                AdminChange.id
            )
        ).all()
    engine.dispose()
    assert logged == [("system", "process_definition", "cli_flow"), ("system", "user", "ops")]
