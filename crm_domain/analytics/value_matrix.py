"""The customer value matrix: current value against potential value, four quadrants.

Current value is the margin of the trailing 12 months (order totals × (1 − product cost %)).
Potential value is what the BG/NBD + Gamma-Gamma model predicts the customer will still bring
(discounted margin over the horizon) beyond one more year at the current value, floored at 0.
The thresholds are the admin's settings, or — left empty — the medians over the customers who
bought, as of the last recompute. The quadrant is worked out on every read in SQL, so a new
threshold shows on the next request without a recompute.
"""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from crm_domain.analytics.models import AnalyticsJob, CustomerMetrics
from crm_domain.analytics.settings import current_parameters

QUADRANTS = {
    "keep": {
        "zh": "重点保持",
        "en": "Keep",
        "strategy": {
            "zh": "高当前价值、高潜在价值：专人维护，优先资源，防止流失。",
            "en": "High current and high potential value: dedicated care, first call on resources.",
        },
    },
    "develop": {
        "zh": "重点发展",
        "en": "Develop",
        "strategy": {
            "zh": "当前价值低、潜在价值高：交叉销售、提高份额。",
            "en": "Low current, high potential value: cross-sell and grow the share of wallet.",
        },
    },
    "maintain": {
        "zh": "维持",
        "en": "Maintain",
        "strategy": {
            "zh": "当前价值高、潜在价值低：保持服务水平，控制投入。",
            "en": "High current, low potential value: keep the service level, cap the effort.",
        },
    },
    "reduce_cost": {
        "zh": "降低成本",
        "en": "Reduce cost",
        "strategy": {
            "zh": "当前价值、潜在价值都低：低成本渠道服务。",
            "en": "Low current and low potential value: serve through low-cost channels.",
        },
    },
}


def thresholds(session: Session) -> dict[str, float]:
    params = current_parameters(session)
    medians = last_recompute_result(session)
    current = params["current_value_threshold"]
    potential = params["potential_value_threshold"]
    return {
        "current_value": float(
            current if current is not None else medians.get("median_current_value", 0.0)
        ),
        "potential_value": float(
            potential if potential is not None else medians.get("median_potential_value", 0.0)
        ),
        "current_from": "setting" if current is not None else "median",
        "potential_from": "setting" if potential is not None else "median",
    }


def last_recompute_result(session: Session) -> dict:
    job = session.scalars(
        select(AnalyticsJob)
        .where(AnalyticsJob.status == "succeeded")
        .order_by(AnalyticsJob.finished_at.desc(), AnalyticsJob.id.desc())
        .limit(1)
    ).first()
    return dict(job.result or {}) if job else {}


def quadrant_expression(limits: dict[str, float]):
    """SQL CASE naming the quadrant of a customer_metrics row (NULL: never bought)."""
    high_current = CustomerMetrics.current_value >= limits["current_value"]
    high_potential = CustomerMetrics.potential_value >= limits["potential_value"]
    return case(
        (CustomerMetrics.frequency == 0, None),
        (high_current & high_potential, "keep"),
        (high_potential, "develop"),
        (high_current, "maintain"),
        else_="reduce_cost",
    )


def quadrant_of(current: float, potential: float, limits: dict[str, float]) -> str:
    high_current = current >= limits["current_value"]
    high_potential = potential >= limits["potential_value"]
    if high_current and high_potential:
        return "keep"
    if high_potential:
        return "develop"
    return "maintain" if high_current else "reduce_cost"
