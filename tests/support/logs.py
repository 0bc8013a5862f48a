"""Capture structlog events whatever level the running test server configured.

The capture keeps the production processors that add data (context variables such as the
request id, and rendered exceptions), so tests see what the JSON log line would carry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.testing import LogCapture


@contextmanager
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    saved = structlog.get_config()
    capture = LogCapture()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.format_exc_info, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    try:
        yield capture.entries
    finally:
        structlog.configure(**saved)
