"""Service figures, live and scoped: volumes, SLA attainment, top defects by product and
customer satisfaction."""

from __future__ import annotations

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from core import clock
from crm_domain.access import Actor
from crm_domain.analytics.scope import visible
from crm_domain.products import Product
from crm_domain.service import DONE, Defect, ServiceRequest


def service_figures(session: Session, actor: Actor, top: int = 10) -> dict:
    where = visible(actor, "service-requests")

    def counted(column) -> dict:
        rows = session.execute(
            select(column, func.count()).where(where).group_by(column).order_by(column)
        ).all()
        return {str(key): n for key, n in rows}

    year, month = (
        extract("year", ServiceRequest.created_at),
        extract("month", ServiceRequest.created_at),
    )
    monthly = session.execute(
        select(year, month, func.count()).where(where).group_by(year, month).order_by(year, month)
    ).all()
    resolved = ServiceRequest.status.in_(DONE) & ServiceRequest.resolved_at.is_not(None)
    done, in_time = session.execute(
        select(
            func.count(),
            func.count().filter(ServiceRequest.resolved_at <= ServiceRequest.sla_due_at),
        ).where(where, resolved)
    ).one()
    breached_open = session.scalar(
        select(func.count()).where(
            where, ~ServiceRequest.status.in_(DONE), ServiceRequest.sla_due_at < clock.now()
        )
    )
    ratings = session.execute(
        select(ServiceRequest.satisfaction, func.count())
        .where(where, ServiceRequest.satisfaction.is_not(None))
        .group_by(ServiceRequest.satisfaction)
    ).all()
    rated = sum(n for _, n in ratings)
    defects = session.execute(
        select(Product.id, Product.sku, Product.name, func.count(Defect.id))
        .join(Product, Product.id == Defect.product_id)
        .where(visible(actor, "defects"))
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(func.count(Defect.id).desc(), Product.id)
        .limit(top)
    ).all()
    return {
        "total": sum(counted(ServiceRequest.status).values()),
        "by_status": counted(ServiceRequest.status),
        "by_priority": counted(ServiceRequest.priority),
        "by_channel": counted(ServiceRequest.channel),
        "by_month": [{"month": f"{int(y)}-{int(m):02d}", "count": n} for y, m, n in monthly],
        "sla": {
            "resolved": done,
            "resolved_in_time": in_time,
            "attainment": round(in_time / done, 4) if done else None,
            "open_breached": breached_open,
        },
        "satisfaction": {
            "rated": rated,
            "average": round(sum(s * n for s, n in ratings) / rated, 2) if rated else None,
            "distribution": {str(s): n for s, n in sorted(ratings)},
        },
        "top_defects": [
            {"product_id": pid, "sku": sku, "name": name, "defects": n}
            for pid, sku, name, n in defects
        ],
    }
