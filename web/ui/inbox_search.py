"""The inbox search as equality on a tiny vocabulary, so it stays fast on a huge queue.

Task names and process keys come from the deployed BPMN files: a queue of 200,000 tasks has a
few dozen distinct names. `lower(name) LIKE '%经理%'` on the task table cannot use a b-tree
index (and a trigram index does not help two-character Chinese words), so PostgreSQL read the
whole lane — 0.4 s for a search that matched nothing. Instead the search is matched against
the distinct names first (a skip scan over `ix_human_task_name`: one index probe per distinct
name) and the process keys (the small `process_definition` table), and the tasks are then
filtered by `name IN (...)` / `process_key IN (...)`, which the `(status, lane, name, due_at,
...)` index of migration 0007_ui2 answers with an ordered range. Same results as the LIKE:
case-insensitive substring on the task name or the process key, or the instance number.
"""

from __future__ import annotations

import re

from sqlalchemy import false, or_, text
from sqlalchemy.orm import Session

from core.digits import as_id
from engine.models import HumanTask

# One index probe per distinct task name (a "loose index scan"); works on SQLite and PostgreSQL.
_DISTINCT_NAMES = text(
    """
    WITH RECURSIVE names(name) AS (
        SELECT min(name) FROM human_task
        UNION ALL
        SELECT (SELECT min(t.name) FROM human_task t WHERE t.name > names.name)
        FROM names WHERE names.name IS NOT NULL
    )
    SELECT name FROM names
    WHERE name IS NOT NULL AND lower(name) LIKE :pattern ESCAPE '\\'
    """
)
_MATCHING_KEYS = text(
    "SELECT DISTINCT key FROM process_definition WHERE lower(key) LIKE :pattern ESCAPE '\\'"
)


def search_clause(session: Session, q: str):
    """The WHERE clause for an inbox search `q` (already stripped, non-empty)."""
    cache = session.info.setdefault("weft_inbox_search", {})  # one lookup per request
    if q not in cache:
        cache[q] = _clause(session, q)
    return cache[q]


def _clause(session: Session, q: str):
    # `%` and `_` typed by the user are literal characters, not wildcards.
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", q.lower()) + "%"
    names = list(session.scalars(_DISTINCT_NAMES, {"pattern": pattern}))
    keys = list(session.scalars(_MATCHING_KEYS, {"pattern": pattern}))
    matches = []
    if names:
        matches.append(HumanTask.name.in_(names))
    if keys:
        matches.append(HumanTask.process_key.in_(keys))
    if as_id(q):
        matches.append(HumanTask.instance_id == as_id(q))
    return or_(*matches) if matches else false()
