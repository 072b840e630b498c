"""The dashboard's figures: for each, the scoped service call that computes it (the same one the
REST API makes), the rows of its CSV download (the same table the API's ?format=csv gives),
its Chart.js configuration and the columns of its accessible data table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from crm_domain.access import Actor
from crm_domain.analytics import customer_values, distributions, sales, service_figures
from web.ui.i18n import localized

# A scatter of more customers than this is unreadable and slow to draw; the largest (by current
# value) are plotted, the quadrant counts in the table and CSV still cover everyone in scope.
SCATTER_POINTS = 200
PALETTE = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9aa7b5", "#d62728", "#9467bd", "#8c564b")
QUADRANT_COLOURS = {
    "keep": "#2ca02c",
    "develop": "#1f77b4",
    "maintain": "#ff7f0e",
    "reduce_cost": "#9aa7b5",
}
STAGE_LABELS = {
    "prospecting": _l("Prospecting"),
    "qualification": _l("Qualification"),
    "proposal": _l("Proposal"),
    "negotiation": _l("Negotiation"),
    "won": _l("Won"),
    "lost": _l("Lost"),
}
BUCKET_LABELS = {
    "not_due": _l("Not yet due"),
    "1_30": _l("1–30 days overdue"),
    "31_60": _l("31–60 days overdue"),
    "61_90": _l("61–90 days overdue"),
    "over_90": _l("Over 90 days overdue"),
}


@dataclass(frozen=True)
class Figure:
    key: str
    section: str  # customers | sales | service
    title: object  # a lazy string
    compute: Callable[[Session, Actor], dict]
    rows: Callable[[dict], list[dict]]  # the CSV rows: the same table as the API's CSV
    chart: Callable[[dict], dict]  # Chart.js configuration
    columns: tuple[tuple[str, object], ...]  # (row key, header) of the data table
    api: str  # the REST path with the same figures, for the docs and the tests


def _bar(labels, datasets, *, horizontal=False, stacked=False, counts=False) -> dict:
    scale = {"beginAtZero": True, "stacked": stacked}
    if counts:  # whole numbers of customers or requests: no 0.5 ticks
        scale["ticks"] = {"precision": 0}
    options = {
        "indexAxis": "y" if horizontal else "x",
        "scales": {"x": {"stacked": stacked}, "y": scale}
        if not horizontal
        else {"x": scale, "y": {"stacked": stacked}},
    }
    return {"type": "bar", "data": {"labels": labels, "datasets": datasets}, "options": options}


def _set(label, data, colour, **extra) -> dict:
    return {"label": str(label), "data": data, "backgroundColor": colour, **extra}


# --- customers ----------------------------------------------------------------------------------


def _value_matrix(session: Session, actor: Actor) -> dict:
    matrix = customer_values.value_matrix(session, actor)
    points, _total = customer_values.customer_values(
        session, actor, {}, sort="-current_value", per_page=SCATTER_POINTS
    )
    return {**matrix, "points": points}


def _value_matrix_chart(payload: dict) -> dict:
    datasets = []
    for q in payload["quadrants"]:
        mine = [p for p in payload["points"] if p["quadrant"] == q["quadrant"]]
        datasets.append(
            _set(
                localized(q["label"]),
                [
                    {
                        "x": p["current_value"] or 0,
                        "y": p["potential_value"] or 0,
                        "name": p["name"],
                    }
                    for p in mine
                ],
                QUADRANT_COLOURS[q["quadrant"]],
                pointRadius=5,
            )
        )
    limits = payload["thresholds"]
    return {
        "type": "scatter",
        "data": {"datasets": datasets},
        "options": {
            "scales": {
                "x": {"title": {"display": True, "text": _("Current value (12-month margin)")}},
                "y": {"title": {"display": True, "text": _("Potential value")}},
            },
            "plugins": {
                "quadrantLines": {
                    "x": limits["current_value"],
                    "y": limits["potential_value"],
                }
            },
        },
    }


def _quadrant_rows(payload: dict) -> list[dict]:
    return payload["quadrants"]


def _rfm_chart(payload: dict) -> dict:
    scores = payload["scores"]
    return _bar(
        [_("Score %(score)s", score=s["score"]) for s in scores],
        [
            _set(_("Recency"), [s["recency"] for s in scores], PALETTE[0]),
            _set(_("Frequency"), [s["frequency"] for s in scores], PALETTE[1]),
            _set(_("Monetary"), [s["monetary"] for s in scores], PALETTE[2]),
        ],
        counts=True,
    )


def _grades_chart(payload: dict) -> dict:
    grades = payload["grades"]
    return _bar(
        [g["grade"] or _("No grade") for g in grades],
        [_set(_("Customers"), [g["customers"] for g in grades], PALETTE[0])],
        counts=True,
    )


def _grade_history_chart(payload: dict) -> dict:
    months = sorted({m["month"] for m in payload["months"]})
    grades = sorted({m["grade"] for m in payload["months"]})
    found = {(m["month"], m["grade"]): m["changes"] for m in payload["months"]}
    return _bar(
        months,
        [
            _set(
                _("To grade %(grade)s", grade=g),
                [found.get((m, g), 0) for m in months],
                PALETTE[i % len(PALETTE)],
            )
            for i, g in enumerate(grades)
        ],
        stacked=True,
        counts=True,
    )


# --- sales --------------------------------------------------------------------------------------


def _stage_rows(payload: dict) -> list[dict]:
    return payload["stages"]


def _funnel_chart(payload: dict) -> dict:
    stages = payload["stages"]
    return _bar(
        [str(STAGE_LABELS.get(s["stage"], s["stage"])) for s in stages],
        [
            _set(
                _("Opportunities that reached the stage"),
                [s["reached"] for s in stages],
                PALETTE[0],
            )
        ],
        horizontal=True,
        counts=True,
    )


def _forecast_chart(payload: dict) -> dict:
    history = payload["history"][-8:]
    future = payload["quarters"]
    labels = [h["quarter"] for h in history] + [q["quarter"] for q in future]
    gap = [None] * len(history)
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                _set(_("Sales"), [h["sales"] for h in history] + [None] * len(future), PALETTE[0]),
                _set(
                    _("Seasonal forecast"),
                    gap + [q["history_forecast"] for q in future],
                    PALETTE[1],
                ),
                _set(
                    _("Weighted pipeline"),
                    gap + [q["pipeline_weighted"] for q in future],
                    PALETTE[2],
                ),
            ],
        },
        "options": {"scales": {"y": {"beginAtZero": True}}},
    }


def _plan_chart(payload: dict) -> dict:
    items = payload["items"]
    return _bar(
        [f"{i['name']} {i['period']}" for i in items],
        [
            _set(_("Plan"), [i["target"] for i in items], PALETTE[3]),
            _set(_("Actual"), [i["actual"] for i in items], PALETTE[0]),
        ],
    )


def _ageing_chart(payload: dict) -> dict:
    buckets = payload["buckets"]
    return _bar(
        [str(BUCKET_LABELS[b["bucket"]]) for b in buckets],
        [_set(_("Open amount"), [b["open_amount"] for b in buckets], PALETTE[4])],
    )


# --- service ------------------------------------------------------------------------------------


def _volume_chart(payload: dict) -> dict:
    months = payload["by_month"]
    return _bar(
        [m["month"] for m in months],
        [_set(_("Service requests"), [m["count"] for m in months], PALETTE[0])],
        counts=True,
    )


def _sla_rows(payload: dict) -> list[dict]:
    return [payload["sla"]]


def _sla_chart(payload: dict) -> dict:
    sla = payload["sla"]
    late = sla["resolved"] - sla["resolved_in_time"]
    return {
        "type": "doughnut",
        "data": {
            "labels": [_("Resolved in time"), _("Resolved late"), _("Open and past the SLA")],
            "datasets": [
                {
                    "data": [sla["resolved_in_time"], late, sla["open_breached"]],
                    "backgroundColor": [PALETTE[1], PALETTE[2], PALETTE[4]],
                }
            ],
        },
        "options": {},
    }


def _defect_chart(payload: dict) -> dict:
    top = payload["top_defects"]
    return _bar(
        [f"{d['sku']} {d['name']}" for d in top],
        [_set(_("Defects"), [d["defects"] for d in top], PALETTE[4])],
        horizontal=True,
        counts=True,
    )


def _satisfaction_rows(payload: dict) -> list[dict]:
    found = payload["satisfaction"]["distribution"]
    return [{"rating": r, "requests": found.get(str(r), 0)} for r in range(1, 6)]


def _satisfaction_chart(payload: dict) -> dict:
    rows = _satisfaction_rows(payload)
    return _bar(
        ["★" * r["rating"] for r in rows],
        [_set(_("Requests"), [r["requests"] for r in rows], PALETTE[5])],
        counts=True,
    )


FIGURES: dict[str, Figure] = {
    f.key: f
    for f in (
        Figure(
            "value-matrix",
            "customers",
            _l("Value matrix"),
            _value_matrix,
            _quadrant_rows,
            _value_matrix_chart,
            (
                ("label", _l("Quadrant")),
                ("strategy", _l("Strategy")),
                ("customers", _l("Customers")),
                ("current_value", _l("Current value")),
                ("potential_value", _l("Potential value")),
            ),
            "/api/v1/analytics/value-matrix",
        ),
        Figure(
            "rfm",
            "customers",
            _l("RFM distribution"),
            distributions.rfm_distribution,
            lambda p: p["scores"],
            _rfm_chart,
            (
                ("score", _l("Score")),
                ("recency", _l("Recency")),
                ("frequency", _l("Frequency")),
                ("monetary", _l("Monetary")),
            ),
            "",
        ),
        Figure(
            "grades",
            "customers",
            _l("Customers by grade"),
            customer_values.grade_distribution,
            lambda p: p["grades"],
            _grades_chart,
            (("grade", _l("Grade")), ("customers", _l("Customers"))),
            "/api/v1/analytics/grades",
        ),
        Figure(
            "grade-history",
            "customers",
            _l("Grade changes by month"),
            distributions.grade_changes_by_month,
            lambda p: p["months"],
            _grade_history_chart,
            (("month", _l("Month")), ("grade", _l("New grade")), ("changes", _l("Changes"))),
            "",
        ),
        Figure(
            "funnel",
            "sales",
            _l("Sales funnel"),
            sales.funnel,
            _stage_rows,
            _funnel_chart,
            (
                ("stage", _l("Stage")),
                ("count", _l("Opportunities now")),
                ("reached", _l("Reached")),
                ("conversion_to_next", _l("Conversion to next stage")),
                ("amount", _l("Amount")),
            ),
            "/api/v1/analytics/sales/funnel",
        ),
        Figure(
            "forecast",
            "sales",
            _l("Sales forecast"),
            lambda s, a: sales.forecast(s, a, 4),
            lambda p: p["quarters"],
            _forecast_chart,
            (
                ("quarter", _l("Quarter")),
                ("history_forecast", _l("Seasonal forecast")),
                ("pipeline_weighted", _l("Weighted pipeline")),
                ("pipeline_opportunities", _l("Open opportunities")),
            ),
            "/api/v1/analytics/sales/forecast",
        ),
        Figure(
            "plan",
            "sales",
            _l("Sales vs plan"),
            lambda s, a: sales.sales_vs_plan(s, a, None),
            lambda p: p["items"],
            _plan_chart,
            (
                ("period", _l("Period")),
                ("name", _l("Salesperson or branch")),
                ("target", _l("Plan")),
                ("actual", _l("Actual")),
                ("attainment", _l("Attainment")),
            ),
            "/api/v1/analytics/sales/plan",
        ),
        Figure(
            "ageing",
            "sales",
            _l("Receivables ageing"),
            sales.receivables_ageing,
            lambda p: p["buckets"],
            _ageing_chart,
            (
                ("bucket", _l("Days past due")),
                ("count", _l("Receivables")),
                ("open_amount", _l("Open amount")),
            ),
            "/api/v1/analytics/sales/receivables-ageing",
        ),
        Figure(
            "service",
            "service",
            _l("Service requests by month"),
            service_figures.service_figures,
            lambda p: p["by_month"],
            _volume_chart,
            (("month", _l("Month")), ("count", _l("Service requests"))),
            "/api/v1/analytics/service",
        ),
        Figure(
            "sla",
            "service",
            _l("SLA attainment"),
            service_figures.service_figures,
            _sla_rows,
            _sla_chart,
            (
                ("resolved", _l("Resolved")),
                ("resolved_in_time", _l("Resolved in time")),
                ("attainment", _l("Attainment")),
                ("open_breached", _l("Open and past the SLA")),
            ),
            "/api/v1/analytics/service?table=summary",
        ),
        Figure(
            "defects",
            "service",
            _l("Top defects by product"),
            service_figures.service_figures,
            lambda p: p["top_defects"],
            _defect_chart,
            (("sku", _l("SKU")), ("name", _l("Product")), ("defects", _l("Defects"))),
            "/api/v1/analytics/service?table=top_defects",
        ),
        Figure(
            "satisfaction",
            "service",
            _l("Satisfaction"),
            service_figures.service_figures,
            _satisfaction_rows,
            _satisfaction_chart,
            (("rating", _l("Rating")), ("requests", _l("Requests"))),
            "",
        ),
    )
}

SECTIONS = (
    ("customers", _l("Customers")),
    ("sales", _l("Sales")),
    ("service", _l("Service")),
)


def cell(key: str, value):
    """A data-table cell: codes shown by their label, rates as per cent."""
    if key == "stage":
        return STAGE_LABELS.get(value, value)
    if key == "bucket":
        return BUCKET_LABELS.get(value, value)
    if key in ("attainment", "conversion_to_next") and value is not None:
        return f"{value * 100:.1f}%"
    if isinstance(value, dict):
        return localized(value)
    return value
