"""Which field a unique constraint refused, read from the database's own error.

The services check uniqueness before they write (a clear 422 on the field), but two requests
can pass that check at the same moment; the database constraint then has the last word. This
turns its error back into the same field-level message, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

ALREADY_USED = "Already used by another record."
# SQLite: "UNIQUE constraint failed: customer.tax_id" (several columns: "t.a, t.b")
_SQLITE = re.compile(r"UNIQUE constraint failed: ([\w., ]+)")
# PostgreSQL: 'DETAIL:  Key (tax_id)=(9132...) already exists.'
_POSTGRES = re.compile(r"Key \(([^)]+)\)=")


def refused_fields(error: IntegrityError, table: str, fields: tuple[str, ...]) -> list[str]:
    """The fields among `fields` (columns of `table`) whose unique constraint `error` reports;
    empty when the error is about something else (a foreign key, another table)."""
    text = str(error.orig)
    columns: list[str] = []
    sqlite = _SQLITE.search(text)
    if sqlite:
        for qualified in sqlite.group(1).split(","):
            owner, _, column = qualified.strip().rpartition(".")
            if owner == table:
                columns.append(column)
    postgres = _POSTGRES.search(text)
    if postgres and _constraint_table(error) in (table, None):
        columns.extend(column.strip().strip('"') for column in postgres.group(1).split(","))
    return [column for column in dict.fromkeys(columns) if column in fields]


def _constraint_table(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "table_name", None) if diag is not None else None
