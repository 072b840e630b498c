"""The inbox's queries: one tab of tasks, filtered, in pages that stay fast at any depth.

Pages are keyset pages (`after` = the last row's sort key), so page 500 costs what page 1
costs, and the open tabs walk the `(status, assignee_id|lane, due_at)` indexes in order:
overdue first, then soonest due, then the highest priority. Tab counts stop at COUNT_CAP so a
queue of 200,000 tasks is counted in bounded time ("1000+").
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from core import clock
from core.digits import is_digits
from core.errors import Forbidden
from crm_domain.access import Actor
from crm_domain.collections import get_collection
from crm_domain.customers import Customer
from crm_domain.record_service import scoped_select
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from web.ui.inbox_search import search_clause

TABS = ("mine", "available", "completed")
DUE_FILTERS = ("overdue", "today", "week", "none")
PRIORITY_FILTERS = ("high", "normal")
HIGH_PRIORITY = 5
COUNT_CAP = 1000
PER_PAGE = 25
CUSTOMER_MATCH_LIMIT = 500


@dataclass
class InboxFilters:
    process: str = ""
    customer: str = ""
    due: str = ""
    priority: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> InboxFilters:
        def pick(name: str, allowed: tuple[str, ...] | None = None) -> str:
            value = (args.get(name) or "").strip()[:100]
            return value if allowed is None or value in allowed else ""

        return cls(
            process=pick("process"),
            customer=pick("customer"),
            due=pick("due", DUE_FILTERS),
            priority=pick("priority", PRIORITY_FILTERS),
            q=pick("q"),
        )

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class InboxRow:
    task: HumanTask
    process_name: str
    customer: Customer | None
    overdue: bool


@dataclass
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


def tab_parts(actor: Actor, tab: str) -> list:
    """The tab as index ranges: one per lane for "available" (a lane IN (...) would make the
    database sort the whole queue; one ordered range per lane stops after a page)."""
    user = actor.user
    if tab == "mine":
        return [and_(HumanTask.status == "open", HumanTask.assignee_id == user.id)]
    if tab == "available":
        return [
            and_(
                HumanTask.status == "open",
                HumanTask.lane == role,
                HumanTask.assignee_id.is_(None),
            )
            for role in sorted(set(user.roles))
        ]
    return [and_(HumanTask.completed_by_id == user.id, HumanTask.status == "completed")]


def visible_customers(actor: Actor) -> Select | None:
    """Customers in the user's data scope; None for a role that may not read customers."""
    try:
        return scoped_select(actor, get_collection("customers"))
    except Forbidden:
        return None


def _customer_instances(session: Session, actor: Actor, text: str):
    """Instance ids about customers the user may see whose name/short name/pinyin matches."""
    customers = visible_customers(actor)
    if customers is None:
        return select(ProcessInstance.id).where(False)
    pattern = f"%{text.lower()}%"
    ids = session.scalars(
        customers.with_only_columns(Customer.id)
        .where(
            or_(
                func.lower(Customer.name).like(pattern),
                func.lower(Customer.short_name).like(pattern),
                func.lower(Customer.pinyin).like(pattern),
            )
        )
        .limit(CUSTOMER_MATCH_LIMIT)
    ).all()
    return select(ProcessInstance.id).where(
        ProcessInstance.subject_type == "customer",
        ProcessInstance.subject_id.in_([str(i) for i in ids]),
    )


def _filtered(session: Session, actor: Actor, query: Select, filters: InboxFilters) -> Select:
    now = clock.now()
    if filters.process:
        query = query.where(HumanTask.process_key == filters.process)
    if filters.customer:
        query = query.where(
            HumanTask.instance_id.in_(_customer_instances(session, actor, filters.customer))
        )
    if filters.due == "overdue":
        query = query.where(HumanTask.due_at < now)
    elif filters.due == "today":
        query = query.where(HumanTask.due_at < now + timedelta(days=1))
    elif filters.due == "week":
        query = query.where(HumanTask.due_at < now + timedelta(days=7))
    elif filters.due == "none":
        query = query.where(HumanTask.due_at.is_(None))
    if filters.priority == "high":
        query = query.where(HumanTask.priority >= HIGH_PRIORITY)
    elif filters.priority == "normal":
        query = query.where(HumanTask.priority < HIGH_PRIORITY)
    if filters.q:
        # Equality on the few matching names/keys, not LIKE on every row (web/ui/inbox_search.py).
        query = query.where(search_clause(session, filters.q))
    return query


def encode_cursor(task: HumanTask, tab: str) -> str:
    if tab == "completed":
        key = [task.completed_at.isoformat() if task.completed_at else None, task.id]
    else:
        key = [task.due_at.isoformat() if task.due_at else None, task.priority, task.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not isinstance(key, list):
            return None
        if key[0] is not None:
            key[0] = datetime.fromisoformat(key[0])
        return key
    except (ValueError, TypeError, IndexError):
        return None  # a mangled cursor shows the first page rather than an error


def _after(tab: str, key: list):
    if tab == "completed" and len(key) == 2:
        done_at, task_id = key
        if done_at is None:
            return HumanTask.id < task_id
        return or_(
            HumanTask.completed_at < done_at,
            and_(HumanTask.completed_at == done_at, HumanTask.id < task_id),
        )
    if tab != "completed" and len(key) == 3:
        due_at, priority, task_id = key
        same_due_later = or_(
            HumanTask.priority < priority,
            and_(HumanTask.priority == priority, HumanTask.id > task_id),
        )
        if due_at is None:
            return and_(HumanTask.due_at.is_(None), same_due_later)
        return or_(
            HumanTask.due_at > due_at,
            HumanTask.due_at.is_(None),
            and_(HumanTask.due_at == due_at, same_due_later),
        )
    return None


def _ordered(query: Select, tab: str) -> Select:
    if tab == "completed":
        return query.order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    return query.order_by(
        HumanTask.due_at.asc().nulls_last(), HumanTask.priority.desc(), HumanTask.id
    )


def _capped_count(query: Select):
    limited = query.with_only_columns(HumanTask.id).order_by(None).limit(COUNT_CAP + 1)
    return select(func.count()).select_from(limited.subquery()).scalar_subquery()


def tab_counts(session: Session, parts_by_tab: dict[str, list[Select]]) -> dict[str, int]:
    """Every tab's count (at most COUNT_CAP + 1) in one round trip to the database."""
    columns, owners = [], []
    for name, queries in parts_by_tab.items():
        for query in queries:
            columns.append(_capped_count(query))
            owners.append(name)
    counts = dict.fromkeys(parts_by_tab, 0)
    if columns:
        for name, value in zip(owners, session.execute(select(*columns)).one(), strict=True):
            counts[name] = min(counts[name] + (value or 0), COUNT_CAP + 1)
    return counts


def process_names(session: Session) -> dict[str, str]:
    """key → name of the newest version of each deployed process (read once per session)."""
    cached = session.info.get("weft_process_names")
    if cached is not None:
        return cached
    rows = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name).order_by(
            ProcessDefinition.key, ProcessDefinition.version
        )
    ).all()
    names = session.info["weft_process_names"] = {key: name or key for key, name in rows}
    return names


def _sort_key(tab: str):
    """The SQL order of `_ordered`, in Python, to merge the pages of several lanes."""
    if tab == "completed":
        return lambda t: (-(t.completed_at.timestamp() if t.completed_at else 0), _desc(t.id))
    far = datetime.max.replace(tzinfo=UTC)
    return lambda t: (t.due_at is None, t.due_at or far, -t.priority, t.id)


def _desc(text: str) -> tuple:
    return tuple(-ord(c) for c in text)


def inbox_page(
    session: Session,
    actor: Actor,
    tab: str,
    filters: InboxFilters,
    cursor: str | None = None,
    per_page: int = PER_PAGE,
) -> InboxPage:
    tab = tab if tab in TABS else "mine"

    def part_queries(name: str) -> list[Select]:
        return [
            _filtered(session, actor, select(HumanTask).where(part), filters)
            for part in tab_parts(actor, name)
        ]

    counts = tab_counts(session, {name: part_queries(name) for name in TABS})
    key = _decode_cursor(cursor) if cursor else None
    after = _after(tab, key) if key is not None else None
    tasks: list[HumanTask] = []
    for query in part_queries(tab):
        if after is not None:
            query = query.where(after)
        tasks.extend(session.scalars(_ordered(query, tab).limit(per_page + 1)))
    tasks.sort(key=_sort_key(tab))
    more = len(tasks) > per_page
    tasks = tasks[:per_page]
    return InboxPage(
        rows=_rows(session, actor, tasks),
        next_cursor=encode_cursor(tasks[-1], tab) if more else None,
        counts=counts,
    )


def _rows(session: Session, actor: Actor, tasks: list[HumanTask]) -> list[InboxRow]:
    """Each task with its process name and subject customer: two queries for the whole page."""
    names = process_names(session)
    subjects = dict(
        session.execute(
            select(ProcessInstance.id, ProcessInstance.subject_id).where(
                ProcessInstance.id.in_({t.instance_id for t in tasks}),
                ProcessInstance.subject_type == "customer",
            )
        ).all()
    )
    customer_ids = {int(s) for s in subjects.values() if s and is_digits(s)}
    customers = {}
    visible = visible_customers(actor)
    if customer_ids and visible is not None:
        customers = {c.id: c for c in session.scalars(visible.where(Customer.id.in_(customer_ids)))}
    now = clock.now()
    rows = []
    for task in tasks:
        subject = subjects.get(task.instance_id)
        customer = customers.get(int(subject)) if subject and is_digits(subject) else None
        overdue = task.status == "open" and task.due_at is not None and task.due_at < now
        rows.append(
            InboxRow(task, names.get(task.process_key, task.process_key), customer, overdue)
        )
    return rows
