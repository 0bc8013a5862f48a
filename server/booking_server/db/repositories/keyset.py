"""Keyset paging for listings ordered newest first, ties by id (purchases, certificates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_


def older_than(
    time_column: ColumnElement[Any], id_column: ColumnElement[Any], *, time_iso: str, last_id: str
) -> ColumnElement[bool]:
    """Rows after (time, id) in `ORDER BY time DESC, id DESC`: the page that follows a cursor."""
    time = datetime.fromisoformat(time_iso)
    return or_(time_column < time, and_(time_column == time, id_column < last_id))
