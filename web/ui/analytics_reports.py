"""Analytics reports in the browser: one customer's seven-angle profile and the comparison of a
saved segment, from the same scoped service calls as /api/v1/analytics/..., with CSV downloads."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core.digits import is_digits
from core.errors import Invalid
from crm_domain.access import actor_for
from crm_domain.analytics import customer_values, profile, segments
from crm_domain.analytics.value_matrix import QUADRANTS
from web.api.analytics_api import csv_response
from web.request_session import db
from web.ui.record_columns import code_label
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_analytics_reports", __name__, url_prefix="/analytics")

# The seven angles of the profile report, each with the figures it shows, in order.
ANGLES = (
    ("profile", _l("Profile"), ("industry", "region", "size", "grade", "credit_rating",
                                 "lifecycle_stage", "cooperation_since")),
    ("loyalty", _l("Loyalty"), ("first_order_on", "last_order_on", "tenure_years", "orders",
                                 "active_years", "persistency", "mean_days_between_orders",
                                 "probability_alive")),
    ("profitability", _l("Profitability"), ("sales", "margin", "margin_12m", "open_receivables",
                                             "overdue_receivables", "clv_retention")),
    ("performance", _l("Performance"), ("sales_12m", "sales_prior_12m", "growth",
                                         "average_order", "orders_per_year", "rfm_score")),
    ("prospects", _l("Prospects"), ("open_opportunities", "pipeline_amount", "pipeline_weighted",
                                     "expected_purchases_12m", "clv_predicted", "potential_value",
                                     "quadrant")),
)  # fmt: skip
LABELS = {
    "industry": _l("Industry"),
    "region": _l("Region"),
    "size": _l("Size"),
    "grade": _l("Grade"),
    "credit_rating": _l("Credit rating"),
    "lifecycle_stage": _l("Lifecycle stage"),
    "cooperation_since": _l("Customer since"),
    "first_order_on": _l("First order"),
    "last_order_on": _l("Last order"),
    "tenure_years": _l("Years as a buyer"),
    "orders": _l("Orders"),
    "active_years": _l("Years with orders"),
    "persistency": _l("Persistency"),
    "mean_days_between_orders": _l("Days between orders"),
    "probability_alive": _l("Probability still active"),
    "sales": _l("Sales"),
    "margin": _l("Margin"),
    "margin_12m": _l("Margin, last 12 months"),
    "open_receivables": _l("Open receivables"),
    "overdue_receivables": _l("Overdue receivables"),
    "clv_retention": _l("Lifetime value (retention formula)"),
    "sales_12m": _l("Sales, last 12 months"),
    "sales_prior_12m": _l("Sales, 12 months before"),
    "growth": _l("Growth"),
    "average_order": _l("Average order"),
    "orders_per_year": _l("Orders per year"),
    "rfm_score": _l("RFM score"),
    "open_opportunities": _l("Open opportunities"),
    "pipeline_amount": _l("Pipeline"),
    "pipeline_weighted": _l("Weighted pipeline"),
    "expected_purchases_12m": _l("Expected purchases"),
    "clv_predicted": _l("Lifetime value (BG/NBD)"),
    "potential_value": _l("Potential value"),
    "quadrant": _l("Value quadrant"),
    "customers": _l("Customers"),
    "buyers": _l("Buyers"),
    "repeat_rate": _l("Repeat buyers"),
    "average_recency_days": _l("Average days since last order"),
    "average_orders": _l("Average orders"),
    "average_sales": _l("Average sales"),
    "average_current_value": _l("Average current value"),
    "average_clv_retention": _l("Average lifetime value (retention)"),
    "average_clv_predicted": _l("Average lifetime value (BG/NBD)"),
    "average_probability_alive": _l("Average probability still active"),
    "average_products": _l("Average product value"),
    "average_satisfaction": _l("Average satisfaction"),
}
MONEY = {
    "monetary", "current_value", "sales", "margin", "margin_12m", "open_receivables",
    "overdue_receivables", "clv_retention",
    "sales_12m", "sales_prior_12m", "average_order", "pipeline_amount", "pipeline_weighted",
    "clv_predicted", "potential_value", "average_sales", "average_current_value",
    "average_clv_retention", "average_clv_predicted",
}  # fmt: skip
PERCENT = {"persistency", "probability_alive", "growth", "repeat_rate", "average_probability_alive"}
CODED = ("kind", "relation", "size", "credit_rating", "lifecycle_stage")
SEGMENT_COLUMNS = (
    ("name", _l("Customer")),
    ("grade", _l("Grade")),
    ("frequency", _l("Orders")),
    ("monetary", _l("Sales")),
    ("current_value", _l("Current value")),
    ("clv_predicted", _l("Lifetime value (BG/NBD)")),
    ("potential_value", _l("Potential value")),
    ("quadrant", _l("Value quadrant")),
)


def _named_quadrant(row: dict) -> dict:
    """The row with its quadrant code replaced by the bilingual quadrant name."""
    code = row.get("quadrant")
    return {**row, "quadrant": QUADRANTS.get(code, code)}


def _coded(angle: dict) -> dict:
    """The profile's code fields (kind, stage, ...) in the reader's language."""
    return {
        key: code_label(key, value) if key in CODED and value is not None else value
        for key, value in angle.items()
    }


def _moment(value):
    """An ISO timestamp from a service answer as a datetime, for the |when filter."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _actor():
    return actor_for(db(), signed_in_user())


def _flat_rows(report: dict) -> list[dict]:
    """The profile as angle/key/value rows, for the CSV download."""
    rows = []
    for angle, _title, keys in ANGLES:
        rows.extend({"angle": angle, "key": k, "value": report[angle].get(k)} for k in keys)
    rows.append({"angle": "service", "key": "requests", "value": report["service"]["requests"]})
    rows.append(
        {
            "angle": "service",
            "key": "average_satisfaction",
            "value": report["service"]["average_satisfaction"],
        }
    )
    return rows


@bp.get("/customers/<int:customer_id>")
@login_required
def customer_report(customer_id: int):
    actor = _actor()
    report = profile.customer_profile(db(), actor, customer_id)
    history = customer_values.grade_history(db(), actor, customer_id)
    report = {
        **report,
        "prospects": _named_quadrant(report["prospects"]),
        "computed_at": _moment(report["computed_at"]),
        "profile": _coded(report["profile"]),
    }
    history = [{**h, "changed_at": _moment(h["changed_at"])} for h in history]
    return render_template(
        "ui/analytics_profile.html",
        report=report,
        history=history,
        angles=ANGLES,
        labels=LABELS,
        money_keys=MONEY,
        percent_keys=PERCENT,
    )


@bp.get("/customers/<int:customer_id>.csv")
@login_required
def customer_report_csv(customer_id: int):
    report = profile.customer_profile(db(), _actor(), customer_id)
    return csv_response(_flat_rows(report), f"customer-{customer_id}-profile")


def _comparison(segment) -> dict:
    """The segment's comparison; Invalid when a field it filters on was archived since."""
    return profile.segment_comparison(
        db(), _actor(), segment.definition or {}, per_page=_per_page()
    )


def _per_page() -> int:
    return 200 if request.path.endswith(".csv") else 50


@bp.get("/segments")
@login_required
def segments_page():
    saved = segments.list_segments(db(), _actor())
    raw = request.args.get("segment_id", "")
    segment = payload = None
    error = None
    if raw:
        if not is_digits(raw):
            error = _l("Choose a saved segment.")
        else:
            segment = segments.get_segment(db(), _actor(), int(raw))
            try:
                payload = _comparison(segment)
            except Invalid:  # a field it filters on was archived since it was saved
                error = _l("This segment no longer works; save it again with valid fields.")
            else:
                payload["items"] = [_named_quadrant(item) for item in payload["items"]]
    return render_template(
        "ui/analytics_segments.html",
        saved=saved,
        segment=segment,
        payload=payload,
        error=error,
        labels=LABELS,
        money_keys=MONEY,
        percent_keys=PERCENT,
        columns=SEGMENT_COLUMNS,
    )


@bp.get("/segments/<int:segment_id>.csv")
@login_required
def segment_csv(segment_id: int):
    payload = _comparison(segments.get_segment(db(), _actor(), segment_id))
    return csv_response(payload["items"], f"segment-{segment_id}-comparison")
