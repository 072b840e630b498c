"""Import benchmark: N customer rows (a CSV with Chinese headers) imported into a fresh database.

The rows go through the real import path: `read_table` (decode, parse) and `import_records`
(header mapping, cell reading, bulk key look-ups, then `record_service.create_record` per row:
validation, scope, custom fields, pinyin, audit entry) and one commit, as `weft import` does.
Then the same file, with one column changed on every row, is imported again: every row matches
an existing record by its external key and goes through `update_record`. A third run imports
the file unchanged (every row matched, compared, left alone).

Usage: .venv/bin/python bench/import.py [--rows 100000] [--pg URL] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_domain.access import actor_for  # noqa: E402
from crm_domain.audit import AuditEntry  # noqa: E402
from crm_domain.customers import Customer  # noqa: E402
from crm_domain.exchange import import_records, read_table  # noqa: E402
from crm_domain.org import create_org_unit  # noqa: E402
from crm_domain.users import User, create_user  # noqa: E402
from web import models_registry  # noqa: E402,F401
from web.database import upgrade  # noqa: E402

HEADERS = ["客户名称", "简称", "地区", "电话", "税号", "开户行", "银行账号", "行业", "等级",
           "信用额度", "客户阶段", "外部编号", "合作开始日期", "标签"]  # fmt: skip
REGIONS = ("华东", "华南", "华北", "西南", "华中")
CITIES = ("苏州", "无锡", "常州", "绍兴", "佛山", "东莞", "青岛", "成都")
TRADES = ("纺织", "服饰", "家纺", "板材", "家具", "面料")
STAGES = ("潜在客户", "合作中", "休眠", "流失")


def customer_csv(rows: int, grade_shift: int = 0) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for i in range(rows):
        city, trade = CITIES[i % len(CITIES)], TRADES[i % len(TRADES)]
        writer.writerow(
            [
                f"{city}{trade}有限公司{i:06d}",
                f"{city}{trade}{i}",
                REGIONS[i % len(REGIONS)],
                f"0512-{6500000 + i}",
                f"91320500MA{i:08d}",
                "中国工商银行",
                f"62220{i:014d}",
                "textile",
                "ABCD"[(i + grade_shift) % 4],
                f"{(i % 50 + 1) * 10000:,}.00",
                STAGES[i % len(STAGES)],
                f"ERP-{i:07d}",
                f"20{10 + i % 15}-0{1 + i % 9}-1{i % 9}",
                "面料,老客户",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def fresh_database(url: str | None, workdir: Path):
    if url is None:
        url = f"sqlite:///{workdir / 'bench-import.sqlite3'}"
    else:
        parsed = make_url(url)
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
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        unit = create_org_unit(session, "华东分公司", "branch")
        user = create_user(session, "bench.manager", "bench-password-1", ["sales_manager"])
        user.org_unit_id = unit.id
    return engine, factory


def timed_import(factory, content: bytes, label: str, dry_run: bool = False) -> float:
    started = time.perf_counter()
    table = read_table(content, "customers.csv")
    parsed = time.perf_counter()
    with unit_of_work(factory) as session:
        user = session.scalar(select(User).where(User.username == "bench.manager"))
        report = import_records(
            session, actor_for(session, user), "customers", table, dry_run=dry_run
        )
    finished = time.perf_counter()
    total = finished - started
    print(
        f"{label:28} {report.total_rows:>7} rows  {total:7.1f} s  "
        f"{report.total_rows / total:8.0f} rows/s   (read {parsed - started:.1f} s; "
        f"created {report.created}, updated {report.updated}, unchanged {report.unchanged})"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (its database is recreated)")
    parser.add_argument("--keep", action="store_true", help="Keep the SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="weft-bench-import-"))
    engine, factory = fresh_database(args.pg, workdir)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    content = customer_csv(args.rows)
    print(f"file: {args.rows} rows, {len(content) / 1048576:.1f} MB CSV (UTF-8 BOM, zh headers)")

    timed_import(factory, content, "dry run (nothing written)", dry_run=True)
    timed_import(factory, content, "create (empty database)")
    timed_import(factory, customer_csv(args.rows, grade_shift=1), "update (every row changed)")
    timed_import(factory, customer_csv(args.rows, grade_shift=1), "re-import (no changes)")
    with factory() as session:
        customers = session.scalar(select(func.count()).select_from(Customer))
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
    print(f"customers: {customers}, audit entries: {audit}")
    engine.dispose()
    if not args.keep and args.pg is None:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
