"""Page sizes and page tokens shared by every list RPC."""

from __future__ import annotations

import base64
import json

import pytest
from booking_server.domain.errors import FieldViolation
from booking_server.domain.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decode_page_token,
    encode_page_token,
    filters_fingerprint,
    resolve_page_size,
)
from hypothesis import given
from hypothesis import strategies as st

KEYS = ("after_id", "filters")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def test_a_page_size_of_zero_means_the_default_of_50() -> None:
    violations: list[FieldViolation] = []
    assert resolve_page_size(0, violations) == DEFAULT_PAGE_SIZE == 50
    assert violations == []


@pytest.mark.parametrize("size", [1, 50, 500])
def test_page_sizes_from_1_to_500_are_used_as_given(size: int) -> None:
    violations: list[FieldViolation] = []
    assert resolve_page_size(size, violations) == size
    assert violations == []


@pytest.mark.parametrize("size", [-1, MAX_PAGE_SIZE + 1, 2**31 - 1])
def test_a_negative_or_too_large_page_size_is_a_violation_on_page_size(size: int) -> None:
    violations: list[FieldViolation] = []
    resolve_page_size(size, violations)
    assert [v.field for v in violations] == ["page_size"]


# What our tokens hold: ids, timestamps, digests and names, none with a control character.
TOKEN_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")))


@given(st.dictionaries(st.sampled_from(KEYS), TOKEN_TEXT, min_size=2, max_size=2))
def test_a_token_decodes_to_exactly_the_values_it_was_made_from(values: dict[str, str]) -> None:
    violations: list[FieldViolation] = []
    assert decode_page_token(encode_page_token(values), keys=KEYS, violations=violations) == values
    assert violations == []


@pytest.mark.parametrize("control", ["\x00", "\n", "\x1b"])
def test_a_token_carrying_a_control_character_is_refused(control: str) -> None:
    """A NUL would otherwise reach PostgreSQL, which refuses it in text (INTERNAL)."""
    violations: list[FieldViolation] = []
    token = encode_page_token({"after_id": f"a{control}b", "filters": "f"})
    assert decode_page_token(token, keys=KEYS, violations=violations) is None
    assert [v.field for v in violations] == ["page_token"]


@given(st.dictionaries(st.text(), st.text(), max_size=4))
def test_a_token_is_made_of_url_safe_characters_without_padding(values: dict[str, str]) -> None:
    token = encode_page_token(values)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_an_empty_token_asks_for_the_first_page_without_a_violation() -> None:
    violations: list[FieldViolation] = []
    assert decode_page_token("", keys=KEYS, violations=violations) is None
    assert violations == []


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "%27%20OR%201=1--",
        "abc=",
        _b64(b"\xff\xfe\xfd"),
        _b64(b"not json"),
        _b64(b"[1, 2]"),
        _b64(json.dumps({"after_id": 1, "filters": "x"}).encode()),
        _b64(json.dumps({"after_id": "x"}).encode()),
        _b64(json.dumps({"after_id": "x", "filters": "y", "extra": "z"}).encode()),
        "A" * 5000,
    ],
)
def test_anything_but_a_token_of_the_expected_keys_is_a_violation_on_page_token(token: str) -> None:
    violations: list[FieldViolation] = []
    assert decode_page_token(token, keys=KEYS, violations=violations) is None
    assert [v.field for v in violations] == ["page_token"]


def test_the_filters_fingerprint_changes_with_any_filter_and_not_with_key_order() -> None:
    base = filters_fingerprint({"a": "1", "b": "2"})
    assert filters_fingerprint({"b": "2", "a": "1"}) == base
    assert filters_fingerprint({"a": "1", "b": "3"}) != base
