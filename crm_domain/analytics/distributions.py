"""Distributions over the customers in the viewer's scope, for the dashboard charts: how many
customers have each RFM score, and how grades changed month by month.

Both are aggregated in SQL over `customers_select` (the viewer's customer scope), so a
salesperson's chart counts only the customers they may read."""

from __future__ import annotations

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from crm_domain.access import Actor
from crm_domain.analytics.models import CustomerMetrics, GradeChange
from crm_domain.analytics.segments import customers_select

SCORES = (1, 2, 3, 4, 5)


def rfm_distribution(session: Session, actor: Actor) -> dict:
    """Customers per score (1..5) of recency, frequency and monetary value."""
    chosen = customers_select(session, actor, {}).subquery()
    m = CustomerMetrics
    counts = {}
    for name, column in (("recency", m.r_score), ("frequency", m.f_score), ("monetary", m.m_score)):
        rows = session.execute(
            select(column, func.count())
            .join(chosen, chosen.c.id == m.customer_id)
            .where(column.is_not(None))
            .group_by(column)
        ).all()
        counts[name] = {int(score): n for score, n in rows}
    return {
        "scores": [
            {
                "score": score,
                "recency": counts["recency"].get(score, 0),
                "frequency": counts["frequency"].get(score, 0),
                "monetary": counts["monetary"].get(score, 0),
            }
            for score in SCORES
        ]
    }


def grade_changes_by_month(session: Session, actor: Actor) -> dict:
    """Grade changes per month and new grade (an upgrade to A and a downgrade to C both count
    under their new grade), for the customers in scope."""
    chosen = customers_select(session, actor, {}).subquery()
    year, month = extract("year", GradeChange.changed_at), extract("month", GradeChange.changed_at)
    rows = session.execute(
        select(year, month, GradeChange.to_grade, func.count())
        .join(chosen, chosen.c.id == GradeChange.customer_id)
        .group_by(year, month, GradeChange.to_grade)
        .order_by(year, month, GradeChange.to_grade)
    ).all()
    return {
        "months": [
            {"month": f"{int(y)}-{int(mo):02d}", "grade": grade or "-", "changes": n}
            for y, mo, grade, n in rows
        ]
    }
