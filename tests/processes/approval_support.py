"""Walking the generic approval process through the REST API."""

from __future__ import annotations

from tests.conftest import PROCESSES

APPROVAL_DIR = PROCESSES / "approval"
APPROVAL_FILES = [
    APPROVAL_DIR / name
    for name in (
        "approval.bpmn",
        "approval_levels.dmn",
        "approval_decision.json",
        "approval_revise.json",
    )
]


def deploy_approval(designer) -> dict:
    response = designer.upload(*APPROVAL_FILES)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def request_approval(api, **data) -> dict:
    response = api.post("/api/v1/process-instances", json={"process_key": "approval", "data": data})
    assert response.status_code == 201, response.get_json()
    return instance(api, response.get_json()["id"])


def instance(api, instance_id: int) -> dict:
    response = api.get(f"/api/v1/process-instances/{instance_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def open_task(api, instance_id: int, scope: str = "available") -> dict:
    """The one open task of this instance that `api`'s user sees in `scope`."""
    body = api.get(f"/api/v1/tasks?scope={scope}").get_json()
    tasks = [t for t in body["items"] if t["instance_id"] == instance_id]
    assert len(tasks) == 1, body
    return tasks[0]


def complete(api, task: dict, **data) -> None:
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 200, response.get_json()


def decisions_in_history(body: dict) -> list[tuple[str, int, str]]:
    """(task name, user id, decision or action) of every completed approval/revise task."""
    return [
        (
            event["task_name"],
            event["user_id"],
            event["detail"]["data"].get("decision") or event["detail"]["data"].get("revise_action"),
        )
        for event in body["events"]
        if event["kind"] == "task_completed"
    ]
