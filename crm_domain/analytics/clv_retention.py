"""Lifetime value by the retention (contractual) formula, from the parameters in settings.

    margin per year   m = orders_per_year × order_size × (1 − product_cost%)
                          − service_cost − marketing_cost
    retained years    L = r / (1 + d − r)         (present value of 1 a year while retained)
    base value          = m × L
    referral value      = referral_rate × L × referral_credit × m × L
    CLV                 = base value + referral value − acquisition_cost

r is the annual retention rate, d the discount rate. A retained customer brings
`referral_rate` new customers a year; each is worth its own base value (no acquisition cost:
they came by referral), of which `referral_credit` is credited to the referrer (0 switches the
term off). A customer's orders per year and order size come from their history (orders over
their tenure, at least one year); customers without orders use the default parameters.
"""

from __future__ import annotations

import numpy as np


def retained_years(retention_rate: float, discount_rate: float) -> float:
    return retention_rate / (1 + discount_rate - retention_rate)


def retention_clv(orders_per_year, order_size, params: dict) -> np.ndarray:
    orders_per_year = np.asarray(orders_per_year, dtype=float)
    order_size = np.asarray(order_size, dtype=float)
    margin_rate = 1 - params["product_cost_percent"] / 100
    margin = (
        orders_per_year * order_size * margin_rate
        - params["service_cost"]
        - params["marketing_cost"]
    )
    years = retained_years(params["retention_rate"], params["discount_rate"])
    base = margin * years
    referral = params["referral_rate"] * years * params["referral_credit"] * base
    return base + referral - params["acquisition_cost"]


def explain(orders_per_year: float, order_size: float, params: dict) -> dict:
    """Every term of the formula for one set of inputs (the calculator endpoint shows it)."""
    margin_rate = 1 - params["product_cost_percent"] / 100
    margin = (
        orders_per_year * order_size * margin_rate
        - params["service_cost"]
        - params["marketing_cost"]
    )
    years = retained_years(params["retention_rate"], params["discount_rate"])
    base = margin * years
    referral = params["referral_rate"] * years * params["referral_credit"] * base
    return {
        "orders_per_year": orders_per_year,
        "order_size": order_size,
        "margin_per_year": round(margin, 2),
        "retained_years": round(years, 6),
        "base_value": round(base, 2),
        "referral_value": round(referral, 2),
        "acquisition_cost": params["acquisition_cost"],
        "clv": round(base + referral - params["acquisition_cost"], 2),
    }
