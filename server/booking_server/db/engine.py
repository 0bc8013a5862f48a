"""Engine construction and the database health probe."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url


def to_psycopg_url(url: str) -> str:
    """Accept plain `postgresql://` URLs too; the service always talks psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# No statement may run longer than this unless a caller's deadline bounds it tighter
# (UnitOfWork.limit_waits): a request whose caller has gone, or a background job gone wrong,
# cannot hold a connection and keep writing for minutes. Migrations lift it (migrations/env.py).
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 30.0


def build_engine(
    url: str, *, pool_size: int, statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS
) -> Engine:
    statement_timeout_ms = max(1, round(statement_timeout_seconds * 1000))
    return create_engine(
        to_psycopg_url(url),
        pool_size=pool_size,
        # A short burst beyond the pool is cheaper than queueing RPCs behind it.
        max_overflow=pool_size // 2,
        pool_timeout=5,
        # No ping on every checkout (it cost a round trip per unit of work on the hot path).
        # A connection the database dropped fails its first statement instead; SQLAlchemy then
        # recycles the whole pool, and the health probe (which uses this pool) does that within
        # one poll of the database coming back.
        pool_pre_ping=False,
        pool_recycle=1800,
        # Error messages must not carry statement parameters: they include students' names,
        # e-mails and phones, and the error boundary logs unexpected errors with their text.
        hide_parameters=True,
        # Fail fast when the database is gone, so health turns NOT_SERVING quickly.
        connect_args={"connect_timeout": 3, "options": f"-c statement_timeout={statement_timeout_ms}"},
    )


def database_is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not reachable" to the health probe
        return False
    return True
