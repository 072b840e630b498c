"""Helpers for the reminder-rule and start-rule tests: the shipped reminder process, an org
tree with people, and CRM records created through the real record service."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import PROJECT_ROOT
from core.security import issue_token
from crm_domain import record_service
from crm_domain.access import actor_for
from crm_domain.org import create_org_unit
from crm_domain.reminders.rules import create_reminder_rule
from crm_domain.users import User
from engine.definitions import deploy_files
from engine.models import HumanTask, ProcessInstance
from engine.parsing import UploadedFile
from tests.conftest import TEST_SECRET, ApiClient

REMINDERS_DIR = PROJECT_ROOT / "processes" / "reminders"


def deploy_reminder_process(session: Session) -> None:
    files = [UploadedFile(p.name, p.read_bytes()) for p in sorted(REMINDERS_DIR.iterdir())]
    deploy_files(session, files, None, 5 * 1024 * 1024)
    session.commit()


def at(day: date, hour: int = 1) -> datetime:
    """An instant on that day: 01:00 UTC is 09:00 in China, when the working day starts."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def rule(session: Session, **fields):
    """A reminder rule created by the system (no acting admin), committed."""
    created = create_reminder_rule(
        session,
        None,
        {"name": "提醒 Reminder", "message": {"zh": "请跟进 {due_date}"}, **fields},
    )
    session.commit()
    return created


class Org:
    """Group → branch A (→ office A1) and branch B, with people in each (as in the API tests)."""

    def __init__(self, session: Session, make_user):
        self.group = create_org_unit(session, "锦华集团", "group")
        self.branch_a = create_org_unit(session, "华东分公司", "branch", self.group.id)
        self.office_a1 = create_org_unit(session, "苏州办事处", "office", self.branch_a.id)
        self.branch_b = create_org_unit(session, "华南分公司", "branch", self.group.id)
        session.commit()
        self.sales_a1 = make_user("salesperson", org_unit_id=self.office_a1.id)
        self.sales_b = make_user("salesperson", org_unit_id=self.branch_b.id)
        self.manager_a = make_user("sales_manager", org_unit_id=self.branch_a.id)
        self.manager_b = make_user("sales_manager", org_unit_id=self.branch_b.id)
        self.service_a1 = make_user("service_agent", org_unit_id=self.office_a1.id)
        self.admin = make_user("admin", org_unit_id=self.group.id)
        self.session = session

    def create(self, collection: str, data: dict, owner: User):
        """A record created by an administrator and handed to `owner` (its unit follows)."""
        actor = actor_for(self.session, self.admin)
        record = record_service.create_record(
            self.session, actor, collection, {**data, "owner_id": owner.id}
        )
        self.session.commit()
        return record

    def customer(self, owner: User, name: str = "苏州锦华纺织有限公司", **fields):
        return self.create("customers", {"name": name, **fields}, owner)

    def contract(self, owner: User, customer, number: str, ends_on: date, **fields):
        return self.create(
            "contracts",
            {
                "customer_id": customer.id,
                "contract_no": number,
                "title": f"年度供货合同 {number}",
                "ends_on": ends_on.isoformat(),
                "status": "active",
                **fields,
            },
            owner,
        )

    def order(self, owner: User, customer, number: str, ordered_on: str):
        """An order of one line of fabric (1,250.00 in all)."""
        line = {"description": "涤纶塔夫绸", "quantity": "100", "unit_price": "12.50"}
        return self.create(
            "orders",
            {
                "customer_id": customer.id,
                "order_no": number,
                "ordered_on": ordered_on,
                "lines": [line],
            },
            owner,
        )


def reminder_instances(session: Session) -> list[ProcessInstance]:
    return list(
        session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.process_key == "reminder")
            .order_by(ProcessInstance.id)
        )
    )


def open_tasks_of(session: Session, user: User) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask).where(HumanTask.assignee_id == user.id, HumanTask.status == "open")
        )
    )


# The admin console's reminder-rule form, filled in as an administrator would.
REMINDER_RULE_FORM = {
    "name": "合同到期提醒",
    "kind": "date_field",
    "collection": "contracts",
    "date_field": "ends_on",
    "days": "7",
    "timing": "before",
    "to_owner": "on",
    "manager_role": "sales_manager",
    "channel_in_app": "on",
    "message_zh": "合同 {contract.number} 将于 {due_date} 到期",
    "message_en": "Contract {contract.number} ends on {due_date}",
    "active": "on",
}


# The REST API for reminder rules, and a rule it accepts.
RULES = "/api/v1/admin/reminder-rules"
GOOD = {
    "name": "合同到期提醒",
    "kind": "date_field",
    "collection": "contracts",
    "date_field": "ends_on",
    "days": 7,
    "recipients": ["owner", "manager"],
    "channels": ["in_app", "email"],
    "message": {"zh": "合同 {contract.number} 将于 {due_date} 到期", "en": "{customer.name}"},
    "filters": {"status": ["active"], "customer.grade": ["A", "B"]},
}


def api_for(client, user) -> ApiClient:
    """The test client with a bearer token for `user`."""
    token, _ = issue_token(TEST_SECRET, user.id, 3600)
    return ApiClient(client, token)
