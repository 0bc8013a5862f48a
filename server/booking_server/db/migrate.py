"""Alembic, driven from code: upgrade to head, and tell whether a database is at head."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config_for_scripts() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def alembic_config(engine: Engine) -> Config:
    config = alembic_config_for_scripts()
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


@functools.cache
def _code_head() -> str | None:
    """The newest revision this code ships: fixed for the life of the process. Reading it
    parses every migration script, which the health probe must not do every few seconds."""
    return ScriptDirectory.from_config(alembic_config_for_scripts()).get_current_head()


def schema_is_current(engine: Engine) -> bool:
    head = _code_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current == head
