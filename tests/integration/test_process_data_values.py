"""What scripts and users put into process data survives being saved and loaded: a datetime a
script keeps stays a datetime for the next script, and a field that happens to be called
"typename" (Spiff's own marker for typed values) is just data."""

from __future__ import annotations

import pytest

from tests.support.bpmn import linear_process, script_task, user_task


def _start(api, key, data):
    response = api.post("/api/v1/process-instances", json={"process_key": key, "data": data})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _instance(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()


def test_a_datetime_a_script_keeps_is_a_datetime_for_the_next_script(designer):
    key = "deadline_kept"
    bpmn = linear_process(
        key,
        script_task("plan", "due = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)"),
        user_task("confirm", "确认 Confirm"),
        script_task("count", "days_left = (due - datetime(2027, 1, 1, tzinfo=UTC)).days"),
    )
    assert designer.upload((f"{key}.bpmn", bpmn)).status_code == 201

    started = _start(designer, key, {})
    assert started["status"] == "running"  # saved while waiting, datetime and all
    [task] = designer.get("/api/v1/tasks?scope=all").get_json()["items"]
    done = designer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert done.status_code == 200, done.get_json()

    instance = _instance(designer, started["id"])
    assert instance["status"] == "completed"
    assert instance["data"]["days_left"] == 14
    assert instance["data"]["due"].startswith("2027-01-15")


@pytest.mark.parametrize(
    "marker",
    ["面料 fabric", "UUID", "datetime", None],
    ids=["free text", "a Spiff type", "a Spiff value type", "null"],
)
def test_data_with_a_key_named_typename_is_kept_as_it_is(designer, marker):
    key = "typename_field"
    bpmn = linear_process(
        key,
        user_task("review", "审核 Review"),
        script_task("copy", 'kind = meta["typename"]'),
    )
    assert designer.upload((f"{key}.bpmn", bpmn)).status_code == 201
    meta = {"typename": marker, "lines": [{"typename": None}]}

    started = _start(designer, key, {"meta": meta})
    [task] = designer.get("/api/v1/tasks?scope=all").get_json()["items"]
    done = designer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert done.status_code == 200, done.get_json()

    instance = _instance(designer, started["id"])
    assert instance["status"] == "completed"
    assert instance["data"]["meta"] == meta and instance["data"]["kind"] == marker
