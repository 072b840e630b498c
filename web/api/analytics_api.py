"""Customer value analytics over REST: /api/v1/analytics/...

Every figure is scoped to the viewer (see crm_domain.analytics.scope) and every GET also
answers as CSV with `?format=csv` (UTF-8 with a byte-order mark, so Excel shows Chinese);
`table=` picks which table of a composite answer, `summary` gives key/value rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import threading

from flask import Response, current_app, jsonify, request
from flask_smorest import Blueprint

from core.digits import MAX_ID, is_digits
from core.errors import Invalid, NotFound
from crm_domain.analytics import (
    clv_retention,
    customer_values,
    profile,
    recompute,
    sales,
    segments,
    service_figures,
    settings,
)
from crm_domain.analytics.models import AnalyticsJob
from crm_domain.analytics.scope import visible
from crm_domain.analytics.value_matrix import last_recompute_result
from web.api.records_api import current_actor
from web.auth import login_required
from web.request_session import db

blp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics", description="Analytics")
CUSTOMER_FILTERS = ("region", "industry", "grade", "lifecycle_stage", "kind", "relation")
LIST_ARGS = {"page", "per_page", "sort", "format", "table", "segment_id", "quadrant", "q"}


# --- answers: JSON or CSV ---------------------------------------------------------------------


def _flat(row: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = value
    return out


def csv_response(rows: list[dict], name: str) -> Response:
    """Rows as a CSV download (nested values flattened to dotted columns)."""
    flat = [_flat(r) for r in rows]
    columns: list[str] = []
    for row in flat:
        columns.extend(c for c in row if c not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["value"])
    writer.writeheader()
    writer.writerows(flat)
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _respond(payload: dict, name: str, table: str | None):
    """JSON, or with ?format=csv the `table` list (or key/value rows of the rest)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise Invalid("Unknown format.", details={"format": ["Use json or csv."]})
    if fmt == "json":
        return jsonify(payload)
    chosen = request.args.get("table", table or "summary")
    tables = [k for k, v in payload.items() if isinstance(v, list)]
    if chosen == "summary":
        rest = _flat({k: v for k, v in payload.items() if not isinstance(v, list)})
        return csv_response([{"key": k, "value": v} for k, v in rest.items()], name)
    if chosen not in tables:
        raise Invalid(
            "Unknown table.", details={"table": [f"Use one of: {', '.join(['summary', *tables])}."]}
        )
    return csv_response(payload[chosen], f"{name}-{chosen}")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("Not a whole number.", details={name: ["Give a whole number."]}) from None
    if not low <= value <= high:
        raise Invalid("Out of range.", details={name: [f"Use {low} to {high}."]})
    return value


def _definition_from_args(extra: set[str] = frozenset()) -> dict:
    """A segment definition from the query: segment_id, or customer filters and a quadrant."""
    unknown = [
        k
        for k in request.args
        if k not in LIST_ARGS | set(CUSTOMER_FILTERS) | extra and not k.startswith("custom.")
    ]
    if unknown:
        raise Invalid("Unknown parameters.", details={k: ["Unknown parameter."] for k in unknown})
    if "segment_id" in request.args:
        segment_id = _int_arg("segment_id", 0, 1, MAX_ID)
        return segments.get_segment(db(), current_actor(), segment_id).definition or {}
    filters = {
        k: v for k, v in request.args.items() if k in CUSTOMER_FILTERS or k.startswith("custom.")
    }
    definition = {"filters": filters}
    if request.args.get("q"):
        definition["q"] = request.args["q"]
    if request.args.get("quadrant"):
        definition["quadrant"] = request.args["quadrant"]
    return segments.check_definition(db(), current_actor(), definition)


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["The body must be a JSON object."]})
    return data


def _page() -> tuple[int, int]:
    return _int_arg("page", 1, 1, 1_000_000), _int_arg("per_page", 50, 1, 200)


# --- per-customer value --------------------------------------------------------------------


def _customer_list(name: str, columns: tuple[str, ...] | None, extra: dict | None = None):
    page, per_page = _page()
    items, total = customer_values.customer_values(
        db(),
        current_actor(),
        _definition_from_args(),
        sort=request.args.get("sort"),
        page=page,
        per_page=per_page,
    )
    if columns:
        items = [{k: item[k] for k in columns} for item in items]
    return _respond({**(extra or {}), "items": items, "total": total, "page": page}, name, "items")


@blp.route("/customers", methods=["GET"])
@login_required()
def list_customer_values():
    """Every computed figure per customer in your scope (filters, segment_id, quadrant)."""
    return _customer_list("customer-values", None)


@blp.route("/rfm", methods=["GET"])
@login_required()
def list_rfm():
    """Recency, frequency, monetary value and their quintile scores per customer."""
    columns = (
        "customer_id",
        "name",
        "grade",
        "last_order_on",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
    )
    return _customer_list("rfm", columns)


@blp.route("/clv", methods=["GET"])
@login_required()
def list_clv():
    """Lifetime value by the retention formula and by BG/NBD + Gamma-Gamma, per customer."""
    columns = (
        "customer_id",
        "name",
        "grade",
        "frequency",
        "monetary",
        "clv_retention",
        "expected_purchases",
        "probability_alive",
        "expected_order_value",
        "clv_predicted",
    )
    last = last_recompute_result(db()) if _sees_all_customers() else {}
    model = {
        "bgnbd": last.get("bgnbd"),
        "gamma_gamma": last.get("gamma_gamma"),
        "as_of": last.get("as_of"),
    }
    return _customer_list("clv", columns, {"model": model})


def _sees_all_customers() -> bool:
    """Model parameters and cluster means are fitted on every customer: shown only to those
    whose customer scope is everyone, so a narrower scope learns nothing about the rest."""
    return current_actor().rights.scope("customers", "read") == "all"


@blp.route("/clv/retention", methods=["GET"])
@login_required()
def retention_calculator():
    """The retention formula term by term, for given orders per year and order size."""
    params = settings.current_parameters(db())
    values = {}
    for name, default in (
        ("orders_per_year", params["default_annual_orders"]),
        ("order_size", params["default_order_size"]),
    ):
        raw = request.args.get(name)
        try:
            values[name] = float(raw) if raw is not None else float(default)
        except ValueError:
            raise Invalid("Not a number.", details={name: ["Give a number."]}) from None
        if values[name] < 0:
            raise Invalid("Negative.", details={name: ["Must be at least 0."]})
    explained = clv_retention.explain(values["orders_per_year"], values["order_size"], params)
    return _respond({**explained, "parameters": params}, "clv-retention", None)


@blp.route("/value-matrix", methods=["GET"])
@login_required()
def value_matrix():
    """Customers and value per quadrant (keep, develop, maintain, reduce cost)."""
    payload = customer_values.value_matrix(db(), current_actor(), _definition_from_args())
    return _respond(payload, "value-matrix", "quadrants")


@blp.route("/grades", methods=["GET"])
@login_required()
def grades():
    """Customers per grade, and the clustering of the last recompute."""
    payload = customer_values.grade_distribution(db(), current_actor())
    clustering = last_recompute_result(db()).get("clustering") if _sees_all_customers() else None
    payload["clustering"] = [clustering or {}]
    return _respond(payload, "grades", "grades")


@blp.route("/customers/<int:customer_id>/profile", methods=["GET"])
@login_required()
def customer_profile(customer_id: int):
    """The seven-angle profile report of one customer."""
    payload = profile.customer_profile(db(), current_actor(), customer_id)
    return _respond(payload, f"customer-{customer_id}-profile", None)


@blp.route("/customers/<int:customer_id>/grade-history", methods=["GET"])
@login_required()
def grade_history(customer_id: int):
    """Who or what changed the customer's grade, when, from what to what, and why."""
    items = customer_values.grade_history(db(), current_actor(), customer_id)
    return _respond({"items": items}, f"customer-{customer_id}-grades", "items")


# --- segments ----------------------------------------------------------------------------


@blp.route("/segments", methods=["GET"])
@login_required()
def list_segments():
    items = [segments.segment_dict(s) for s in segments.list_segments(db(), current_actor())]
    return _respond({"items": items}, "segments", "items")


@blp.route("/segments", methods=["POST"])
@login_required()
def create_segment():
    """Save a customer filter: {name, description?, definition: {q, filters, ranges, quadrant}}."""
    segment = segments.create_segment(db(), current_actor(), _body())
    return jsonify(segments.segment_dict(segment)), 201


@blp.route("/segments/<int:segment_id>", methods=["GET"])
@login_required()
def get_segment(segment_id: int):
    return jsonify(segments.segment_dict(segments.get_segment(db(), current_actor(), segment_id)))


@blp.route("/segments/<int:segment_id>", methods=["PATCH"])
@login_required()
def update_segment(segment_id: int):
    segment = segments.update_segment(db(), current_actor(), segment_id, _body())
    return jsonify(segments.segment_dict(segment))


@blp.route("/segments/<int:segment_id>", methods=["DELETE"])
@login_required()
def delete_segment(segment_id: int):
    segments.delete_segment(db(), current_actor(), segment_id)
    return "", 204


@blp.route("/segments/<int:segment_id>/customers", methods=["GET"])
@login_required()
def segment_customers(segment_id: int):
    """The customers the segment picks now, with their value figures."""
    page, per_page = _page()
    definition = segments.get_segment(db(), current_actor(), segment_id).definition or {}
    items, total = customer_values.customer_values(
        db(),
        current_actor(),
        definition,
        sort=request.args.get("sort"),
        page=page,
        per_page=per_page,
    )
    return _respond({"items": items, "total": total, "page": page}, "segment-customers", "items")


@blp.route("/segments/<int:segment_id>/comparison", methods=["GET"])
@login_required()
def segment_comparison(segment_id: int):
    """The segment's averages on the seven angles and its customers side by side."""
    page, per_page = _page()
    definition = segments.get_segment(db(), current_actor(), segment_id).definition or {}
    payload = profile.segment_comparison(
        db(),
        current_actor(),
        definition,
        sort=request.args.get("sort"),
        page=page,
        per_page=per_page,
    )
    return _respond(payload, f"segment-{segment_id}-comparison", "items")


# --- sales and service ----------------------------------------------------------------------


@blp.route("/sales/funnel", methods=["GET"])
@login_required()
def sales_funnel():
    """Opportunities by stage with conversion rates, win rate and cycle length."""
    return _respond(sales.funnel(db(), current_actor()), "sales-funnel", "stages")


@blp.route("/sales/forecast", methods=["GET"])
@login_required()
def sales_forecast():
    """Next quarters: weighted pipeline and a seasonal forecast from order history."""
    quarters = _int_arg("quarters", 4, 1, 12)
    return _respond(sales.forecast(db(), current_actor(), quarters), "sales-forecast", "quarters")


@blp.route("/sales/plan", methods=["GET"])
@login_required()
def sales_vs_plan():
    """Sales against plan by salesperson and branch (`period=2026`, `2026-Q3`, `2026-11`)."""
    period = request.args.get("period")
    if period is not None and not (len(period) in (4, 7) and is_digits(period[:4])):
        raise Invalid("Not a period.", details={"period": ["Use 2026, 2026-Q4 or 2026-11."]})
    return _respond(sales.sales_vs_plan(db(), current_actor(), period), "sales-plan", "items")


@blp.route("/sales/receivables-ageing", methods=["GET"])
@login_required()
def receivables_ageing():
    """Open receivables by days past due."""
    payload = sales.receivables_ageing(db(), current_actor())
    return _respond(payload, "receivables-ageing", "buckets")


@blp.route("/service", methods=["GET"])
@login_required()
def service():
    """Service volumes, SLA attainment, top defects by product, satisfaction."""
    top = _int_arg("top", 10, 1, 100)
    payload = service_figures.service_figures(db(), current_actor(), top)
    return _respond(payload, "service", "by_month")


# --- parameters and recompute ----------------------------------------------------------------


@blp.route("/settings", methods=["GET"])
@login_required()
def get_settings():
    """The lifetime-value parameters and value-matrix thresholds."""
    visible(current_actor(), "customers")  # 403 for those who may not read customers
    return _respond({"items": settings.describe_parameters(db())}, "analytics-settings", "items")


@blp.route("/settings", methods=["PATCH"])
@login_required()
def change_settings():
    """Change parameters (admins: grant manage_settings); null restores the default."""
    settings.change_parameters(db(), current_actor(), _body())
    return jsonify({"items": settings.describe_parameters(db())})


def _job_dict(job: AnalyticsJob) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "requested_by_id": job.requested_by_id,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
        "error": job.error.splitlines()[0] if job.error else None,
    }


@blp.route("/recompute", methods=["POST"])
@login_required()
def start_recompute():
    """Queue a recompute (grant manage_settings) and run it now in the background; poll
    `GET /analytics/jobs/{id}`. `{"wait": true}` runs it within the request instead."""
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict) or not isinstance(data.get("wait", False), bool):
        raise Invalid("Not valid.", details={"wait": ["Give true or false."]})
    session = db()
    job_id = recompute.request_recompute(session, current_actor()).id
    session.commit()  # visible to pollers, and (SQLite) the write lock is free for the job
    factory = current_app.extensions["weft"].session_factory
    if data.get("wait"):
        with contextlib.suppress(Exception):  # recorded on the job row, which the answer shows
            recompute.run_job(factory, job_id)
        session.expire_all()
        job = session.get(AnalyticsJob, job_id)
        return jsonify(_job_dict(job)), 200
    threading.Thread(
        target=recompute.run_job, args=(factory, job_id), daemon=True, name=f"analytics-{job_id}"
    ).start()
    return jsonify(_job_dict(session.get(AnalyticsJob, job_id))), 202


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@login_required()
def get_job(job_id: int):
    """A recompute job's status and progress (0..100)."""
    visible(current_actor(), "customers")
    job = db().get(AnalyticsJob, job_id)
    if job is None:
        raise NotFound(f"There is no analytics job {job_id}.")
    return jsonify(_job_dict(job))
