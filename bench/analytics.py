"""Analytics benchmark: the full recompute (RFM, both lifetime values, value matrix, grades by
clustering) over N customers and M orders, against baselines measured in the same run.

Data: customers with a skewed order rate (gamma-distributed), orders over two years with a
seasonal month profile, one line per order, loaded with COPY (PostgreSQL) or executemany in one
transaction (SQLite) into a fresh database. Then, on the same data:

- baseline "scan": one GROUP BY over all orders (count and sum per customer) — the least any
  per-customer figure costs; the recompute's ratio to it shows its overhead;
- baseline "per-customer ORM": the naive way (load each customer and its orders with lines
  through the ORM, compute RFM in Python), timed on a sample and scaled to all customers;
- the recompute itself, as `weft analytics recompute` runs it, with the time of each stage.

Usage: .venv/bin/python bench/analytics.py [--customers 100000] [--orders 1000000]
       [--db pg|sqlite|both] [--pg URL] [--sample 300] [--reuse [--first-run]]
Databases: PostgreSQL `weft_bench_analytics`, SQLite /tmp/weft_bench_analytics.sqlite3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core import clock  # noqa: E402
from core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_domain.analytics import recompute, rfm  # noqa: E402
from crm_domain.customers import Customer  # noqa: E402
from crm_domain.orders import SalesOrder  # noqa: E402
from web import models_registry  # noqa: E402,F401
from web.database import upgrade  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/weft_bench_analytics"
SQLITE_URL = "sqlite:////tmp/weft_bench_analytics.sqlite3"
AS_OF = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
MONTH_WEIGHTS = [0.6, 0.5, 1.2, 1.1, 0.9, 0.8, 0.7, 0.9, 1.3, 1.4, 1.2, 0.8]
PRODUCTS = 200


def fresh_database(url: str):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
    else:
        admin = make_engine(
            parsed.set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    return engine


def generate(customers: int, orders: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.0, customers)
    owner = rng.choice(customers, size=orders, p=rate / rate.sum()) + 1
    start = (AS_OF.date() - timedelta(days=730)).toordinal()
    days = np.arange(start, start + 730)
    weights = np.array([MONTH_WEIGHTS[date.fromordinal(int(d)).month - 1] for d in days])
    ordered = rng.choice(days, size=orders, p=weights / weights.sum())
    totals = np.round(rng.lognormal(10, 1, orders), 2)
    product = rng.integers(1, PRODUCTS + 1, orders)
    return {"owner": owner, "ordered": ordered, "totals": totals, "product": product}


def load(engine, customers: int, data: dict) -> float:
    started = time.perf_counter()
    now = AS_OF.replace(tzinfo=None).isoformat(sep=" ")
    orders = len(data["owner"])
    product_rows = [
        (i, f"SKU-{i:04d}", f"面料{i}", "锦华", "系列", "piece", 10, 12, True, 1, "{}", now, now)
        for i in range(1, PRODUCTS + 1)
    ]
    customer_rows = [
        (i, f"客户{i}", f"kehu{i}", "company", "end_customer", 0, "active", "[]", 1, "{}", now, now)
        for i in range(1, customers + 1)
    ]
    order_rows = (
        (
            i + 1,
            int(data["owner"][i]),
            f"SO-{i + 1:08d}",
            date.fromordinal(int(data["ordered"][i])).isoformat(),
            "delivered",
            "CNY",
            float(data["totals"][i]),
            1,
            "{}",
            now,
            now,
        )
        for i in range(orders)
    )
    line_rows = (
        (
            i + 1,
            i + 1,
            0,
            int(data["product"][i]),
            1,
            float(data["totals"][i]),
            0,
            float(data["totals"][i]),
        )
        for i in range(orders)
    )
    tables = {
        "product": (
            "id, sku, name, brand, series, unit, price, warranty_months, active, version, "
            "custom, created_at, updated_at",
            product_rows,
        ),
        "customer": (
            "id, name, pinyin, kind, relation, total_business, lifecycle_stage, tags, "
            "version, custom, created_at, updated_at",
            customer_rows,
        ),
        "sales_order": (
            "id, customer_id, order_no, ordered_on, status, currency, total, version, "
            "custom, created_at, updated_at",
            order_rows,
        ),
        "sales_order_line": (
            "id, order_id, position, product_id, quantity, unit_price, discount_percent, amount",
            line_rows,
        ),
    }
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            # The pool's connections run in autocommit (core.db): without an explicit
            # transaction every row was its own commit (~10 minutes). One transaction, and no
            # fsync for this load only (a crash here just means reloading).
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
            cursor.execute("BEGIN")
        for table, (columns, rows) in tables.items():
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * (columns.count(",") + 1))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        if engine.dialect.name == "postgresql":
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            raw.commit()
        else:
            cursor.execute("COMMIT")
            cursor.execute("PRAGMA synchronous=NORMAL")  # back to core.db's setting
            cursor.execute("PRAGMA cache_size=-2000")
    finally:
        raw.close()
    return time.perf_counter() - started


def baseline_scan(factory) -> float:
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        session.execute(
            select(SalesOrder.customer_id, func.count(), func.sum(SalesOrder.total))
            .where(rfm.COUNTED)
            .group_by(SalesOrder.customer_id)
        ).all()
    return time.perf_counter() - started


def baseline_per_customer(factory, customers: int, sample: int) -> float:
    """Seconds for all customers, scaled from `sample` customers loaded one by one."""
    ids = np.random.default_rng(1).choice(customers, size=sample, replace=False) + 1
    today = AS_OF.date()
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        for customer_id in ids:
            customer = session.get(Customer, int(customer_id))
            orders = session.scalars(
                select(SalesOrder).where(SalesOrder.customer_id == customer.id)
            ).all()
            if orders:
                _ = (today - max(o.ordered_on for o in orders)).days, len(orders)
                _ = sum(o.total for o in orders) + sum(len(o.lines) for o in orders)
    return (time.perf_counter() - started) * customers / sample


def _already_loaded(url: str, orders: int) -> bool:
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            found = conn.scalar(text("SELECT count(*) FROM sales_order"))
        engine.dispose()
        return found == orders
    except Exception:
        return False


def forget_recomputes(engine) -> None:
    """Back to the state right after the load (no grades, metrics, history or jobs), so a run
    with --reuse times a first run again (every buyer's grade changes)."""
    with engine.begin() as conn:
        for table in ("customer_grade_history", "customer_metrics", "analytics_job"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE customer SET grade = NULL, version = 1"))


def settle(engine) -> None:
    """PostgreSQL: VACUUM ANALYZE before timing. Autovacuum is off on this machine; in
    production it keeps the statistics and the visibility map (which index-only scans need)
    current after bulk loads and after each recompute's rewrite of customer_metrics."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def run(url: str, customers: int, orders: int, sample: int, reuse: bool, first: bool) -> dict:
    name = make_url(url).get_backend_name()
    print(f"\n== {name}: {customers:,} customers, {orders:,} orders ==", flush=True)
    if reuse and _already_loaded(url, orders):
        engine = make_engine(url)
        upgrade(engine)  # the data stays; migrations added since (e.g. indexes) are applied
        print("reusing the data loaded by an earlier run", flush=True)
        if first:
            forget_recomputes(engine)
            print("earlier recomputes forgotten: this is a first run", flush=True)
    else:
        engine = fresh_database(url)
        loaded = load(engine, customers, generate(customers, orders))
        print(f"loaded in {loaded:.1f} s", flush=True)
    settle(engine)
    factory = make_session_factory(engine)
    with clock.frozen_at(AS_OF):
        scan = baseline_scan(factory)
        naive = baseline_per_customer(factory, customers, sample)
        with unit_of_work(factory) as session:
            job_id = recompute.request_recompute(session, None).id
        stages: list[tuple[str, float]] = []
        started, cpu = time.perf_counter(), time.process_time()
        result = recompute.run_job(
            factory, job_id, lambda _p, stage: stages.append((stage, time.perf_counter()))
        )
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
    previous = started
    for stage, at in stages:
        print(f"  {stage:<14} {at - previous:6.2f} s", flush=True)
        previous = at
    print(f"  {'write':<14} {started + total - previous:6.2f} s")
    clustering = result.get("clustering") or {}
    print(
        f"recompute: {total:.1f} s (k={clustering.get('k')}, "
        f"{result['grade_changes']:,} grade changes)"
    )
    print(f"baseline scan (one GROUP BY):     {scan:.2f} s   recompute / scan = {total / scan:.1f}")
    print(
        f"baseline per-customer ORM (x{customers // sample} from {sample}): {naive:.0f} s   "
        f"speed-up = {naive / total:.1f}x"
    )
    engine.dispose()
    return {"db": name, "recompute": total, "scan": scan, "naive": naive}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("pg", "sqlite", "both"), default="both")
    parser.add_argument("--pg", default=PG_URL)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep data an earlier run loaded")
    parser.add_argument(
        "--first-run",
        action="store_true",
        help="with --reuse: forget earlier recomputes, so every buyer's grade changes again",
    )
    args = parser.parse_args()
    urls = {"pg": [args.pg], "sqlite": [SQLITE_URL], "both": [args.pg, SQLITE_URL]}[args.db]
    results = [
        run(url, args.customers, args.orders, args.sample, args.reuse, args.first_run)
        for url in urls
    ]
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    slowest = max(r["recompute"] for r in results)
    print(f"\nslowest recompute {slowest:.1f} s: {'PASS' if slowest < 60 else 'FAIL'} (< 60 s)")


if __name__ == "__main__":
    main()
