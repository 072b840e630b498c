"""The customer's whole story: contacts on every channel, changes and processes, in one list."""

from __future__ import annotations

from tests.integration.test_quote_approval_api import deploy_quote


def test_the_timeline_merges_interactions_changes_and_process_events(designer, api_as):
    deploy_quote(designer)
    sales, stranger = api_as("salesperson"), api_as("salesperson")
    customer = sales.post("/api/v1/customers", json={"name": "嘉兴美亚服装"}).get_json()
    cid = customer["id"]
    for channel, summary, at in (
        ("visit", "上门拜访，看样品", "2026-11-02T02:00:00Z"),
        ("phone", "电话确认交期", "2026-11-05T06:30:00Z"),
        ("fax", "传真报价单", "2026-11-06T01:00:00Z"),
    ):
        logged = sales.post(
            "/api/v1/interactions",
            json={"customer_id": cid, "channel": channel, "summary": summary, "occurred_at": at},
        )
        assert logged.status_code == 201, logged.get_json()
    sales.patch(f"/api/v1/customers/{cid}", json={"grade": "B", "version": 1})
    started = sales.post(
        "/api/v1/process-instances",
        json={"process_key": "quote_discount_approval", "subject": {"type": "customer", "id": cid}},
    )
    assert started.status_code == 201

    items = sales.get(f"/api/v1/customers/{cid}/timeline").get_json()["items"]

    kinds = [item["kind"] for item in items]
    assert {"interactions", "changes", "process"} <= set(kinds)
    interactions = [item for item in items if item["kind"] == "interactions"]
    assert [item["channel"] for item in interactions] == ["fax", "phone", "visit"]  # newest first
    assert any(i["kind"] == "process" and i["event"] == "started" for i in items)
    assert any(i["kind"] == "changes" and "grade" in i["title"] for i in items)
    instants = [item["at"] for item in items]
    assert instants == sorted(instants, reverse=True)

    about = sales.get(f"/api/v1/customers/{cid}/process-instances").get_json()["items"]
    assert [(i["process_key"], i["status"]) for i in about] == [
        ("quote_discount_approval", "running")
    ]
    # Outside the data scope there is no timeline to read.
    assert stranger.get(f"/api/v1/customers/{cid}/timeline").status_code == 404
    assert stranger.get(f"/api/v1/customers/{cid}/process-instances").status_code == 404


def test_instances_about_an_opportunity_or_service_request_are_listed_on_it(designer, api_as):
    deploy_quote(designer)
    manager = api_as("sales_manager")
    customer = manager.post("/api/v1/customers", json={"name": "绍兴恒丰印染"}).get_json()
    opportunity = manager.post(
        "/api/v1/opportunities",
        json={"customer_id": customer["id"], "title": "秋冬面料", "amount": 80000},
    ).get_json()
    started = manager.post(
        "/api/v1/process-instances",
        json={
            "process_key": "quote_discount_approval",
            "subject": {"type": "opportunity", "id": opportunity["id"]},
        },
    )
    assert started.status_code == 201, started.get_json()
    about = manager.get(f"/api/v1/opportunities/{opportunity['id']}/process-instances")
    assert [i["id"] for i in about.get_json()["items"]] == [started.get_json()["id"]]
