"""Databases of a test's own on the test PostgreSQL server."""

from __future__ import annotations

import uuid

import psycopg
from booking_server.db.engine import to_psycopg_url
from psycopg import sql
from sqlalchemy.engine import make_url


def create_empty_database(database_url: str) -> str:
    """A new, unmigrated database on the same server as `database_url`; returns its URL."""
    name = f"booking_e2e_{uuid.uuid4().hex[:12]}"
    url = make_url(to_psycopg_url(database_url))
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)
