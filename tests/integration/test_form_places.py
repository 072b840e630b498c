"""Task forms follow the configured decimal places: the shipped sales quote's quantities take
`quantity.decimal_places` and its unit prices `money.decimal_places`. Too many decimals is a
422 on the field when the task is completed — the task stays open and the instance never gets
an incident at `crm.create_quote` — and a change of the setting applies to the next submission.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import engine.form_places
from engine.shipped import deploy_shipped
from tests.conftest import PROCESSES
from tests.processes import sales_support
from tests.processes.sales_support import PREPARE_QUOTE, QUALIFY, UPLOAD_LIMIT, sales_team

SETTINGS_URL = "/api/v1/admin/settings"


@pytest.fixture
def team(session, make_user, api_as, session_factory):
    return sales_team(session, make_user, api_as, session_factory)


@pytest.fixture
def admin(api_as):
    return api_as("admin")


def set_places(admin, **places: int) -> None:
    body = {f"{name}.decimal_places": value for name, value in places.items()}
    response = admin.patch(SETTINGS_URL, json=body)
    assert response.status_code == 200, response.get_json()


def quote_task(team, instance_id: int) -> dict:
    return team.task(team.sales, instance_id, PREPARE_QUOTE)


def submit(team, task: dict, **data):
    body = {"product_1": team.product["id"], "discount_percent": 0, **data}
    return team.sales.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": body})


def field_errors(response) -> dict:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["details"]


def quoted_lines(team, instance_id: int) -> list[dict]:
    body = team.instance(instance_id)
    assert not body["incidents"], body["incidents"]
    return team.record("quotes", body["data"]["quote"]["id"], api=team.sales)["lines"]


def assert_nothing_lost(team, instance_id: int, task: dict) -> None:
    """The refused submission left the task open and the instance as it was: no incident."""
    detail = team.sales.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["status"] == "open"
    body = team.instance(instance_id)
    assert body["status"] == "running" and body["incidents"] == []
    assert "quote" not in body["data"]
    completed = [e["task_name"] for e in body["events"] if e["kind"] == "task_completed"]
    assert PREPARE_QUOTE not in completed


def test_with_whole_quantities_a_fraction_is_refused_on_its_field(team, admin):
    set_places(admin, quantity=0)
    started = team.start_lead()
    team.qualify(started["id"])
    task = quote_task(team, started["id"])

    detail = team.sales.get(f"/api/v1/tasks/{task['id']}").get_json()
    specs = {spec["name"]: spec for spec in detail["form"]["fields"]}
    assert specs["quantity_1"]["places"] == "quantity"
    assert specs["unit_price_1"]["places"] == "money"
    assert detail["form_places"] == {"quantity": 0, "money": 2}

    refused = submit(team, task, quantity_1=1.5, product_2=team.product["id"], quantity_2="2.5")
    assert field_errors(refused) == {
        "quantity_1": ["Enter a whole number."],
        "quantity_2": ["Enter a whole number."],
    }
    assert_nothing_lost(team, started["id"], task)
    refused = submit(team, task, quantity_1=2, unit_price_1="98.765")
    assert field_errors(refused) == {
        "unit_price_1": ["Enter an amount with at most 2 decimal places."]
    }
    assert_nothing_lost(team, started["id"], task)

    # The corrected input goes through, and the quote is made with it.
    assert submit(team, task, quantity_1=2, unit_price_1="98.76").status_code == 200
    [line] = quoted_lines(team, started["id"])
    assert (line["quantity"], line["unit_price"]) == (2, 98.76)


def test_with_two_places_a_fraction_is_taken_and_a_third_decimal_refused(team, admin):
    set_places(admin, quantity=2, money=0)
    started = team.start_lead()
    team.qualify(started["id"])
    task = quote_task(team, started["id"])
    assert team.sales.get(f"/api/v1/tasks/{task['id']}").get_json()["form_places"] == {
        "quantity": 2,
        "money": 0,
    }

    refused = submit(team, task, quantity_1="1.125", unit_price_1="99.5")
    assert field_errors(refused) == {
        "quantity_1": ["Enter a quantity with at most 2 decimal places."],
        "unit_price_1": ["Enter a whole number."],
    }
    assert_nothing_lost(team, started["id"], task)

    assert submit(team, task, quantity_1=1.5, unit_price_1="99").status_code == 200
    [line] = quoted_lines(team, started["id"])
    assert (line["quantity"], line["unit_price"]) == (1.5, 99)


def test_the_setting_is_read_only_for_forms_that_name_it(team, monkeypatch):
    read: list[str] = []
    real = engine.form_places.get_setting

    def counted(session, key):
        read.append(key)
        return real(session, key)

    monkeypatch.setattr(engine.form_places, "get_setting", counted)
    started = team.start_lead()
    task = team.task(team.sales, started["id"], QUALIFY)
    assert team.sales.get(f"/api/v1/tasks/{task['id']}").get_json()["form_places"] == {}
    team.qualify(started["id"])
    assert read == []  # completing a form without named places costs no settings read

    team.quote(started["id"], quantity=3)
    assert sorted(read) == ["money.decimal_places", "quantity.decimal_places"]


def test_a_custom_field_takes_a_number_of_places_not_a_setting(admin):
    field = {"collection": "customers", "name": "bolts", "type": "decimal", "label": "Bolts"}
    refused = admin.post("/api/v1/admin/fields", json={**field, "places": "quantity"})
    assert field_errors(refused) == {
        "places": ["A custom field's places is a whole number from 0 to 8."]
    }
    made = admin.post("/api/v1/admin/fields", json={**field, "places": 1})
    assert made.status_code == 201, made.get_json()


# --- the upgrade from a release whose quote form had fixed places --------------------------


def release(root: Path, older: bool = False) -> Path:
    """A processes/ folder with the shipped approval and sales bundles; `older`: as the release
    before, whose quote form gave its quantities 3 places and its unit prices 2."""
    for folder in ("approval", "sales"):
        shutil.copytree(PROCESSES / folder, root / folder)
    if older:
        quote = root / "sales" / "sales_quote.json"
        form = json.loads(quote.read_text(encoding="utf-8"))
        for spec in form["fields"]:
            if spec.get("places") in ("quantity", "money"):
                spec["places"] = 3 if spec["places"] == "quantity" else 2
        quote.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    return root


def test_the_upgrade_makes_the_named_places_the_next_version_and_running_sales_go_on(
    session, make_user, api_as, session_factory, tmp_path, monkeypatch, admin
):
    older = release(tmp_path / "older", older=True)
    monkeypatch.setattr(
        sales_support,
        "deploy_shipped_sales",
        lambda s: (deploy_shipped(s, older, UPLOAD_LIMIT), s.commit()),
    )
    team = sales_team(session, make_user, api_as, session_factory)
    running = team.start_lead()
    assert running["version"] == 1
    team.qualify(running["id"])

    newer = release(tmp_path / "newer")
    upgraded = [
        (d.key, d.version) for r in deploy_shipped(session, newer, UPLOAD_LIMIT) for d in r.created
    ]
    session.commit()
    assert upgraded == [("sales", 2)]
    assert deploy_shipped(session, newer, UPLOAD_LIMIT) == []  # once

    # The sale that started on version 1 keeps its form (three places, rounded) and finishes
    # its quote; a new sale takes version 2's configured places.
    team.quote(running["id"], quantity="2.5")
    assert [line["quantity"] for line in quoted_lines(team, running["id"])] == [2.5]
    new = team.start_lead()
    assert new["version"] == 2
    team.qualify(new["id"])
    set_places(admin, quantity=0)
    task = quote_task(team, new["id"])
    assert field_errors(submit(team, task, quantity_1="2.5")) == {
        "quantity_1": ["Enter a whole number."]
    }
    assert_nothing_lost(team, new["id"], task)
    team.quote(new["id"], quantity=3)
    assert [line["quantity"] for line in quoted_lines(team, new["id"])] == [3]
