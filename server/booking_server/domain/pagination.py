"""Page sizes and opaque page tokens shared by every list RPC (api-contract: default 50, max 500).

A page token is urlsafe base64 (unpadded) of a small JSON object of strings: the keyset
position of the last item returned plus a fingerprint of the request's filters. The token is
opaque to callers but not secret; it carries no authority. Every value in it is checked by
the caller (a UUID must be a UUID) and reaches SQL only as a bound parameter, so a forged
token can at most start a listing somewhere else, never inject anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping

from booking_server.domain.errors import FieldViolation
from booking_server.domain.validation import has_control_characters

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
PAGE_SIZE_FIELD = "page_size"
PAGE_TOKEN_FIELD = "page_token"  # noqa: S105 - a field name, not a secret
# Our own tokens are a few hundred characters at most; refusing longer input early keeps a
# hostile caller from making us decode and parse megabytes.
MAX_PAGE_TOKEN_CHARS = 2048
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def resolve_page_size(page_size: int, violations: list[FieldViolation]) -> int:
    """The page size to use: 0 means the default; outside 0..500 is a violation."""
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        violations.append(
            FieldViolation(
                PAGE_SIZE_FIELD,
                f"must be between 1 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})",
            )
        )
        return DEFAULT_PAGE_SIZE
    return page_size


def encode_page_token(values: Mapping[str, str]) -> str:
    """An opaque token for `values`; decode_page_token gives them back."""
    payload = json.dumps(dict(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_page_token(
    token: str, *, keys: tuple[str, ...], violations: list[FieldViolation]
) -> dict[str, str] | None:
    """The values of a token made by encode_page_token with exactly `keys`.

    An empty token means "first page" and gives None without a violation. Anything that is
    not such a token gives None and a violation on `page_token`; the caller must still check
    each value it uses (reject_page_token reports a bad one the same way).
    """
    if not token:
        return None
    values = _decode(token)
    if values is None or set(values) != set(keys):
        reject_page_token(violations)
        return None
    return values


def reject_page_token(violations: list[FieldViolation]) -> None:
    """Report a page token the RPC did not issue (or issued for other filters)."""
    violations.append(
        FieldViolation(PAGE_TOKEN_FIELD, "is not a page token returned by this RPC for these filters")
    )


def filters_fingerprint(filters: Mapping[str, str]) -> str:
    """A short digest of a request's filters, stored in its page tokens.

    A token replayed with different filters would silently page through another listing
    from an unrelated position (AIP-158); comparing fingerprints turns that into an error.
    """
    canonical = json.dumps(dict(filters), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _decode(token: str) -> dict[str, str] | None:
    if len(token) > MAX_PAGE_TOKEN_CHARS or _TOKEN_ALPHABET.fullmatch(token) is None:
        return None
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        parsed = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(parsed, dict):
        return None
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in parsed.items()):
        return None
    # None of our tokens holds one, and a NUL would reach PostgreSQL (which refuses it in text).
    if any(has_control_characters(value) for value in parsed.values()):
        return None
    return parsed
