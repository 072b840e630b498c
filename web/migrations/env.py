"""Alembic environment: the web layer is the composition root that knows every model."""

from __future__ import annotations

from alembic import context

from core.db import Base
from web import models_registry  # noqa: F401  (imports every model onto Base.metadata)

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Run migrations through `weft db upgrade` (web.database.upgrade).")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
