"""The schema revision(s) a database is at, as alembic recorded them."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text


def database_revisions(connection: Connection) -> list[str]:
    """Sorted alembic heads of the database; [] when it was never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return sorted(row[0] for row in rows)
