"""Reminder rules over REST (admins only), the preview of what would fire, and `weft tick
--now` creating each reminder once on the real database."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core import clock
from crm_domain.reminders.models import FiredReminder
from engine.models import ProcessInstance
from engine.reminders import run_due_reminders
from tests.conftest import ApiClient
from tests.support.rules import GOOD, RULES, Org, api_for, deploy_reminder_process


def test_an_admin_creates_reads_changes_and_deletes_a_rule(client, org):
    admin = api_for(client, org.admin)
    response = admin.post(RULES, json=GOOD)
    assert response.status_code == 201, response.get_json()
    rule = response.get_json()
    assert rule["timing"] == "before" and rule["active"] is True
    assert [r["id"] for r in admin.get(RULES).get_json()["items"]] == [rule["id"]]
    changed = admin.patch(f"{RULES}/{rule['id']}", json={"days": 3, "active": False})
    assert changed.status_code == 200
    assert (changed.get_json()["days"], changed.get_json()["recipients"]) == (
        3,
        ["owner", "manager"],
    )
    assert admin.get(f"{RULES}/{rule['id']}").get_json()["active"] is False
    assert admin.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert admin.get(f"{RULES}/{rule['id']}").status_code == 404

    # Every change is in the admin audit log: who, what, before and after.
    log = admin.get("/api/v1/admin/audit-log", query_string={"kind": "reminder_rule"})
    entries = log.get_json()["items"]
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    update = entries[1]
    assert (update["before"]["days"], update["after"]["days"]) == (7, 3)
    assert {e["actor"]["id"] for e in entries} == {org.admin.id}


def test_a_rule_without_days_takes_the_default_lead_days_setting(client, session, org):
    admin = api_for(client, org.admin)
    without_days = {key: value for key, value in GOOD.items() if key != "days"}
    assert admin.post(RULES, json=without_days).get_json()["days"] == 1  # the shipped default
    changed = admin.patch("/api/v1/admin/settings", json={"reminders.lead_days_default": 30})
    assert changed.status_code == 200, changed.get_json()
    assert admin.post(RULES, json=without_days).get_json()["days"] == 30
    assert admin.post(RULES, json={**without_days, "days": 0}).get_json()["days"] == 0


def test_bad_rules_are_refused_with_every_problem_by_field(client, org):
    admin = api_for(client, org.admin)
    response = admin.post(
        RULES,
        json={
            "name": " ",
            "kind": "date_field",
            "collection": "contracts",
            "date_field": "title",
            "days": -1,
            "timing": "soon",
            "recipients": ["owner", "role:wizard", "boss"],
            "channels": ["sms"],
            "message": {"zh": "{customer.bank_account} {__class__} {", "fr": "bonjour"},
            "filters": {"colour": "red", "status": []},
            "active": "yes",
        },
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {
        "name",
        "date_field",
        "days",
        "timing",
        "recipients.1",
        "recipients.2",
        "channels",
        "message.zh",
        "message.fr",
        "filters.colour",
        "filters.status",
        "active",
    }
    assert "ends_on" in details["date_field"][0]  # the choices are listed
    problems = " ".join(details["message.zh"])
    assert "{customer.bank_account}" in problems  # a sensitive field is not a placeholder
    assert "__class__" in problems and "brace" in problems
    unknown_kind = admin.post(RULES, json={**GOOD, "kind": "weekly", "collection": "planets"})
    assert set(unknown_kind.get_json()["error"]["details"]) >= {"kind", "collection"}
    assert admin.post(RULES, json={**GOOD, "surprise": 1}).status_code == 422
    assert admin.patch(f"{RULES}/999999", json={"days": 1}).status_code == 404


def test_only_administrators_see_or_change_reminder_rules(client, org):
    for user in (org.manager_a, org.sales_a1):
        api = api_for(client, user)
        assert api.get(RULES).status_code == 403
        assert api.post(RULES, json=GOOD).status_code == 403
    assert ApiClient(client, None).get(RULES).status_code == 401


def test_the_preview_lists_what_would_fire_in_the_next_days(client, session, org):
    customer = org.customer(org.sales_a1, grade="A")
    soon = org.contract(org.sales_a1, customer, "HT-SOON", date(2027, 3, 20))
    org.contract(org.sales_a1, customer, "HT-LATER", date(2027, 6, 1))
    admin = api_for(client, org.admin)
    rule = admin.post(RULES, json=GOOD).get_json()
    with clock.frozen_at(datetime(2027, 3, 1, 2, tzinfo=UTC)):
        response = admin.get(f"{RULES}/{rule['id']}/preview?days=30")
        bad = admin.get(f"{RULES}/{rule['id']}/preview?days=abc")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["from"], body["to"], body["total"]) == ("2027-03-01", "2027-03-31", 1)
    (item,) = body["items"]
    # 7 days before the 20th is Saturday the 13th: it fires on the working day before.
    assert (item["record_id"], item["fires_on"], item["occurrence"]) == (
        soon.id,
        "2027-03-12",
        "2027-03-20",
    )
    assert [r["id"] for r in item["recipients"]] == [org.sales_a1.id, org.manager_a.id]
    assert item["message"]["zh"] == "合同 HT-SOON 将于 2027-03-20 到期"
    assert item["already_fired"] is False
    assert bad.status_code == 422 and "days" in bad.get_json()["error"]["details"]
    assert session.scalar(select(func.count()).select_from(FiredReminder)) == 0


def _seed(factory) -> None:
    """A committed company with two contracts falling due while the scheduler is down."""
    with factory() as session:
        deploy_reminder_process(session)
        from crm_domain.users import create_user

        counter = iter(range(100))
        org = Org(
            session,
            lambda *roles, org_unit_id=None: _committed_user(
                session, create_user, roles, org_unit_id, next(counter)
            ),
        )
        customer = org.customer(org.sales_a1)
        org.contract(org.sales_a1, customer, "HT-CLI-1", date(2027, 3, 30))
        org.contract(org.sales_a1, customer, "HT-CLI-2", date(2027, 3, 31))
        from crm_domain.reminders.rules import create_reminder_rule

        create_reminder_rule(session, None, {**GOOD, "filters": {}, "channels": ["in_app"]})
        session.commit()


def _committed_user(session, create_user, roles, org_unit_id, n):
    user = create_user(session, f"cli{n}", "long-enough-1", list(roles), org_unit_id=org_unit_id)
    session.commit()
    return user


def test_weft_tick_now_catches_up_and_creates_each_reminder_once(
    committed_factory, database_url, monkeypatch, tmp_path
):
    from web.cli import main

    _seed(committed_factory)
    monkeypatch.setenv("WEFT_DATABASE_URL", database_url)
    monkeypatch.setenv("WEFT_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    # Down on the 23rd and 24th; `weft tick --now` on the 25th catches up, then a repeat.
    for instant in ("2027-03-25T01:00:00Z", "2027-03-25T05:00:00Z", "2027-03-26T01:00:00Z"):
        result = runner.invoke(main, ["tick", "--now", instant], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "reminders 0 created" in result.output
    with committed_factory() as session:
        fired = session.scalars(select(FiredReminder.occurrence).order_by(FiredReminder.occurrence))
        assert list(fired) == [date(2027, 3, 30), date(2027, 3, 31)]
        count = select(func.count()).where(ProcessInstance.process_key == "reminder")
        assert session.scalar(count) == 2


@pytest.mark.postgres_only
def test_two_schedulers_at_once_create_each_reminder_once(committed_factory, is_postgres):
    if not is_postgres:
        pytest.skip("needs PostgreSQL")
    _seed(committed_factory)
    now = datetime(2027, 3, 25, 1, tzinfo=UTC)
    reports = []

    def run():
        reports.append(run_due_reminders(committed_factory, now, batch_size=1))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.created for r in reports) == 2
    assert sum(r.errors for r in reports) == 0
    with committed_factory() as session:
        assert session.scalar(select(func.count()).select_from(FiredReminder)) == 2
        count = select(func.count()).where(ProcessInstance.process_key == "reminder")
        assert session.scalar(count) == 2


def test_the_recipient_follows_up_through_the_api_and_the_contract_lists_the_reminder(
    client, session, session_factory, org
):
    customer = org.customer(org.sales_a1, grade="A")
    contract = org.contract(org.sales_a1, customer, "HT-E2E", date(2027, 3, 20))
    admin = api_for(client, org.admin)
    assert admin.post(RULES, json={**GOOD, "recipients": ["owner"]}).status_code == 201
    assert run_due_reminders(session_factory, datetime(2027, 3, 13, 1, tzinfo=UTC)).created == 1

    owner = api_for(client, org.sales_a1)
    (task,) = owner.get("/api/v1/tasks?scope=mine&status=open").get_json()["items"]
    assert task["process_key"] == "reminder" and task["form_key"] == "reminder_follow_up"
    detail = owner.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert "合同 HT-E2E 将于 2027-03-20 到期" in detail["data"]["message"]
    about = owner.get(f"/api/v1/contracts/{contract.id}/process-instances").get_json()["items"]
    assert [i["id"] for i in about] == [task["instance_id"]]
    notes = owner.get("/api/v1/notifications").get_json()
    assert any("HT-E2E" in n["body"] for n in notes["items"])

    refused = owner.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert refused.status_code == 422 and "outcome" in refused.get_json()["error"]["details"]
    done = owner.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"outcome": "done", "notes": "已续签"}},
    )
    assert done.status_code == 200, done.get_json()
    instance = admin.get(f"/api/v1/process-instances/{task['instance_id']}").get_json()
    assert instance["status"] == "completed" and instance["data"]["outcome"] == "done"
    # Someone else's reminder is not theirs to do.
    assert api_for(client, org.sales_b).get("/api/v1/tasks?scope=mine").get_json()["items"] == []
