"""How background and batch work logs an unexpected failure it survives.

The full text of a database error carries the statement's parameters (student ids, the home
address), and personal data must never reach the logs. The first line holds the cause
("duplicate key value violates ...", "could not serialize ..."), which is what an operator
needs to decide what to do; the parameters and the SQL are on later lines.
"""

from __future__ import annotations


def failure_fields(exc: BaseException) -> dict[str, str]:
    first_line = next(iter(str(exc).splitlines()), "")
    return {"error_type": type(exc).__name__, "error": first_line[:300]}
