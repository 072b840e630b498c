"""Engine cycle benchmark: raw SpiffWorkflow in memory vs the same cycle through Weft.

(a) raw: start the quote approval process, serialize, deserialize, complete the user task,
    serialize - all in memory with Spiff's own serializer and default script engine.
(b) Weft: start_instance + commit, complete_task (form validation, sandboxed scripts,
    compare-and-swap save, inbox/history rows) + commit, on SQLite and on PostgreSQL.

Prints cycles per second and b/a ratios measured in the same run (machines are noisy).
Usage: .venv/bin/python bench/engine.py [--cycles N] [--pg URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_domain.users import create_user  # noqa: E402
from engine.definitions import deploy_files  # noqa: E402
from engine.instances import start_instance  # noqa: E402
from engine.models import HumanTask  # noqa: E402
from engine.parsing import UploadedFile  # noqa: E402
from engine.serialization import full_serializer  # noqa: E402
from engine.tasks import complete_task  # noqa: E402
from web import models_registry  # noqa: E402,F401
from web.database import upgrade  # noqa: E402

PROCESS_DIR = ROOT / "processes" / "approval"
QUOTE = {"customer_name": "苏州锦华", "product": "T-200", "list_price": 100.0, "quoted_price": 95.0}


def raw_cycle_factory():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(PROCESS_DIR / "quote_discount_approval.bpmn"))
    spec = parser.get_spec("quote_discount_approval")
    subs = parser.get_subprocess_specs("quote_discount_approval")
    serializer = full_serializer()
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

    def round_money(x, places=2):
        return round(x, places)

    engine = PythonScriptEngine(environment=TaskDataEnvironment({"round_money": round_money}))

    def cycle():
        wf = BpmnWorkflow(spec, subs, script_engine=engine)
        wf.do_engine_steps()
        state = serializer.serialize_json(wf)
        wf = serializer.deserialize_json(state)
        wf.script_engine = engine
        task = wf.get_next_task(state=TaskState.READY, manual=True)
        task.data.update(QUOTE)
        task.run()
        wf.do_engine_steps()
        assert wf.is_completed()
        serializer.serialize_json(wf)

    return cycle


def weft_cycle_factory(url: str):
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    factory = make_session_factory(engine)
    files = [UploadedFile(p.name, p.read_bytes()) for p in sorted(PROCESS_DIR.iterdir())]
    with unit_of_work(factory) as session:
        deploy_files(session, files, None, 5_000_000)
        user = create_user(session, "bench", "bench-password", ["salesperson"])
    user_id = user.id

    def cycle():
        with unit_of_work(factory) as session:
            from crm_domain.users import User

            actor = session.get(User, user_id)
            instance = start_instance(session, actor, "quote_discount_approval")
            instance_id = instance.id
        with unit_of_work(factory) as session:
            actor = session.get(User, user_id)
            task_id = session.scalar(
                select(HumanTask.id).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
            complete_task(session, actor, task_id, QUOTE)

    return cycle, engine


def measure(cycle, cycles: int, rounds: int = 5) -> float:
    """Best-of-rounds cycles per second (the least disturbed round on a shared machine)."""
    for _ in range(max(3, cycles // 10)):
        cycle()  # warm caches
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(cycles):
            cycle()
        rates.append(cycles / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/weft_bench")
    args = parser.parse_args()

    results = {}
    raw_best, raw_median = measure(raw_cycle_factory(), args.cycles)
    results["raw SpiffWorkflow (in memory)"] = (raw_best, raw_median)
    with tempfile.TemporaryDirectory() as tmp:
        cycle, eng = weft_cycle_factory(f"sqlite:///{tmp}/bench.sqlite3")
        results["Weft on SQLite (committed)"] = measure(cycle, args.cycles)
        eng.dispose()
    try:
        _ensure_pg_database(args.pg)
        cycle, eng = weft_cycle_factory(args.pg)
        results["Weft on PostgreSQL (committed)"] = measure(cycle, args.cycles)
        eng.dispose()
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)

    print(f"{'variant':36} {'best cyc/s':>11} {'median':>8} {'time ratio b/a':>15}")
    for name, (best, median) in results.items():
        ratio = raw_best / best
        print(f"{name:36} {best:11.1f} {median:8.1f} {ratio:15.2f}")


def _ensure_pg_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        if not conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": parsed.database}
        ):
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
