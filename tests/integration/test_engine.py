"""The engine the service builds: errors never carry statement parameters (personal data)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError


def test_a_database_error_does_not_repeat_the_statement_parameters(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        conn.execute(text("SELECT 1 / 0 WHERE CAST(:name AS text) IS NOT NULL"), {"name": "Asha Secret"})

    assert "division by zero" in str(raised.value)
    assert "Asha Secret" not in str(raised.value)
