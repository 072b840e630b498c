"""Sales figures, live and scoped: the funnel, win rate and cycle length, the forecast of the
next quarters (pipeline × probability, and seasonal from order history), sales against plan by
salesperson and by branch, and the ageing of receivables."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from core.clock import business_today
from core.errors import Invalid
from crm_domain.access import Actor
from crm_domain.analytics.forecast import forecast_quarters
from crm_domain.analytics.rfm import COUNTED
from crm_domain.analytics.scope import visible
from crm_domain.orders import Receivable, SalesOrder
from crm_domain.org import OrgUnit, subtree_ids
from crm_domain.sales import OPPORTUNITY_STAGES, Opportunity
from crm_domain.sales_targets import SalesPlan
from crm_domain.users import User

OPEN_STAGES = OPPORTUNITY_STAGES[:4]  # prospecting .. negotiation
AGEING_BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")


def _number(value) -> float:
    return round(float(value or 0), 2)


# --- funnel ---------------------------------------------------------------------------------


def funnel(session: Session, actor: Actor) -> dict:
    """Opportunities by stage; conversion from each stage to the next.

    Stage history is not kept, so an opportunity counts as having reached every stage up to
    its current one (won: all of them); a lost one counts at the first stage only.
    """
    where = visible(actor, "opportunities")
    rows = session.execute(
        select(Opportunity.stage, func.count(), func.sum(Opportunity.amount))
        .where(where)
        .group_by(Opportunity.stage)
    ).all()
    count = {stage: 0 for stage in OPPORTUNITY_STAGES}
    amount = {stage: 0.0 for stage in OPPORTUNITY_STAGES}
    for stage, n, total in rows:
        count[stage], amount[stage] = n, _number(total)
    path = (*OPEN_STAGES, "won")
    reached = [sum(count[s] for s in path[i:]) for i in range(len(path))]
    reached[0] += count["lost"]
    stages = []
    for i, stage in enumerate(path):
        following = reached[i + 1] if i + 1 < len(path) else None
        stages.append(
            {
                "stage": stage,
                "count": count[stage],
                "amount": amount[stage],
                "reached": reached[i],
                "conversion_to_next": (
                    round(following / reached[i], 4)
                    if following is not None and reached[i]
                    else None
                ),
            }
        )
    won, lost = count["won"], count["lost"]
    cycles = session.execute(
        select(Opportunity.stage, Opportunity.created_at, Opportunity.updated_at).where(
            where, Opportunity.stage.in_(("won", "lost"))
        )
    ).all()

    def mean_days(stage: str) -> float | None:
        days = [(u - c).total_seconds() / 86400 for s, c, u in cycles if s == stage]
        return round(float(np.mean(days)), 1) if days else None

    return {
        "stages": stages,
        "lost": {"count": lost, "amount": amount["lost"]},
        "win_rate": round(won / (won + lost), 4) if won + lost else None,
        "cycle_days_won": mean_days("won"),
        "cycle_days_lost": mean_days("lost"),
        "total": sum(count.values()),
    }


# --- forecast -------------------------------------------------------------------------------


def _quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _label(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def forecast(session: Session, actor: Actor, quarters: int = 4) -> dict:
    """The current quarter and the next ones: weighted pipeline, and seasonal order history."""
    if not 1 <= quarters <= 12:
        raise Invalid("Forecast 1 to 12 quarters.", details={"quarters": ["Use 1 to 12."]})
    today = business_today()
    current = _quarter_of(today)
    horizon = [current]
    while len(horizon) < quarters:
        horizon.append(_next_quarter(*horizon[-1]))

    year, month = extract("year", SalesOrder.ordered_on), extract("month", SalesOrder.ordered_on)
    monthly = session.execute(
        select(year, month, func.sum(SalesOrder.total))
        .where(visible(actor, "orders"), COUNTED)
        .group_by(year, month)
    ).all()
    by_quarter: dict[tuple[int, int], float] = {}
    for y, m, total in monthly:
        key = (int(y), (int(m) - 1) // 3 + 1)
        by_quarter[key] = by_quarter.get(key, 0.0) + float(total or 0)
    history = []
    if by_quarter:
        cursor = min(by_quarter)
        while cursor < current:  # complete quarters only, gaps are zero sales
            history.append((cursor, by_quarter.get(cursor, 0.0)))
            cursor = _next_quarter(*cursor)
    method, predicted = forecast_quarters([v for _, v in history], quarters)

    close_year = extract("year", Opportunity.expected_close)
    close_month = extract("month", Opportunity.expected_close)
    weighted = func.sum(Opportunity.amount * Opportunity.probability / 100.0)
    pipeline_rows = session.execute(
        select(close_year, close_month, weighted, func.count())
        .where(
            visible(actor, "opportunities"),
            Opportunity.stage.in_(OPEN_STAGES),
            Opportunity.expected_close.is_not(None),
        )
        .group_by(close_year, close_month)
    ).all()
    pipeline = {q: 0.0 for q in horizon}
    counts = {q: 0 for q in horizon}
    for y, m, value, n in pipeline_rows:
        key = max((int(y), (int(m) - 1) // 3 + 1), current)  # overdue ones: this quarter
        if key in pipeline:
            pipeline[key] += float(value or 0)
            counts[key] += n
    return {
        "method": method,
        "history": [{"quarter": _label(*q), "sales": round(v, 2)} for q, v in history],
        "quarters": [
            {
                "quarter": _label(*q),
                "pipeline_weighted": round(pipeline[q], 2),
                "pipeline_opportunities": counts[q],
                "history_forecast": predicted[i],
            }
            for i, q in enumerate(horizon)
        ],
    }


# --- sales against plan ----------------------------------------------------------------------


def period_range(period: str) -> tuple[date, date]:
    """[start, end) of "2026", "2026-Q3" or "2026-11"."""
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 1, 1), date(year + 1, 1, 1)
    if period[5] == "Q":
        quarter = int(period[6])
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return start, end
    month = int(period[5:7])
    return date(year, month, 1), date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def sales_vs_plan(session: Session, actor: Actor, period: str | None = None) -> dict:
    """Each plan in scope with the sales it covers: the person's own orders, or the orders of
    the unit's subtree for a branch plan (orders within the viewer's order scope)."""
    stmt = select(SalesPlan).where(visible(actor, "sales-plans"))
    if period:
        stmt = stmt.where(SalesPlan.period.like(f"{period}%"))
    plans = session.scalars(stmt.order_by(SalesPlan.period, SalesPlan.id)).all()
    orders_visible = visible(actor, "orders")
    people = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({p.user_id for p in plans if p.user_id}))
        )
    }
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({p.org_unit_id for p in plans if p.org_unit_id}))
        )
    }
    items = []
    for plan in plans:
        start, end = period_range(plan.period)
        stmt = select(func.coalesce(func.sum(SalesOrder.total), 0)).where(
            orders_visible, COUNTED, SalesOrder.ordered_on >= start, SalesOrder.ordered_on < end
        )
        if plan.user_id is not None:
            stmt = stmt.where(SalesOrder.owner_id == plan.user_id)
            who = {
                "kind": "salesperson",
                "user_id": plan.user_id,
                "name": people[plan.user_id].display_name or people[plan.user_id].username,
            }
        else:
            unit = units[plan.org_unit_id]
            stmt = stmt.where(SalesOrder.org_unit_id.in_(subtree_ids(unit.path)))
            who = {"kind": "branch", "org_unit_id": unit.id, "name": unit.name}
        actual = _number(session.scalar(stmt))
        target = _number(plan.target_amount)
        items.append(
            {
                "plan_id": plan.id,
                "period": plan.period,
                **who,
                "target": target,
                "actual": actual,
                "attainment": round(actual / target, 4) if target else None,
                "gap": round(target - actual, 2),
            }
        )
    return {"items": items}


# --- receivables ageing ------------------------------------------------------------------------


def receivables_ageing(session: Session, actor: Actor) -> dict:
    """Open amounts (amount − paid) by days past due, as of today on the business calendar."""
    today = business_today()
    open_amount = Receivable.amount - Receivable.paid_amount
    bucket = case(
        (Receivable.due_on >= today, "not_due"),
        (Receivable.due_on >= today - timedelta(days=30), "1_30"),
        (Receivable.due_on >= today - timedelta(days=60), "31_60"),
        (Receivable.due_on >= today - timedelta(days=90), "61_90"),
        else_="over_90",
    )
    rows = session.execute(
        select(bucket, func.count(), func.sum(open_amount))
        .where(visible(actor, "receivables"), Receivable.paid_amount < Receivable.amount)
        .group_by(bucket)
    ).all()
    found = {name: (n, _number(total)) for name, n, total in rows}
    buckets = [
        {
            "bucket": name,
            "count": found.get(name, (0, 0.0))[0],
            "open_amount": found.get(name, (0, 0.0))[1],
        }
        for name in AGEING_BUCKETS
    ]
    return {
        "as_of": today.isoformat(),
        "buckets": buckets,
        "total_open": round(sum(b["open_amount"] for b in buckets), 2),
        "overdue": round(sum(b["open_amount"] for b in buckets[1:]), 2),
    }
