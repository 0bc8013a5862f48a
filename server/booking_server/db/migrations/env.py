"""Alembic environment: the engine comes from the caller (booking-service migrate, tests)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from booking_server.db.models import Base

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
