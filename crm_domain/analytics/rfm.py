"""RFM: recency, frequency and monetary value per customer, scored 1..5 by quintile.

Recency is days since the last order (fewer is better), frequency the number of orders,
monetary the sum of their totals; draft and cancelled orders do not count. A score is the
quintile of the customer's mid-rank among the customers who bought (ties share the average
rank; ⌈5 × (rank − ½) / n⌉),
so 5 is the best fifth: the most recent, the most frequent, the biggest spenders. The combined
`rfm_score` reads as a three-digit number, e.g. 545.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from crm_domain.orders import SalesOrder


def counted(order=SalesOrder):
    """The orders RFM counts (of SalesOrder or an alias of it)."""
    return ~order.status.in_(("draft", "cancelled"))


COUNTED = counted()


def quintile_scores(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """1..5 by quintile of rank; ties share their average rank."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    ranks = rankdata(values if higher_is_better else -values, method="average")
    # mid-rank percentile: n distinct values spread evenly, all-equal values score 3
    return np.clip(np.ceil(5 * (ranks - 0.5) / len(values)), 1, 5).astype(int)


def score(recency_days, frequency, monetary) -> dict[str, np.ndarray]:
    r = quintile_scores(recency_days, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    return {"r_score": r, "f_score": f, "m_score": m, "rfm_score": r * 100 + f * 10 + m}


def order_summary_select(since_12m):
    """Per customer: orders, purchase days, first/last order, total, last-12-months total, and
    the total of the first purchase day (the BG/NBD "repeat" spend excludes it).

    One pass over the orders in customer order, which both databases read from the index
    ix_sales_order_customer_history alone; the first day's total then costs one seek into that
    index per customer (a join with a per-customer minimum instead took a second pass and a
    sort of every order: 11.6 s on SQLite for 1,000,000 orders, now 1–2 s)."""
    total = func.coalesce(SalesOrder.total, 0)
    summary = (
        select(
            SalesOrder.customer_id,
            func.count().label("orders"),
            func.count(func.distinct(SalesOrder.ordered_on)).label("purchase_days"),
            func.min(SalesOrder.ordered_on).label("first_on"),
            func.max(SalesOrder.ordered_on).label("last_on"),
            func.sum(total).label("total"),
            func.sum(case((SalesOrder.ordered_on >= since_12m, total), else_=0)).label("total_12m"),
        )
        .where(COUNTED)
        .group_by(SalesOrder.customer_id)
        .subquery("summary")
    )
    day = aliased(SalesOrder)
    first_day_total = (
        select(func.sum(func.coalesce(day.total, 0)))
        .where(
            day.customer_id == summary.c.customer_id,
            day.ordered_on == summary.c.first_on,
            counted(day),
        )
        .scalar_subquery()
    )
    return select(summary, first_day_total.label("first_day_total"))


def customer_rfm(session: Session, customer_id: int) -> dict | None:
    """The stored RFM figures of one customer (see recompute), or None before any run."""
    from crm_domain.analytics.models import CustomerMetrics

    row = session.get(CustomerMetrics, customer_id)
    if row is None:
        return None
    return {
        "recency_days": row.recency_days,
        "frequency": row.frequency,
        "monetary": row.monetary,
        "r_score": row.r_score,
        "f_score": row.f_score,
        "m_score": row.m_score,
        "rfm_score": row.rfm_score,
    }
