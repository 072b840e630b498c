"""Engine/session set-up for the app and the CLI, and running the migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if revision in ("head", "heads"):
        _seed(engine)


def _seed(engine: Engine) -> None:
    """Rows the application needs to exist (built-in roles, the system user); never overwrites
    edits."""
    from sqlalchemy.orm import Session

    from crm_domain.roles import ensure_built_in_roles
    from crm_domain.users import ensure_system_user

    with Session(engine) as session, session.begin():
        ensure_built_in_roles(session)
        ensure_system_user(session)


def autogenerate(engine: Engine, message: str) -> None:
    """Developer helper: write a new migration from the models' difference to the database."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
