"""Inbox page benchmark: server time of /inbox with 200,000 open tasks (PostgreSQL).

Fills its own database (`weft_bench_inbox` by default) with one deployed quote process, 2,000
instances and N open user tasks (75 % in the salesperson lane, 25 % in the manager's; 10 %
already claimed by the salesperson; due dates spread over ±30 days; every fifth task high
priority), then times whole requests through the Flask app in-process (query + template),
signed in through the real login form: the first page of each tab, filtered pages, and a
page deep in the keyset chain. Prints p50/p95 per case in milliseconds.

Usage: .venv/bin/python bench/inbox.py [--pg URL] [--tasks N] [--requests R]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.config import Settings  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from crm_domain.users import create_user  # noqa: E402
from engine.definitions import UploadedFile, deploy_files  # noqa: E402
from engine.instances import start_instance  # noqa: E402
from web import models_registry  # noqa: E402, F401
from web.app import create_app  # noqa: E402
from web.database import upgrade  # noqa: E402

PASSWORD = "bench-pass-2026"
INSTANCES = 2000


def reset(url: str) -> None:
    parsed = make_url(url)
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def fill(url: str, tasks: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        sales = create_user(session, "sales", PASSWORD, ["salesperson"], "王芳")
        create_user(session, "manager", PASSWORD, ["sales_manager"], "李强")
        folder = ROOT / "processes" / "approval"
        names = ("quote_discount_approval.bpmn", "prepare_quote.json", "discount_approval.json")
        deploy_files(
            session, [UploadedFile(n, (folder / n).read_bytes()) for n in names], None, 5 << 20
        )
        first = start_instance(session, sales, "quote_discount_approval")
        session.commit()
        sales_id, first_id = sales.id, first.id
    with engine.begin() as conn:
        conn.execute(
            text(
                """INSERT INTO process_instance (definition_id, process_key, definition_version,
                   status, state, data, revision, started_at, updated_at)
                   SELECT definition_id, process_key, definition_version, status, state, data,
                          1, started_at, updated_at
                   FROM process_instance, generate_series(2, :n) WHERE id = :first"""
            ),
            {"n": INSTANCES, "first": first_id},
        )
        conn.execute(
            text(
                """INSERT INTO human_task (id, instance_id, process_key, bpmn_id, name, lane,
                   assignee_id, form_key, priority, due_at, status, created_at)
                   SELECT md5(i::text)::uuid::text, :first + (i % :n),
                          'quote_discount_approval',
                          CASE WHEN i % 4 = 0 THEN 'manager_approval' ELSE 'prepare_quote' END,
                          CASE WHEN i % 4 = 0 THEN '经理审批 Manager approval'
                               ELSE '准备报价 Prepare quote' END,
                          CASE WHEN i % 4 = 0 THEN 'sales_manager' ELSE 'salesperson' END,
                          CASE WHEN i % 10 = 1 THEN :sales END,
                          CASE WHEN i % 4 = 0 THEN 'discount_approval' ELSE 'prepare_quote' END,
                          CASE WHEN i % 5 = 0 THEN 5 ELSE 0 END,
                          now() + ((i % 86400) - 43200) * interval '1 minute' * 60 / 1440 * 30,
                          'open', now() - interval '40 days'
                   FROM generate_series(1, :tasks) AS i"""
            ),
            {"first": first_id, "n": INSTANCES, "sales": sales_id, "tasks": tasks},
        )
        conn.execute(text("ANALYZE"))
    engine.dispose()


def signed_in_client(app, username: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.text
    return client


def timed(client, url: str, requests: int) -> tuple[float, float]:
    client.get(url)  # warm: templates compiled, plans cached
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def deep_url(client, url: str, pages: int) -> str:
    for _ in range(pages):
        match = re.search(
            r'href="([^"]*after=[^"]*)"[^>]*data-testid="next-page"', client.get(url).text
        )
        url = match.group(1).replace("&amp;", "&")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/weft_bench_inbox"
    )
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    reset(args.pg)
    started = time.perf_counter()
    fill(args.pg, args.tasks)
    print(f"filled {args.tasks:,} open tasks in {time.perf_counter() - started:.1f} s")
    settings = Settings(database_url=args.pg, secret_key="bench", var_dir=Path(tempfile.mkdtemp()))
    app = create_app(settings)
    sales = signed_in_client(app, "sales")
    manager = signed_in_client(app, "manager")
    cases = [
        # Baselines in the same run and process: what any request costs on this machine now
        # (no template; then a signed-in page with the same layout but no inbox query).
        ("baseline: /healthz", sales, "/healthz"),
        ("baseline: signed-in trivial page", sales, "/account/password"),
        ("salesperson: available (150k)", sales, "/inbox?tab=available"),
        ("salesperson: mine (20k)", sales, "/inbox?tab=mine"),
        ("salesperson: available, overdue", sales, "/inbox?tab=available&due=overdue"),
        ("salesperson: available, high priority", sales, "/inbox?tab=available&priority=high"),
        ("salesperson: available, search", sales, "/inbox?tab=available&q=quote"),
        # Searches that match few or no rows in the lane: the worst case of a substring search.
        ("salesperson: available, search 经理 (none)", sales, "/inbox?tab=available&q=经理"),
        ("salesperson: mine, search 准备", sales, "/inbox?tab=mine&q=准备"),
        ("manager: available, search 经理审批", manager, "/inbox?tab=available&q=经理审批"),
        ("salesperson: available, page 41", sales, deep_url(sales, "/inbox?tab=available", 40)),
        ("manager: available (50k)", manager, "/inbox?tab=available"),
    ]
    print(f"{'case':42} {'p50 ms':>8} {'p95 ms':>8}")
    for name, client, url in cases:
        p50, p95 = timed(client, url, args.requests)
        print(f"{name:42} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
