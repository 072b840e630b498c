"""Per-customer value figures (RFM, lifetime values, matrix quadrant, grade) for the customers
in the viewer's scope, optionally narrowed by a segment definition; and the summaries over
them (value matrix, grade distribution)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Invalid
from crm_domain import record_service
from crm_domain.access import Actor
from crm_domain.analytics.models import CustomerMetrics, GradeChange
from crm_domain.analytics.segments import customers_select
from crm_domain.analytics.value_matrix import QUADRANTS, quadrant_expression, thresholds
from crm_domain.customers import Customer

SORTABLE = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "rfm_score",
    "current_value",
    "clv_retention",
    "clv_predicted",
    "potential_value",
    "expected_purchases",
    "probability_alive",
)
METRIC_COLUMNS = (
    "first_order_on",
    "last_order_on",
    "recency_days",
    "frequency",
    "monetary",
    "paid",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "current_value",
    "clv_retention",
    "expected_purchases",
    "probability_alive",
    "expected_order_value",
    "clv_predicted",
    "potential_value",
    "product_value",
    "service_value",
    "cluster",
)


def _ordering(sort: str | None) -> list:
    if not sort:
        return [CustomerMetrics.monetary.desc(), CustomerMetrics.customer_id]
    descending = sort.startswith("-")
    name = sort.lstrip("-+")
    if name not in SORTABLE:
        raise Invalid("Unknown sort key.", details={"sort": [f"Use one of {', '.join(SORTABLE)}."]})
    column = getattr(CustomerMetrics, name)
    return [column.desc() if descending else column.asc(), CustomerMetrics.customer_id]


def customer_values(
    session: Session,
    actor: Actor,
    definition: dict | None = None,
    *,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[dict], int]:
    limits = thresholds(session)
    chosen = customers_select(session, actor, definition or {}).subquery()
    quadrant = quadrant_expression(limits).label("quadrant")
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.region,
            Customer.industry,
            Customer.grade,
            Customer.lifecycle_stage,
            CustomerMetrics,
            quadrant,
        )
        .join(chosen, chosen.c.id == Customer.id)
        .join(CustomerMetrics, CustomerMetrics.customer_id == Customer.id)
    )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    per_page = max(1, min(per_page, record_service.MAX_PER_PAGE))
    rows = session.execute(
        stmt.order_by(*_ordering(sort)).limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    items = []
    for cid, name, region, industry, grade, stage, metrics, quadrant_name in rows:
        item = {
            "customer_id": cid,
            "name": name,
            "region": region,
            "industry": industry,
            "grade": grade,
            "lifecycle_stage": stage,
        }
        for column in METRIC_COLUMNS:
            value = getattr(metrics, column)
            item[column] = value.isoformat() if hasattr(value, "isoformat") else value
        item["quadrant"] = quadrant_name
        items.append(item)
    return items, total


def value_matrix(session: Session, actor: Actor, definition: dict | None = None) -> dict:
    """Customers, current value and potential value per quadrant, in scope."""
    limits = thresholds(session)
    chosen = customers_select(session, actor, definition or {}).subquery()
    quadrant = quadrant_expression(limits)
    rows = session.execute(
        select(
            quadrant,
            func.count(),
            func.sum(CustomerMetrics.current_value),
            func.sum(CustomerMetrics.potential_value),
        )
        .join(chosen, chosen.c.id == CustomerMetrics.customer_id)
        .where(CustomerMetrics.frequency > 0)
        .group_by(quadrant)
    ).all()
    found = {name: (n, float(cv or 0), float(pv or 0)) for name, n, cv, pv in rows}
    return {
        "thresholds": limits,
        "quadrants": [
            {
                "quadrant": name,
                "label": {"zh": info["zh"], "en": info["en"]},
                "strategy": info["strategy"],
                "customers": found.get(name, (0, 0, 0))[0],
                "current_value": round(found.get(name, (0, 0, 0))[1], 2),
                "potential_value": round(found.get(name, (0, 0, 0))[2], 2),
            }
            for name, info in QUADRANTS.items()
        ],
    }


def grade_distribution(session: Session, actor: Actor) -> dict:
    chosen = customers_select(session, actor, {}).subquery()
    rows = session.execute(
        select(chosen.c.grade, func.count()).group_by(chosen.c.grade).order_by(chosen.c.grade)
    ).all()
    return {"grades": [{"grade": g, "customers": n} for g, n in rows]}


def grade_history(session: Session, actor: Actor, customer_id: int) -> list[dict]:
    record_service.get_record(session, actor, "customers", customer_id)  # 404 outside scope
    rows = session.scalars(
        select(GradeChange)
        .where(GradeChange.customer_id == customer_id)
        .order_by(GradeChange.id.desc())
    ).all()
    return [
        {
            "id": r.id,
            "customer_id": r.customer_id,
            "changed_at": r.changed_at.isoformat(),
            "changed_by_id": r.changed_by_id,
            "from_grade": r.from_grade,
            "to_grade": r.to_grade,
            "reason": r.reason,
            "job_id": r.job_id,
        }
        for r in rows
    ]
