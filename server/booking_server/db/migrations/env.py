"""Alembic environment: the engine comes from the caller (booking-service migrate, tests)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from booking_server.db.models import Base

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        # A migration may rewrite a large table: the serving bound on statements (engine.py)
        # does not apply to it. Local to this transaction, so the pooled connection keeps its own.
        connection.execute(text("SELECT set_config('statement_timeout', '0', true)"))
        context.run_migrations()
    connection.commit()
