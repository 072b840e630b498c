"""Walking the shipped service process through the REST API: an org with a service desk,
service agents in two branches, supervisors, a product with a service team, and the steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import clock
from crm_domain.org import create_org_unit
from engine.definitions import deploy_files
from engine.models import HumanTask
from engine.shipped import shipped_bundles
from engine.start_rules import run_start_rules
from engine.timers import fire_due_timers
from tests.conftest import PROCESSES
from tests.processes.approval_support import complete, instance

DIAGNOSE = "诊断问题 Diagnose the problem"
REPAIR = "维修 Repair"
REPLACE = "更换 Replace"
CONFIRM = "客户确认 Confirm with the customer"
SATISFACTION = "满意度回访 Satisfaction follow-up"
SUPERVISE = "处理超时工单 Handle the overdue request"
UPLOAD_LIMIT = 5_000_000


def deploy_shipped_service(session) -> None:
    """What `weft db upgrade` does for the service folder."""
    deploy_files(session, shipped_bundles(PROCESSES)["service"], None, UPLOAD_LIMIT)
    session.commit()


class ServiceDesk:
    """Group → branch A (→ service team A with two agents; the desk at branch level) and
    branch B (one agent), a sales manager supervising each branch, and a product of team A."""

    def __init__(self, session, make_user, api_as, session_factory):
        self.session, self.session_factory = session, session_factory
        group = create_org_unit(session, "锦华集团", "group")
        branch_a = create_org_unit(session, "华东分公司", "branch", group.id)
        team_a = create_org_unit(session, "华东服务组", "team", branch_a.id)
        branch_b = create_org_unit(session, "华南分公司", "branch", group.id)
        session.commit()
        self.units = {"group": group, "a": branch_a, "team_a": team_a, "b": branch_b}

        def person(*roles, unit, username=None):
            return api_as(user=make_user(*roles, org_unit_id=unit.id, username=username))

        # The desk takes requests in (a service agent at branch level: its requests belong to
        # branch A); the instance acts as the desk, whoever does the tasks.
        self.desk = person("service_agent", unit=branch_a, username="desk_a")
        self.agent_a1 = person("service_agent", unit=team_a, username="agent_a1")
        self.agent_a2 = person("service_agent", unit=team_a, username="agent_a2")
        self.manager_a = person("sales_manager", unit=branch_a, username="manager_a")
        self.desk_b = person("service_agent", unit=branch_b, username="desk_b")
        self.agent_b = person("service_agent", unit=branch_b, username="agent_b")
        self.manager_b = person("sales_manager", unit=branch_b, username="manager_b")
        self.admin = person("admin", "process_designer", unit=group, username="admin")
        self.product = self.created(
            self.manager_a,
            "products",
            {
                "sku": "FAB-200",
                "name": "涤纶面料 200g",
                "brand": "锦华",
                "series": "涤纶",
                "unit": "metre",
                "price": "25",
                "warranty_months": 12,
                "service_team_unit_id": team_a.id,
            },
        )
        self.customer = self.created(
            self.manager_a, "customers", {"name": "苏州锦华服装有限公司", "grade": "A"}
        )
        self.customer_b = self.created(
            self.manager_b, "customers", {"name": "广州华南制衣有限公司", "grade": "B"}
        )

    @staticmethod
    def created(api, collection: str, data: dict) -> dict:
        response = api.post(f"/api/v1/{collection}", json=data)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    # --- steps ----------------------------------------------------------------------------

    def new_request(self, api=None, **data) -> dict:
        body = {
            "customer_id": self.customer["id"],
            "product_id": self.product["id"],
            "channel": "phone",
            "subject": "面料起球 Fabric pilling",
            "description": "客户反映洗涤后面料起球。Pilling after washing.",
            **data,
        }
        return self.created(api or self.desk, "service-requests", body)

    def start(self, request: dict, api=None) -> dict:
        response = (api or self.desk).post(
            "/api/v1/process-instances",
            json={
                "process_key": "service",
                "data": {"service_request_id": request["id"]},
                "subject": {"type": "service_request", "id": request["id"]},
            },
        )
        assert response.status_code == 201, response.get_json()
        return self.instance(response.get_json()["id"])

    def instance(self, instance_id: int) -> dict:
        return instance(self.admin, instance_id)

    def open_tasks(self, api, instance_id: int) -> list[dict]:
        response = api.get("/api/v1/tasks?scope=mine&status=open&per_page=100")
        assert response.status_code == 200, response.get_json()
        return [t for t in response.get_json()["items"] if t["instance_id"] == instance_id]

    def task(self, api, instance_id: int, name: str) -> dict:
        found = [t for t in self.open_tasks(api, instance_id) if t["name"] == name]
        assert len(found) == 1, self.open_tasks(api, instance_id)
        return found[0]

    def do(self, api, instance_id: int, name: str, **data) -> dict:
        complete(api, self.task(api, instance_id, name), **data)
        body = self.instance(instance_id)
        assert not [i for i in body["incidents"] if not i.get("resolved_at")], body["incidents"]
        return body

    def agent_of(self, body: dict):
        agent_id = body["data"]["assignment"]["agent_id"]
        for api in (self.agent_a1, self.agent_a2, self.agent_b, self.desk, self.desk_b):
            if api.user.id == agent_id:
                return api
        raise AssertionError(f"unexpected agent {agent_id}")

    def record(self, collection: str, record_id: int, api=None) -> dict:
        response = (api or self.admin).get(f"/api/v1/{collection}/{record_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def tick(self, at: str) -> list[int]:
        """`weft tick --now AT` for timers and start rules (the clock travels along)."""
        now = clock.parse_instant(at)
        with clock.frozen_at(now):
            fired = fire_due_timers(self.session_factory, now).fired
            run_start_rules(self.session_factory, now)
        return fired

    def human_task(self, task_id: str) -> HumanTask:
        return self.session.scalar(select(HumanTask).where(HumanTask.id == task_id))

    def notifications(self, api) -> list[str]:
        body = api.get("/api/v1/notifications").get_json()
        return [item["title"] for item in body["items"]]


def service_desk(session, make_user, api_as, session_factory) -> ServiceDesk:
    """The shipped service process deployed and the people above (each test module makes
    it its `desk` fixture)."""
    deploy_shipped_service(session)
    return ServiceDesk(session, make_user, api_as, session_factory)


def at(text: str) -> datetime:
    return clock.parse_instant(text)
