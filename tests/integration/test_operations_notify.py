"""`notify.send` from a process: in-app notifications and e-mail copies in the outbox."""

from __future__ import annotations

from sqlalchemy import select

from crm_domain.outbox import OutboxMessage
from crm_domain.users import create_user
from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task


def deploy(designer, **params):
    xml = linear_process("notify_flow", service_task("tell", "notify.send", **params))
    response = designer.upload(("notify_flow.bpmn", xml))
    assert response.status_code == 201, response.get_json()


def start(api, data=None):
    response = api.post(
        "/api/v1/process-instances", json={"process_key": "notify_flow", "data": data or {}}
    )
    assert response.status_code == 201, response.get_json()
    return api.get(f"/api/v1/process-instances/{response.get_json()['id']}").get_json()


def inbox(api):
    return api.get("/api/v1/notifications").get_json()


def test_role_holders_and_named_users_are_notified_in_app_and_by_email(designer, api_as, session):
    deploy(
        designer,
        roles='["sales_manager"]',
        users="[colleague]",
        title='"报价待审批 Quote " + quote_no + " waits for approval"',
        body='"折扣 " + str(discount) + "%"',
        link='"/tasks"',
    )
    manager = api_as("sales_manager")
    colleague_user = create_user(
        session, "li.lei", "correct-horse-1", ["salesperson"], email="li.lei@example.cn"
    )
    session.commit()
    colleague = api_as(user=colleague_user)
    bystander = api_as("service_agent")
    sales = api_as("salesperson")

    body = start(sales, {"quote_no": "Q-7", "discount": 12, "colleague": "li.lei"})
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["notified"]["user_ids"] == sorted([manager.user.id, colleague_user.id])
    for api in (manager, colleague):
        [note] = inbox(api)["items"]
        assert note["title"] == "报价待审批 Quote Q-7 waits for approval"
        assert note["body"] == "折扣 12%" and note["link"] == "/tasks"
    assert inbox(bystander)["items"] == []
    # Only the colleague has an address: one e-mail waits in the outbox, sent after commit.
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()
    assert [m.payload["to"] for m in mails] == ["li.lei@example.cn"]


def test_unknown_recipients_are_an_incident_and_nobody_is_half_notified(designer, api_as):
    deploy(designer, users='["ghost", manager]', title='"Hello"')
    manager = api_as("sales_manager")
    sales = api_as("salesperson")
    body = start(sales, {"manager": manager.user.username})
    assert body["status"] == "error"
    assert "No active user 'ghost'" in body["incidents"][0]["message"]
    assert inbox(manager)["items"] == []


def test_a_notification_needs_a_recipient(designer, api_as):
    deploy(designer, users="[]", title='"Hello"')
    body = start(api_as("salesperson"))
    assert "Name at least one recipient" in body["incidents"][0]["message"]
