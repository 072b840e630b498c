"""The customer profile report from seven angles: profile, loyalty (persistency),
profitability, performance, prospects, products bought and response to campaigns — for one
customer, and compared across the customers of a segment.

Every query is scoped: the customer must be in the viewer's customer scope (404 otherwise) and
each angle counts only the orders, receivables, opportunities and campaigns the viewer may read.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.clock import business_today
from core.errors import Forbidden, Invalid, NotFound
from crm_domain import record_service
from crm_domain.access import Actor
from crm_domain.analytics.customer_values import customer_values
from crm_domain.analytics.models import CustomerMetrics
from crm_domain.analytics.rfm import COUNTED
from crm_domain.analytics.scope import visible
from crm_domain.analytics.segments import customers_select
from crm_domain.analytics.settings import current_parameters
from crm_domain.analytics.value_matrix import quadrant_of, thresholds
from crm_domain.customers import Customer
from crm_domain.marketing import Campaign
from crm_domain.orders import OrderLine, Receivable, SalesOrder
from crm_domain.products import Product
from crm_domain.sales import Opportunity
from crm_domain.service import ServiceRequest

OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
CAMPAIGN_RESPONSE_DAYS = 30  # orders up to this long after a campaign ends count as a response
RECENT_CAMPAIGNS = 20


def _money(value) -> float:
    return round(float(value or 0), 2)


def customer_profile(session: Session, actor: Actor, customer_id: int) -> dict:
    customer = record_service.get_record(session, actor, "customers", customer_id)
    today = business_today()
    params = current_parameters(session)
    margin_rate = 1 - params["product_cost_percent"] / 100
    metrics = session.get(CustomerMetrics, customer_id)
    orders_where = and_(visible(actor, "orders"), COUNTED, SalesOrder.customer_id == customer_id)
    orders = session.execute(
        select(SalesOrder.ordered_on, SalesOrder.total)
        .where(orders_where)
        .order_by(SalesOrder.ordered_on)
    ).all()
    dates = [o.ordered_on for o in orders]
    totals = np.array([float(o.total or 0) for o in orders])
    since = today - timedelta(days=365)
    last_12 = float(totals[[d >= since for d in dates]].sum()) if orders else 0.0
    prior_12 = (
        float(totals[[since - timedelta(days=365) <= d < since for d in dates]].sum())
        if orders
        else 0.0
    )
    gaps = np.diff([d.toordinal() for d in dates]) if len(dates) > 1 else np.array([])
    tenure_years = (today - dates[0]).days / 365.25 if dates else 0.0
    active_years = len({d.year for d in dates})
    span_years = (today.year - dates[0].year + 1) if dates else 0

    receivables = session.execute(
        select(
            func.coalesce(func.sum(Receivable.amount - Receivable.paid_amount), 0),
            func.coalesce(
                func.sum(Receivable.amount - Receivable.paid_amount).filter(
                    Receivable.due_on < today
                ),
                0,
            ),
            func.coalesce(func.sum(Receivable.paid_amount), 0),
        ).where(
            visible(actor, "receivables"),
            Receivable.customer_id == customer_id,
            Receivable.paid_amount < Receivable.amount,
        )
    ).one()
    pipeline = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Opportunity.amount), 0),
            func.coalesce(func.sum(Opportunity.amount * Opportunity.probability / 100.0), 0),
        ).where(
            visible(actor, "opportunities"),
            Opportunity.customer_id == customer_id,
            Opportunity.stage.in_(OPEN_STAGES),
        )
    ).one()
    products = session.execute(
        select(
            Product.id,
            Product.sku,
            Product.name,
            func.sum(OrderLine.quantity),
            func.sum(OrderLine.amount),
            func.count(func.distinct(SalesOrder.id)),
        )
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(orders_where)
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(func.sum(OrderLine.amount).desc(), Product.id)
        .limit(10)
    ).all()
    service = session.execute(
        select(func.count(), func.avg(ServiceRequest.satisfaction)).where(
            visible(actor, "service-requests"), ServiceRequest.customer_id == customer_id
        )
    ).one()
    limits = thresholds(session)
    quadrant = (
        quadrant_of(metrics.current_value, metrics.potential_value or 0, limits)
        if metrics is not None and metrics.frequency
        else None
    )
    return {
        "customer_id": customer.id,
        "computed_at": metrics.computed_at.isoformat() if metrics else None,
        "profile": {
            "name": customer.name,
            "kind": customer.kind,
            "relation": customer.relation,
            "region": customer.region,
            "industry": customer.industry,
            "size": customer.size,
            "grade": customer.grade,
            "credit_rating": customer.credit_rating,
            "lifecycle_stage": customer.lifecycle_stage,
            "cooperation_since": (
                customer.cooperation_since.isoformat() if customer.cooperation_since else None
            ),
        },
        "loyalty": {
            "first_order_on": dates[0].isoformat() if dates else None,
            "last_order_on": dates[-1].isoformat() if dates else None,
            "tenure_years": round(tenure_years, 2),
            "orders": len(dates),
            "repeat_buyer": len(set(dates)) > 1,
            "active_years": active_years,
            # share of the calendar years since the first order in which they ordered
            "persistency": round(active_years / span_years, 4) if span_years else None,
            "mean_days_between_orders": round(float(gaps.mean()), 1) if len(gaps) else None,
            "probability_alive": metrics.probability_alive if metrics else None,
        },
        "profitability": {
            "sales": _money(totals.sum()),
            "margin": _money(totals.sum() * margin_rate),
            "margin_12m": _money(last_12 * margin_rate),
            "open_receivables": _money(receivables[0]),
            "overdue_receivables": _money(receivables[1]),
            "clv_retention": metrics.clv_retention if metrics else None,
        },
        "performance": {
            "sales_12m": _money(last_12),
            "sales_prior_12m": _money(prior_12),
            "growth": round(last_12 / prior_12 - 1, 4) if prior_12 else None,
            "average_order": _money(totals.mean()) if len(totals) else None,
            "orders_per_year": round(len(dates) / max(tenure_years, 1.0), 2) if dates else 0,
            "rfm_score": metrics.rfm_score if metrics else None,
        },
        "prospects": {
            "open_opportunities": pipeline[0],
            "pipeline_amount": _money(pipeline[1]),
            "pipeline_weighted": _money(pipeline[2]),
            "expected_purchases_12m": metrics.expected_purchases if metrics else None,
            "clv_predicted": metrics.clv_predicted if metrics else None,
            "potential_value": metrics.potential_value if metrics else None,
            "quadrant": quadrant,
        },
        "products": [
            {
                "product_id": pid,
                "sku": sku,
                "name": name,
                "quantity": float(quantity or 0),
                "amount": _money(amount),
                "orders": n,
            }
            for pid, sku, name, quantity, amount, n in products
        ],
        "campaigns": _campaign_response(session, actor, customer_id, dates, orders),
        "service": {
            "requests": service[0],
            "average_satisfaction": round(float(service[1]), 2) if service[1] else None,
        },
    }


def _campaign_response(session, actor, customer_id, dates, orders) -> dict:
    """Recent campaigns whose saved segment picks the customer, and whether they ordered during
    the campaign or within CAMPAIGN_RESPONSE_DAYS after it."""
    from crm_domain.analytics.segments import customers_select as picks

    try:
        campaigns_visible = visible(actor, "campaigns")
    except Forbidden:  # no campaign rights: the angle is empty, not an error
        return {"targeted": 0, "responded": 0, "response_rate": None, "items": []}
    campaigns = session.scalars(
        select(Campaign)
        .where(campaigns_visible, Campaign.starts_on.is_not(None))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(RECENT_CAMPAIGNS)
    ).all()
    items = []
    for campaign in campaigns:
        segment = dict(campaign.segment or {})
        try:
            stmt = picks(session, actor, _campaign_definition(session, actor, segment))
        except (Invalid, NotFound):  # a saved filter that no longer applies targets nobody
            continue
        targeted = session.scalar(
            select(func.count()).select_from(
                stmt.where(Customer.id == customer_id).order_by(None).subquery()
            )
        )
        if not targeted:
            continue
        end = (campaign.ends_on or campaign.starts_on) + timedelta(days=CAMPAIGN_RESPONSE_DAYS)
        bought = [float(o.total or 0) for o in orders if campaign.starts_on <= o.ordered_on <= end]
        items.append(
            {
                "campaign_id": campaign.id,
                "name": campaign.name,
                "channel": campaign.channel,
                "starts_on": campaign.starts_on.isoformat(),
                "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
                "responded": bool(bought),
                "orders": len(bought),
                "amount": _money(sum(bought)),
            }
        )
    responded = sum(1 for i in items if i["responded"])
    return {
        "targeted": len(items),
        "responded": responded,
        "response_rate": round(responded / len(items), 4) if items else None,
        "items": items,
    }


def _campaign_definition(session, actor, segment: dict) -> dict:
    if segment.get("segment_id"):
        from crm_domain.analytics.segments import get_segment

        return get_segment(session, actor, int(segment["segment_id"])).definition or {}
    return {"q": segment.get("q"), "filters": segment.get("filters") or {}}


def segment_comparison(
    session: Session,
    actor: Actor,
    definition: dict,
    *,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> dict:
    """The segment's averages on each angle, and its customers side by side."""
    chosen = customers_select(session, actor, definition).subquery()
    m = CustomerMetrics
    summary = session.execute(
        select(
            func.count(),
            func.count().filter(m.frequency > 0),
            func.count().filter(m.frequency > 1),
            func.avg(m.recency_days),
            func.avg(m.frequency),
            func.avg(m.monetary),
            func.avg(m.current_value),
            func.avg(m.clv_retention),
            func.avg(m.clv_predicted),
            func.avg(m.probability_alive),
            func.avg(m.product_value),
            func.avg(m.service_value).filter(m.service_value > 0),
        ).join(chosen, chosen.c.id == m.customer_id)
    ).one()
    grades = session.execute(
        select(chosen.c.grade, func.count()).group_by(chosen.c.grade).order_by(chosen.c.grade)
    ).all()
    items, total = customer_values(
        session, actor, definition, sort=sort, page=page, per_page=per_page
    )

    def avg(value, places=2):
        return None if value is None else round(float(value), places)

    customers, buyers, repeaters = summary[0], summary[1], summary[2]
    return {
        "summary": {
            "customers": customers,
            "buyers": buyers,
            "repeat_rate": round(repeaters / buyers, 4) if buyers else None,
            "average_recency_days": avg(summary[3], 1),
            "average_orders": avg(summary[4]),
            "average_sales": avg(summary[5]),
            "average_current_value": avg(summary[6]),
            "average_clv_retention": avg(summary[7]),
            "average_clv_predicted": avg(summary[8]),
            "average_probability_alive": avg(summary[9], 4),
            "average_products": avg(summary[10]),
            "average_satisfaction": avg(summary[11]),
            "grades": {str(g): n for g, n in grades},
        },
        "items": items,
        "total": total,
        "page": page,
    }
