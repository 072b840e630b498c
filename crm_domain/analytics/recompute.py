"""Recompute every customer's figures in bulk: RFM, both lifetime values, the value-matrix
inputs and grades by clustering, as a job row with status and progress.

Bulk SQL aggregation (one GROUP BY per source table) and numpy, never per-customer ORM loads.
Phases: read (one short transaction), compute (no transaction; progress rows are committed in
between so pollers see them), write (one transaction that replaces `customer_metrics`, records
grade changes and updates customers' grades, and marks the job done — all or nothing).
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.clock import business_today
from core.db import unit_of_work
from crm_domain.access import Actor
from crm_domain.analytics import bgnbd, grading, rfm
from crm_domain.analytics.clv_retention import retention_clv
from crm_domain.analytics.models import AnalyticsJob, CustomerMetrics, GradeChange
from crm_domain.analytics.settings import current_parameters
from crm_domain.customers import Customer
from crm_domain.orders import OrderLine, Payment, SalesOrder
from crm_domain.service import ServiceRequest

log = logging.getLogger(__name__)
WEEKS_PER_YEAR = 365.25 / 7
FIT_SAMPLE = 20_000
Progress = Callable[[int, str], None]


# --- jobs ---------------------------------------------------------------------------------


def request_recompute(session: Session, actor: Actor | None) -> AnalyticsJob:
    """A queued recompute job; needs the manage_settings grant (None: the system)."""
    if actor is not None:
        actor.require_grant("manage_settings", "Recomputing the analytics")
    job = AnalyticsJob(
        kind="recompute", status="queued", progress=0, requested_by_id=actor.id if actor else None
    )
    session.add(job)
    session.flush()
    return job


def _set_progress(factory: sessionmaker[Session], job_id: int, progress: int, stage: str) -> None:
    with unit_of_work(factory) as session:
        session.execute(
            update(AnalyticsJob)
            .where(AnalyticsJob.id == job_id)
            .values(progress=progress, stage=stage)
        )


def _claim(factory: sessionmaker[Session], job_id: int) -> bool:
    """queued → running as one conditional UPDATE: of two runners, exactly one gets the job."""
    with unit_of_work(factory) as session:
        claimed = session.execute(
            update(AnalyticsJob)
            .where(AnalyticsJob.id == job_id, AnalyticsJob.status == "queued")
            .values(status="running", started_at=clock.now(), stage="starting")
        ).rowcount
    return claimed == 1


def run_job(
    factory: sessionmaker[Session], job_id: int, on_progress: Progress | None = None
) -> dict | None:
    """Run a queued job to the end (None if another runner took it first); a failure marks
    the job failed, with the error, and re-raises."""

    def progress(value: int, stage: str) -> None:
        _set_progress(factory, job_id, value, stage)
        if on_progress:
            on_progress(value, stage)

    if not _claim(factory, job_id):
        return None
    try:
        return recompute(factory, job_id, progress)
    except Exception as error:
        log.exception("analytics recompute %s failed", job_id)
        with unit_of_work(factory) as session:
            session.execute(
                update(AnalyticsJob)
                .where(AnalyticsJob.id == job_id)
                .values(
                    status="failed",
                    finished_at=clock.now(),
                    error=f"{error}\n{traceback.format_exc(limit=3)}"[:4000],
                )
            )
        raise


def run_queued(factory: sessionmaker[Session]) -> int:
    """Run the jobs still queued (e.g. requested just before a restart); how many ran."""
    ran = 0
    while True:
        with unit_of_work(factory) as session:
            job_id = session.scalar(
                select(AnalyticsJob.id)
                .where(AnalyticsJob.status == "queued")
                .order_by(AnalyticsJob.id)
                .limit(1)
            )
        if job_id is None:
            return ran
        with contextlib.suppress(Exception):  # recorded on the job; the scheduler goes on
            if run_job(factory, job_id) is not None:
                ran += 1


def run_scheduled(factory: sessionmaker[Session]) -> None:
    """The nightly recompute: a job of its own, by the system."""
    with unit_of_work(factory) as session:
        job_id = request_recompute(session, None).id
    run_job(factory, job_id)


# --- the computation ----------------------------------------------------------------------


def _days(values) -> np.ndarray:
    return np.array([v.toordinal() if v else 0 for v in values], dtype=np.int64)


def _aligned(ids: np.ndarray, keys, values, fill=0.0) -> np.ndarray:
    """Values keyed by customer id, in the order of `ids` (missing keys get `fill`)."""
    out = np.full(len(ids), fill, dtype=float)
    keys = np.asarray(keys, dtype=np.int64)
    if len(keys):
        positions = np.searchsorted(ids, keys)
        out[positions] = np.asarray(values, dtype=float)
    return out


def _fit_sample(eligible: np.ndarray) -> np.ndarray:
    """The customers the models are fitted on: all of them, or a fixed-seed random sample of
    FIT_SAMPLE (maximum likelihood on 20,000 customers pins the four parameters down about as
    well as on all; predictions are then made for everyone)."""
    chosen = np.flatnonzero(eligible)
    if len(chosen) > FIT_SAMPLE:
        chosen = np.sort(np.random.default_rng(2026).choice(chosen, FIT_SAMPLE, replace=False))
    mask = np.zeros(len(eligible), dtype=bool)
    mask[chosen] = True
    return mask


def load_inputs(session: Session, as_of: date) -> dict:
    customers = session.execute(select(Customer.id, Customer.grade).order_by(Customer.id)).all()
    ids = np.array([c[0] for c in customers], dtype=np.int64)
    summary = session.execute(rfm.order_summary_select(as_of - timedelta(days=365))).all()
    paid = session.execute(
        select(Payment.customer_id, func.sum(Payment.amount)).group_by(Payment.customer_id)
    ).all()
    # Product breadth: the join runs from the lines, in their table order, to each order by
    # its primary key (`+ 0` keeps SQLite from driving it from the orders through the lines'
    # order_id index instead: a million random lookups, 13.7 s against about 1 s; PostgreSQL
    # hash-joins either way).
    products = session.execute(
        select(SalesOrder.customer_id, func.count(func.distinct(OrderLine.product_id)))
        .join(OrderLine, OrderLine.order_id + 0 == SalesOrder.id)
        .where(rfm.COUNTED, SalesOrder.ordered_on >= as_of - timedelta(days=730))
        .group_by(SalesOrder.customer_id)
    ).all()
    satisfaction = session.execute(
        select(ServiceRequest.customer_id, func.avg(ServiceRequest.satisfaction))
        .where(ServiceRequest.satisfaction.is_not(None))
        .group_by(ServiceRequest.customer_id)
    ).all()
    return {
        "ids": ids,
        "grades": [c[1] for c in customers],
        "summary": summary,
        "paid": paid,
        "products": products,
        "satisfaction": satisfaction,
    }


def compute(inputs: dict, params: dict, as_of: date, progress: Progress) -> dict:
    ids = inputs["ids"]
    n = len(ids)
    summary = inputs["summary"]
    s_ids = np.array([row.customer_id for row in summary], dtype=np.int64)
    orders = _aligned(ids, s_ids, [row.orders for row in summary])
    purchase_days = _aligned(ids, s_ids, [row.purchase_days for row in summary])
    first = _aligned(ids, s_ids, _days(row.first_on for row in summary))
    last = _aligned(ids, s_ids, _days(row.last_on for row in summary))
    total = _aligned(ids, s_ids, [float(row.total or 0) for row in summary])
    total_12m = _aligned(ids, s_ids, [float(row.total_12m or 0) for row in summary])
    first_day = _aligned(ids, s_ids, [float(row.first_day_total or 0) for row in summary])
    paid = _aligned(ids, [p[0] for p in inputs["paid"]], [float(p[1] or 0) for p in inputs["paid"]])
    product_value = _aligned(
        ids, [p[0] for p in inputs["products"]], [p[1] for p in inputs["products"]]
    )
    service_value = _aligned(
        ids, [s[0] for s in inputs["satisfaction"]], [float(s[1]) for s in inputs["satisfaction"]]
    )
    buyers = orders > 0
    today = as_of.toordinal()
    recency = np.where(buyers, today - last, 0)
    margin_rate = 1 - params["product_cost_percent"] / 100
    result: dict = {"customers": int(n), "buyers": int(buyers.sum())}

    scores = {key: np.zeros(n, dtype=int) for key in ("r_score", "f_score", "m_score", "rfm_score")}
    if buyers.any():
        for key, values in rfm.score(recency[buyers], orders[buyers], total[buyers]).items():
            scores[key][buyers] = values
    progress(30, "rfm")

    # Lifetime value by the retention formula: the customer's own pace and size.
    tenure_years = np.maximum((today - first) / 365.25, 1.0)
    per_year = np.where(buyers, orders / tenure_years, params["default_annual_orders"])
    size = np.where(buyers, total / np.maximum(orders, 1), params["default_order_size"])
    clv_retention = retention_clv(per_year, size, params)
    progress(40, "clv_retention")

    # BG/NBD + Gamma-Gamma, in weeks since each customer's first purchase.
    x = np.maximum(purchase_days - 1, 0)
    t_x = (last - first) / 7.0
    T = (today - first) / 7.0
    repeat_value = np.where(x > 0, (total - first_day) / np.maximum(x, 1), 0.0)
    expected_12m = np.full(n, np.nan)
    alive = np.full(n, np.nan)
    order_value = np.full(n, np.nan)
    clv_predicted = np.full(n, np.nan)
    b = buyers & (T > 0)
    fit = _fit_sample(b)
    try:
        model = bgnbd.fit_bgnbd(x[fit], t_x[fit], T[fit])
        result["bgnbd"] = {
            "r": model.r,
            "alpha": model.alpha,
            "a": model.a,
            "b": model.b,
            "log_likelihood": model.log_likelihood,
            "time_unit": "week",
        }
    except (ValueError, FloatingPointError) as error:
        model = None
        result["bgnbd"] = {"error": str(error)}
    progress(55, "bgnbd")
    try:
        spend = bgnbd.fit_gamma_gamma(x[fit], repeat_value[fit])
        result["gamma_gamma"] = {
            "p": spend.p,
            "q": spend.q,
            "gamma": spend.gamma,
            "log_likelihood": spend.log_likelihood,
        }
        population_mean = float(np.mean(size[buyers])) if buyers.any() else 0.0
        order_value[b] = bgnbd.expected_order_value(spend, x[b], repeat_value[b], population_mean)
    except (ValueError, FloatingPointError) as error:
        result["gamma_gamma"] = {"error": str(error)}
        order_value[b] = size[b]
    if model is not None:
        with np.errstate(all="ignore"):
            alive[b] = bgnbd.probability_alive(model, x[b], t_x[b], T[b])
            expected_12m[b] = bgnbd.expected_purchases(model, WEEKS_PER_YEAR, x[b], t_x[b], T[b])
            horizon = max(round(params["horizon_years"]), 1)
            value = np.zeros(int(b.sum()))
            before = np.zeros(int(b.sum()))
            for year in range(1, horizon + 1):
                cumulative = bgnbd.expected_purchases(
                    model, WEEKS_PER_YEAR * year, x[b], t_x[b], T[b]
                )
                value += (
                    (cumulative - before)
                    * order_value[b]
                    * margin_rate
                    / (1 + params["discount_rate"]) ** year
                )
                before = cumulative
            clv_predicted[b] = np.nan_to_num(value)
    progress(65, "clv_predicted")

    current_value = total_12m * margin_rate
    potential = np.where(
        np.isnan(clv_predicted), np.nan, np.maximum(np.nan_to_num(clv_predicted) - current_value, 0)
    )
    if buyers.any():
        result["median_current_value"] = float(np.median(current_value[buyers]))
        known = buyers & ~np.isnan(potential)
        result["median_potential_value"] = (
            float(np.median(potential[known])) if known.any() else 0.0
        )

    clusters = np.full(n, -1)
    grades = np.array([None] * n, dtype=object)
    clustering = (
        grading.cluster(
            grading.features(
                recency[buyers],
                orders[buyers],
                total[buyers],
                product_value[buyers],
                service_value[buyers],
            ),
            total[buyers],
        )
        if buyers.sum() >= 4
        else None
    )
    if clustering is not None:
        clusters[buyers] = clustering.labels
        grades[buyers] = clustering.grades
        result["clustering"] = {
            "k": clustering.k,
            "silhouette": clustering.silhouette,
            "clusters": [
                {
                    "cluster": c,
                    "grade": g,
                    "mean_sales": clustering.cluster_sales[c],
                    "customers": int((clustering.labels == c).sum()),
                }
                for c, g in sorted(clustering.cluster_grades.items(), key=lambda i: i[1])
            ],
        }
    progress(80, "grades")

    def optional(values: np.ndarray, places: int) -> list:
        """Column as Python values, NaN as None (vectorised: 100,000 rows in milliseconds)."""
        rounded = np.round(values.astype(float), places).astype(object)
        rounded[np.isnan(values.astype(float))] = None
        return rounded.tolist()

    def nonzero(values: np.ndarray) -> list:
        column = values.astype(object)
        column[values == 0] = None
        return column.tolist()

    dates = {
        ordinal: date.fromordinal(int(ordinal))
        for ordinal in np.unique(np.r_[first, last])
        if ordinal > 0
    }
    columns = {
        "customer_id": ids.tolist(),
        "computed_at": [clock.now()] * n,
        "first_order_on": [dates.get(v) for v in first.tolist()],
        "last_order_on": [dates.get(v) for v in last.tolist()],
        "recency_days": np.where(buyers, recency, -1).astype(object).tolist(),
        "frequency": orders.astype(int).tolist(),
        "monetary": np.round(total, 2).tolist(),
        "paid": np.round(paid, 2).tolist(),
        "r_score": nonzero(scores["r_score"]),
        "f_score": nonzero(scores["f_score"]),
        "m_score": nonzero(scores["m_score"]),
        "rfm_score": nonzero(scores["rfm_score"]),
        "current_value": np.round(current_value, 2).tolist(),
        "clv_retention": np.round(clv_retention, 2).tolist(),
        "expected_purchases": optional(expected_12m, 4),
        "probability_alive": optional(alive, 4),
        "expected_order_value": optional(order_value, 4),
        "clv_predicted": optional(clv_predicted, 4),
        "potential_value": optional(potential, 4),
        "product_value": product_value.tolist(),
        "service_value": np.round(service_value, 4).tolist(),
        "cluster": [c if c >= 0 else None for c in clusters.tolist()],
        "grade": grades.tolist(),
    }
    columns["recency_days"] = [None if v < 0 else int(v) for v in columns["recency_days"]]
    return {"columns": columns, "result": result}


def _insert_metrics(session: Session, columns: dict[str, list]) -> None:
    """Bulk insert: COPY on PostgreSQL, the driver's executemany on SQLite."""
    names = list(columns)
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        rows = zip(*columns.values(), strict=True)
        raw = session.connection().connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY customer_metrics ({', '.join(names)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    # Values are converted to what the column types store a column at a time, each distinct
    # value once (one timestamp, a few hundred dates), and the rows go to the driver as they
    # are: the ORM's bulk insert converted every value of every row (100,000 rows: ~7 s of
    # Python, now ~1 s in all).
    table = CustomerMetrics.__table__
    stored = [
        _stored(table.c[name].type.dialect_impl(dialect).bind_processor(dialect), values)
        for name, values in columns.items()
    ]
    marks = ", ".join("?" * len(names))
    session.connection().exec_driver_sql(
        f"INSERT INTO customer_metrics ({', '.join(names)}) VALUES ({marks})",
        list(zip(*stored, strict=True)),
    )


def _stored(process: Callable | None, values: list) -> list:
    if process is None:
        return values
    done: dict = {}
    return [done[v] if v in done else done.setdefault(v, process(v)) for v in values]


def write(session: Session, job_id: int, columns: dict[str, list], result: dict) -> dict:
    """Replace the metrics, record and apply grade changes, finish the job: one transaction."""
    session.execute(delete(CustomerMetrics))
    _insert_metrics(session, columns)
    metric = CustomerMetrics
    changed = and_(
        metric.customer_id == Customer.id,
        metric.grade.is_not(None),
        or_(Customer.grade.is_(None), metric.grade != Customer.grade),
    )
    now = clock.now()
    history = (
        select(
            Customer.id,
            literal(now, GradeChange.changed_at.type),
            Customer.grade,
            metric.grade,
            literal("clustering"),
            literal(job_id),
        )
        .join(metric, metric.customer_id == Customer.id)
        .where(changed)
    )
    moved = session.scalar(select(func.count()).select_from(history.subquery()))
    session.execute(
        insert(GradeChange).from_select(
            ["customer_id", "changed_at", "from_grade", "to_grade", "reason", "job_id"], history
        )
    )
    new_grade = select(metric.grade).where(metric.customer_id == Customer.id).scalar_subquery()
    session.execute(
        update(Customer)
        .where(exists(select(metric.customer_id).where(changed)))
        .values(grade=new_grade, version=Customer.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    result = {**result, "grade_changes": int(moved or 0)}
    session.execute(
        update(AnalyticsJob)
        .where(AnalyticsJob.id == job_id)
        .values(
            status="succeeded", progress=100, stage="done", finished_at=clock.now(), result=result
        )
    )
    return result


def recompute(factory: sessionmaker[Session], job_id: int, progress: Progress) -> dict:
    as_of = business_today()
    with unit_of_work(factory) as session:
        params = current_parameters(session)
        inputs = load_inputs(session, as_of)
    progress(15, "read")
    computed = compute(inputs, params, as_of, progress)
    computed["result"]["as_of"] = as_of.isoformat()
    progress(85, "rows")
    with unit_of_work(factory) as session:
        return write(session, job_id, computed["columns"], computed["result"])
