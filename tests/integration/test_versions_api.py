"""A second upload is version 2; running instances finish on the version they started on."""

from __future__ import annotations

from tests.support.bpmn import form, linear_process, script_task, user_task

APPROVE_FORM = form("ok_form", {"name": "ok", "type": "boolean", "label": {"en": "OK"}})


def v1() -> bytes:
    return linear_process(
        "order_check",
        user_task("check", "Check", "ok_form"),
        script_task("mark", "path = 'v1'"),
        lanes={"salesperson": ["start", "check", "mark", "end"]},
    )


def v2() -> bytes:
    return linear_process(
        "order_check",
        user_task("check", "Check", "ok_form"),
        user_task("double_check", "Double check"),
        script_task("mark", "path = 'v2'"),
        lanes={"salesperson": ["start", "check", "double_check", "mark", "end"]},
    )


def first_task(api, instance_id):
    detail = api.get(f"/api/v1/process-instances/{instance_id}").get_json()
    return next(t for t in detail["tasks"] if t["status"] == "open")


def test_version_2_runs_new_instances_while_version_1_finishes_the_old_way(designer, api_as):
    sales = api_as("salesperson")
    assert (
        designer.upload(("order_check.bpmn", v1()), ("ok_form.json", APPROVE_FORM)).status_code
        == 201
    )
    old = sales.post("/api/v1/process-instances", json={"process_key": "order_check"}).get_json()
    assert old["version"] == 1

    uploaded = designer.upload(("order_check.bpmn", v2()))
    assert uploaded.status_code == 201
    assert uploaded.get_json()["version"] == 2
    new = sales.post("/api/v1/process-instances", json={"process_key": "order_check"}).get_json()
    assert new["version"] == 2

    # The old instance: check -> mark v1 -> end.
    task = first_task(sales, old["id"])
    assert (
        sales.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"ok": True}}).status_code
        == 200
    )
    old_final = sales.get(f"/api/v1/process-instances/{old['id']}").get_json()
    assert old_final["status"] == "completed"
    assert old_final["data"]["path"] == "v1"

    # The new one takes the added step.
    task = first_task(sales, new["id"])
    sales.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"ok": True}})
    second = first_task(sales, new["id"])
    assert second["name"] == "Double check"
    sales.post(f"/api/v1/tasks/{second['id']}/complete", json={"data": {}})
    new_final = sales.get(f"/api/v1/process-instances/{new['id']}").get_json()
    assert new_final["status"] == "completed" and new_final["data"]["path"] == "v2"


def test_admin_can_make_an_older_version_current_again(designer, api_as):
    sales = api_as("salesperson")
    designer.upload(("order_check.bpmn", v1()), ("ok_form.json", APPROVE_FORM))
    designer.upload(("order_check.bpmn", v2()))
    rolled_back = designer.put(
        "/api/v1/process-definitions/order_check/current", json={"version": 1}
    )
    assert rolled_back.status_code == 200
    assert rolled_back.get_json()["is_current"] is True
    started = sales.post(
        "/api/v1/process-instances", json={"process_key": "order_check"}
    ).get_json()
    assert started["version"] == 1
    listing = designer.get("/api/v1/process-definitions").get_json()
    assert (listing[0]["version"], listing[0]["latest_version"]) == (1, 2)

    assert (
        designer.put(
            "/api/v1/process-definitions/order_check/current", json={"version": 9}
        ).status_code
        == 404
    )
    assert (
        designer.put(
            "/api/v1/process-definitions/order_check/current", json={"version": "x"}
        ).status_code
        == 422
    )
    assert (
        sales.put(
            "/api/v1/process-definitions/order_check/current", json={"version": 2}
        ).status_code
        == 403
    )


def test_running_instance_keeps_its_pinned_form(designer, api_as):
    """A form changed in version 2 does not change what a version-1 task accepts."""
    sales = api_as("salesperson")
    designer.upload(("order_check.bpmn", v1()), ("ok_form.json", APPROVE_FORM))
    old = sales.post("/api/v1/process-instances", json={"process_key": "order_check"}).get_json()
    stricter = form(
        "ok_form",
        {"name": "ok", "type": "boolean", "label": {"en": "OK"}},
        {"name": "reason", "type": "text", "required": True, "label": {"en": "Reason"}},
    )
    assert (
        designer.upload(("order_check.bpmn", v1()), ("ok_form.json", stricter)).status_code == 201
    )
    task = first_task(sales, old["id"])
    assert (
        sales.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"ok": True}}).status_code
        == 200
    )
    new = sales.post("/api/v1/process-instances", json={"process_key": "order_check"}).get_json()
    assert new["version"] == 2
    task = first_task(sales, new["id"])
    refused = sales.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"ok": True}})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["details"]


def test_a_plain_admin_cannot_deploy_but_an_admin_designer_can(api_as):
    admin = api_as("admin")
    refused = admin.upload(("order_check.bpmn", v1()), ("ok_form.json", APPROVE_FORM))
    assert refused.status_code == 403
    assert "deploy_processes" in refused.get_json()["error"]["message"]
    both = api_as("admin", "process_designer")
    deployed = both.upload(("order_check.bpmn", v1()), ("ok_form.json", APPROVE_FORM))
    assert deployed.status_code == 201, deployed.get_json()
    assert (
        admin.put(
            "/api/v1/process-definitions/order_check/current", json={"version": 1}
        ).status_code
        == 403
    )
