"""Upload -> start -> inbox -> claim -> complete -> history, through the REST API."""

from __future__ import annotations

from tests.conftest import PROCESSES

QUOTE_DIR = PROCESSES / "approval"
# The quote discount process and its own forms; the folder also ships the generic approval.
QUOTE_FILES = [
    QUOTE_DIR / name
    for name in ("discount_approval.json", "prepare_quote.json", "quote_discount_approval.bpmn")
]


def deploy_quote(designer):
    response = designer.upload(*QUOTE_FILES)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_tasks(api, scope="mine"):
    response = api.get(f"/api/v1/tasks?scope={scope}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_upload_creates_version_1_with_hash(designer):
    body = deploy_quote(designer)
    assert body["key"] == "quote_discount_approval"
    assert body["version"] == 1
    assert len(body["hash"]) == 64
    assert {f["key"] for f in body["forms"]} == {"prepare_quote", "discount_approval"}

    listing = designer.get("/api/v1/process-definitions").get_json()
    assert [(d["key"], d["version"], d["latest_version"]) for d in listing] == [
        ("quote_discount_approval", 1, 1)
    ]
    xml = designer.get("/api/v1/process-definitions/quote_discount_approval/versions/1/bpmn")
    assert xml.status_code == 200
    assert b'id="quote_discount_approval"' in xml.data


def test_identical_reupload_makes_no_new_version(designer):
    first = deploy_quote(designer)
    again = designer.upload(*QUOTE_FILES)
    assert again.status_code == 200
    assert again.get_json()["version"] == first["version"] == 1
    assert again.get_json()["created"] is False
    versions = designer.get("/api/v1/process-definitions/quote_discount_approval").get_json()
    assert [v["version"] for v in versions] == [1]


def test_whole_story_with_approval(designer, api_as):
    deploy_quote(designer)
    sales = api_as("salesperson")
    manager = api_as("sales_manager")

    started = sales.post(
        "/api/v1/process-instances",
        json={"process_key": "quote_discount_approval", "subject": {"type": "customer", "id": 7}},
    )
    assert started.status_code == 201, started.get_json()
    instance = started.get_json()
    assert instance["status"] == "running" and instance["version"] == 1

    available = open_tasks(sales, "available")
    assert available["total"] == 1
    task = available["items"][0]
    assert task["name"] == "准备报价 Prepare quote"
    assert task["candidate_roles"] == ["salesperson"]
    assert task["form_key"] == "prepare_quote"
    assert task["due_at"] is not None
    # A sales manager is not a candidate for the salesperson's step.
    assert open_tasks(manager, "available")["total"] == 0

    claimed = sales.post(f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == sales.user.id
    assert open_tasks(sales, "mine")["total"] == 1

    detail = sales.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert [f["name"] for f in detail["form"]["fields"]][:4] == [
        "customer_name",
        "product",
        "list_price",
        "quoted_price",
    ]

    # Server-side validation: field-level messages, nothing saved.
    bad = sales.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"customer_name": "", "list_price": "abc", "quoted_price": -5}},
    )
    assert bad.status_code == 422
    errors = bad.get_json()["error"]["details"]
    assert {"customer_name", "product", "list_price", "quoted_price"} <= set(errors)
    assert open_tasks(sales, "mine")["total"] == 1

    done = sales.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={
            "data": {
                "customer_name": "苏州锦华纺织",
                "product": "涤纶面料 T-200",
                "list_price": "1000",
                "quoted_price": 820,
            }
        },
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"

    manager_tasks = open_tasks(manager, "available")
    assert manager_tasks["total"] == 1
    approval = manager_tasks["items"][0]
    assert approval["name"] == "经理审批 Manager approval"
    assert approval["priority"] == 5
    approval_detail = manager.get(f"/api/v1/tasks/{approval['id']}").get_json()
    assert approval_detail["data"]["discount_percent"] == 18.0
    assert approval_detail["data"]["needs_approval"] is True

    approved = manager.post(
        f"/api/v1/tasks/{approval['id']}/complete",
        json={"data": {"decision": "approve", "comment": "老客户，同意"}},
    )
    assert approved.status_code == 200, approved.get_json()

    final = sales.get(f"/api/v1/process-instances/{instance['id']}").get_json()
    assert final["status"] == "completed"
    assert final["subject"] == {"type": "customer", "id": "7"}
    assert final["data"]["decision"] == "approve"
    kinds = [e["kind"] for e in final["events"]]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert kinds.count("task_completed") == 2
    assert "task_claimed" in kinds
    completed_events = [e for e in final["events"] if e["kind"] == "task_completed"]
    assert completed_events[0]["user_id"] == sales.user.id
    assert completed_events[0]["detail"]["data"]["list_price"] == 1000.0
    assert completed_events[1]["user_id"] == manager.user.id
    assert [t["status"] for t in final["tasks"]] == ["completed", "completed"]

    # Completing again is a conflict, not an error page.
    again = manager.post(
        f"/api/v1/tasks/{approval['id']}/complete", json={"data": {"decision": "reject"}}
    )
    assert again.status_code == 409
    assert "already been completed" in again.get_json()["error"]["message"]


def test_small_discount_is_approved_automatically(designer, api_as):
    deploy_quote(designer)
    sales = api_as("salesperson")
    instance = sales.post(
        "/api/v1/process-instances", json={"process_key": "quote_discount_approval"}
    ).get_json()
    task = open_tasks(sales, "available")["items"][0]
    done = sales.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={
            "data": {"customer_name": "A", "product": "B", "list_price": 100, "quoted_price": 95}
        },
    )
    assert done.status_code == 200
    final = sales.get(f"/api/v1/process-instances/{instance['id']}").get_json()
    assert final["status"] == "completed"
    assert final["data"]["approved"] is True
    assert final["data"]["discount_percent"] == 5.0


def test_rejection_path(designer, api_as):
    deploy_quote(designer)
    sales, manager = api_as("salesperson"), api_as("sales_manager")
    instance = sales.post(
        "/api/v1/process-instances", json={"process_key": "quote_discount_approval"}
    ).get_json()
    task = open_tasks(sales, "available")["items"][0]
    sales.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={
            "data": {"customer_name": "A", "product": "B", "list_price": 100, "quoted_price": 50}
        },
    )
    approval = open_tasks(manager, "available")["items"][0]
    missing = manager.post(f"/api/v1/tasks/{approval['id']}/complete", json={"data": {}})
    assert missing.status_code == 422
    assert "decision" in missing.get_json()["error"]["details"]
    manager.post(
        f"/api/v1/tasks/{approval['id']}/complete",
        json={"data": {"decision": "reject", "comment": "太低"}},
    )
    final = sales.get(f"/api/v1/process-instances/{instance['id']}").get_json()
    assert final["status"] == "completed"
    assert final["data"]["approved"] is False


def test_role_and_auth_errors(designer, api_as, anonymous):
    deploy_quote(designer)
    sales, service = api_as("salesperson"), api_as("service_agent")
    sales.post("/api/v1/process-instances", json={"process_key": "quote_discount_approval"})
    task = open_tasks(sales, "available")["items"][0]

    assert anonymous.get("/api/v1/tasks").status_code == 401
    assert anonymous.post("/api/v1/process-instances", json={"process_key": "x"}).status_code == 401
    bad_token = type(anonymous)(anonymous.client, "forged.token")
    assert bad_token.get("/api/v1/tasks").status_code == 401

    forbidden = service.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert forbidden.status_code == 403
    assert service.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 403
    # Only designers (and admins) deploy.
    assert sales.upload(*QUOTE_FILES).status_code == 403

    other_sales = api_as("salesperson")
    assert sales.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    taken = other_sales.post(f"/api/v1/tasks/{task['id']}/claim")
    assert taken.status_code == 409
    assert (
        other_sales.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}).status_code
        == 409
    )
    # Hand it back; then the other salesperson may take it.
    assert sales.post(f"/api/v1/tasks/{task['id']}/unclaim").status_code == 200
    assert other_sales.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200

    assert sales.get("/api/v1/tasks/not-a-uuid").status_code == 404
    assert sales.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert sales.get("/api/v1/process-instances/999999").status_code == 404
    assert sales.post("/api/v1/process-instances", json={"process_key": "nope"}).status_code == 404
    unknown_field = sales.post(
        "/api/v1/process-instances", json={"process_key": "quote_discount_approval", "x": 1}
    )
    assert unknown_field.status_code == 422
    assert "x" in unknown_field.get_json()["error"]["details"]
    scope = sales.get("/api/v1/tasks?scope=everything")
    assert scope.status_code == 422 and "scope" in scope.get_json()["error"]["details"]
