"""Service operations: warranty check, agent assignment with its SLA, knowledge-base search,
defects and escalation — what the after-sales service process (processes/service/) calls.

Every change goes through `crm_domain.record_service` as the instance's acting user, so the
CRM's permissions, data scope, validation, audit and webhooks apply as for a person using the
API. Who may take or supervise a request is a domain rule (crm_domain/service.py), not the
acting user's choice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import Schema, fields, validate

from core import clock
from core.errors import Invalid
from crm_domain import service, service_desk
from crm_domain.knowledge_search import articles_for_request
from crm_domain.record_service import create_record, get_record, to_dict, update_record
from crm_domain.settings import add_working_hours
from engine.operations.context import OperationContext
from engine.operations.registry import operation

MAX_SLA_HOURS = 24 * 365


def request_id_field() -> fields.Integer:
    return fields.Integer(
        required=True, strict=False, metadata={"description": "The service request's id."}
    )


def _request(ctx: OperationContext, request_id: int, action: str = "read"):
    return get_record(ctx.session, ctx.actor, "service-requests", request_id, action)


def _update_request(ctx: OperationContext, request, data: dict[str, Any]) -> dict:
    record = update_record(
        ctx.session, ctx.actor, "service-requests", request.id, data, request.version
    )
    return to_dict(ctx.session, ctx.actor, "service-requests", record)


class CheckWarrantyParams(Schema):
    service_request_id = request_id_field()
    on_date = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "The date to check, ISO; default: today (China time)."},
    )
    purchase_date = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When the customer bought the product, ISO; default: the "
            "customer's last order of the product."
        },
    )


@operation(
    "crm.check_warranty",
    CheckWarrantyParams,
    result_variable="warranty",
    result="{in_warranty, basis: contract|warranty_date|purchase|none, ends_on, on_date, "
    "purchase_date, contract_id, product_id, warranty_months}",
)
def check_warranty_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Whether the request's product is under warranty: the request's warranty date or its
    contract's end, else the purchase date plus the product's warranty months.
    核实产品是否在保修期内（合同/保修日期，或购买日期加保修月数）。"""
    request = _request(ctx, params["service_request_id"])
    on_date = params["on_date"] or clock.business_date(ctx.now())
    return service_desk.warranty_status(ctx.session, request, on_date, params["purchase_date"])


class AssignAgentParams(Schema):
    service_request_id = request_id_field()
    sla_hours = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(min=1, max=MAX_SLA_HOURS),
        metadata={
            "description": "Hours from now until the request must be resolved (e.g. from the "
            "service_sla decision for the request's priority); working hours when "
            "working_hours is true."
        },
    )
    working_hours = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: count only the working hours of working days (settings "
            "calendar.*), as the shipped service process does; false or absent: round the "
            "clock, as process versions written before the working calendar expect."
        },
    )


@operation(
    "crm.assign_agent",
    AssignAgentParams,
    result_variable="assignment",
    result="{agent_id, agent_username, agent_name, open_requests, candidates, sla_hours, "
    "sla_due_at}",
)
def assign_agent_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Assign the request to the least-loaded service agent of its branch (the product's
    service team first) and set its SLA deadline: sla_hours from now (working hours when asked).
    将工单分派给本分公司（优先产品服务组）负荷最少的服务专员，并按工作时间设定服务时限。"""
    request = _request(ctx, params["service_request_id"], "update")
    candidates = service_desk.agent_candidates(ctx.session, request)
    chosen = service_desk.least_loaded_agent(ctx.session, candidates, request.id)
    if chosen is None:
        raise Invalid(
            "Nobody can take this service request: no active user holds the service_agent "
            "role in its branch. 本分公司没有服务专员。",
            details={
                "assignee_id": ["Give someone in the request's branch the service_agent role."]
            },
        )
    agent, open_requests = chosen
    if params["working_hours"]:
        due = add_working_hours(ctx.session, ctx.now(), params["sla_hours"])
    else:
        due = ctx.now() + timedelta(hours=params["sla_hours"])
    _update_request(
        ctx,
        request,
        {"assignee_id": agent.id, "status": "assigned", "sla_due_at": due.isoformat()},
    )
    return {
        "agent_id": agent.id,
        "agent_username": agent.username,
        "agent_name": agent.display_name or agent.username,
        "open_requests": open_requests,
        "candidates": len(candidates),
        "sla_hours": params["sla_hours"],
        "sla_due_at": due,
    }


class SearchArticlesParams(Schema):
    service_request_id = request_id_field()
    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Search text; default: the request's subject."},
    )
    limit = fields.Integer(
        load_default=5,
        strict=False,
        validate=validate.Range(min=1, max=20),
        metadata={"description": "At most this many articles (default 5)."},
    )


@operation(
    "crm.search_articles",
    SearchArticlesParams,
    result_variable="articles",
    result="[{id, title, problem, solution, product_id}] — the product's articles first.",
)
def search_articles_operation(ctx: OperationContext, params: dict[str, Any]) -> list[dict]:
    """Knowledge-base articles that may answer the request: about its product first, then
    those containing the search text. 检索知识库：同产品的文章优先。"""
    found = articles_for_request(
        ctx.session, ctx.actor, params["service_request_id"], params["q"], params["limit"]
    )
    return [
        {
            "id": article.id,
            "title": article.title,
            "problem": article.problem,
            "solution": article.solution,
            "product_id": article.product_id,
        }
        for article in found
    ]


class CreateDefectParams(Schema):
    service_request_id = request_id_field()
    description = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20_000),
        metadata={"description": "What is wrong with the product."},
    )
    severity = fields.String(
        load_default="medium",
        allow_none=True,
        validate=validate.OneOf(service.SEVERITIES),
        metadata={"description": "low, medium (default), high or critical."},
    )
    root_cause = fields.String(load_default=None, allow_none=True)
    product_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        metadata={"description": "The faulty product; default: the request's product."},
    )


@operation(
    "crm.create_defect",
    CreateDefectParams,
    result_variable="defect",
    result="The defect (a dict with id, product_id, service_request_id, severity, status).",
)
def create_defect_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """Record a product defect found while serving the request, linked to the request and
    its product. 登记产品缺陷，关联服务请求和产品。"""
    request = _request(ctx, params["service_request_id"])
    product_id = params["product_id"] or request.product_id
    if product_id is None:
        raise Invalid(
            "The request names no product, so the defect needs one.",
            details={"product_id": ["Name the faulty product."]},
        )
    data = {
        "product_id": product_id,
        "service_request_id": request.id,
        "severity": params["severity"] or "medium",
        "description": params["description"],
    }
    if params["root_cause"]:
        data["root_cause"] = params["root_cause"]
    record = create_record(ctx.session, ctx.actor, "defects", data)
    return to_dict(ctx.session, ctx.actor, "defects", record)


class EscalateRequestParams(Schema):
    service_request_id = request_id_field()
    role = fields.String(
        load_default="sales_manager",
        validate=validate.Length(min=1, max=50),
        metadata={
            "description": "The supervising role (default sales_manager); its nearest holder "
            "at or above the request's org unit supervises."
        },
    )


@operation(
    "crm.escalate_request",
    EscalateRequestParams,
    result_variable="escalation",
    result="{supervisor_id, supervisor_username, previous_priority, priority, sla_due_at}",
)
def escalate_request_operation(ctx: OperationContext, params: dict[str, Any]) -> dict:
    """The SLA has run out: raise the request's priority one step (urgent stays urgent) and
    name its supervisor — the nearest holder of the role at or above the request's unit.
    超时升级：提高优先级一级，并找到上级主管。"""
    request = _request(ctx, params["service_request_id"], "update")
    supervisor = service_desk.supervisor_of(ctx.session, request, params["role"])
    if supervisor is None:
        raise Invalid(
            f"Nobody supervises this service request: no active user holds the "
            f"'{params['role']}' role at or above its org unit. 没有可升级的主管。",
            details={"role": [f"Give someone above the request the '{params['role']}' role."]},
        )
    previous = request.priority
    # The deadline stays: the request is late against the promise already made.
    record = _update_request(
        ctx,
        request,
        {
            "priority": service_desk.ESCALATED_PRIORITY[previous],
            "sla_due_at": request.sla_due_at.isoformat(),
        },
    )
    return {
        "supervisor_id": supervisor.id,
        "supervisor_username": supervisor.username,
        "previous_priority": previous,
        "priority": record["priority"],
        "sla_due_at": record["sla_due_at"],
    }
