"""The analytics parameters: lifetime-value inputs and value-matrix thresholds, as rows.

Defaults apply until an admin (grant `manage_settings`) changes a row; each request reads the
rows afresh, so a change is in effect on the next request without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.errors import Invalid
from crm_domain.access import Actor
from crm_domain.analytics.models import AnalyticsSetting


@dataclass(frozen=True)
class Parameter:
    default: float | None
    minimum: float | None
    maximum: float | None
    label: dict


PARAMETERS: dict[str, Parameter] = {
    "retention_rate": Parameter(0.8, 0, 0.99, {"zh": "年保留率", "en": "Annual retention rate"}),
    "discount_rate": Parameter(0.08, 0, 1, {"zh": "贴现率", "en": "Annual discount rate"}),
    "referral_rate": Parameter(
        0.05, 0, 5, {"zh": "推荐率(每年推荐新客户数)", "en": "Referrals per retained year"}
    ),
    "referral_credit": Parameter(
        0.5, 0, 1, {"zh": "推荐价值计入比例", "en": "Share of a referral's value credited"}
    ),
    "acquisition_cost": Parameter(5000, 0, None, {"zh": "获客成本", "en": "Acquisition cost"}),
    "marketing_cost": Parameter(
        1000, 0, None, {"zh": "每年营销成本", "en": "Marketing cost per year"}
    ),
    "service_cost": Parameter(500, 0, None, {"zh": "每年服务成本", "en": "Service cost per year"}),
    "product_cost_percent": Parameter(
        75, 0, 100, {"zh": "产品成本占销售额%", "en": "Product cost, % of sales"}
    ),
    # Used for customers without order history (prospects) in the retention formula.
    "default_annual_orders": Parameter(
        4, 0, None, {"zh": "默认年均订单数", "en": "Default average annual orders"}
    ),
    "default_order_size": Parameter(
        50000, 0, None, {"zh": "默认平均订单金额", "en": "Default average order size"}
    ),
    "horizon_years": Parameter(3, 1, 10, {"zh": "预测期(年)", "en": "Prediction horizon (years)"}),
    # Value matrix: empty means "the median of the customers who bought".
    "current_value_threshold": Parameter(
        None, 0, None, {"zh": "当前价值分界", "en": "Current value threshold"}
    ),
    "potential_value_threshold": Parameter(
        None, 0, None, {"zh": "潜在价值分界", "en": "Potential value threshold"}
    ),
}


def current_parameters(session: Session) -> dict[str, float | None]:
    values = {key: p.default for key, p in PARAMETERS.items()}
    for row in session.scalars(select(AnalyticsSetting)):
        if row.key in values:
            values[row.key] = row.value
    return values


def describe_parameters(session: Session) -> list[dict]:
    values = current_parameters(session)
    return [
        {
            "key": key,
            "value": values[key],
            "default": p.default,
            "minimum": p.minimum,
            "maximum": p.maximum,
            "label": p.label,
        }
        for key, p in PARAMETERS.items()
    ]


def change_parameters(session: Session, actor: Actor, changes: dict) -> dict[str, float | None]:
    """Set some parameters (None restores the default); all valid or none changed."""
    actor.require_grant("manage_settings", "Changing analytics parameters")
    if not isinstance(changes, dict) or not changes:
        raise Invalid("Send the parameters to change.", details={"": ["Send a JSON object."]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, float | None] = {}
    for key, raw in changes.items():
        parameter = PARAMETERS.get(key)
        if parameter is None:
            errors[key] = ["Unknown parameter."]
            continue
        if raw is None:
            clean[key] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            errors[key] = ["Give a number."]
            continue
        value = float(raw)
        if parameter.minimum is not None and value < parameter.minimum:
            errors[key] = [f"Must be at least {parameter.minimum:g}."]
        elif parameter.maximum is not None and value > parameter.maximum:
            errors[key] = [f"Must be at most {parameter.maximum:g}."]
        else:
            clean[key] = value
    if errors:
        raise Invalid("Some parameters are not valid.", details=errors)
    for key, value in clean.items():
        row = session.get(AnalyticsSetting, key)
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = AnalyticsSetting(key=key)
            session.add(row)
        row.value, row.updated_at, row.updated_by_id = value, clock.now(), actor.id
    session.flush()
    return current_parameters(session)
