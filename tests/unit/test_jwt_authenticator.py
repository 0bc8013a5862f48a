"""Mode `jwt` (product 8.1): pinned algorithms, iss/aud/exp, roles claim, keys reread on change."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jwt
import pytest
from booking_server.domain.errors import UnauthenticatedError
from booking_server.rpc.auth_jwt import JwtAuthenticator
from cryptography.hazmat.primitives.asymmetric import ec

from tools.credentials import AUDIENCE, ISSUER, jwks_document, mint_token


class FakeContext:
    def __init__(self, token: str | None) -> None:
        self._metadata = () if token is None else (("authorization", f"Bearer {token}"),)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def _authenticator(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> JwtAuthenticator:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_document(key)))
    return JwtAuthenticator.from_file(path, issuer=ISSUER, audience=AUDIENCE)


def _authenticate(auth: JwtAuthenticator, token: str | None) -> object:
    return auth.authenticate(FakeContext(token))  # type: ignore[arg-type]


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_a_valid_token_names_its_subject_and_roles(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    auth = _authenticator(tmp_path, key)

    caller = auth.authenticate(FakeContext(mint_token(key, subject="svc-a", roles=["booking.reader"])))  # type: ignore[arg-type]

    assert caller.name == "svc-a"
    assert caller.roles == frozenset({"booking.reader"})


def test_a_token_without_roles_claim_has_no_roles(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    auth = _authenticator(tmp_path, key)
    now = int(time.time())
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60},
        key,
        algorithm="ES256",
        headers={"kid": "dev"},
    )

    assert auth.authenticate(FakeContext(token)).roles == frozenset()  # type: ignore[arg-type]


def _hs256_token(key: ec.EllipticCurvePrivateKey) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60}
    return jwt.encode(
        claims, "a-shared-secret-of-at-least-32-bytes!!", algorithm="HS256", headers={"kid": "dev"}
    )


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda k: None, id="no token"),
        pytest.param(lambda k: "not-a-jwt", id="malformed"),
        pytest.param(
            lambda k: mint_token(k, subject="x", roles=[], ttl_seconds=-120), id="expired past leeway"
        ),
        pytest.param(
            lambda k: mint_token(k, subject="x", roles=[], audience="someone-else"), id="wrong audience"
        ),
        pytest.param(
            lambda k: mint_token(k, subject="x", roles=[], issuer="https://evil"), id="wrong issuer"
        ),
        pytest.param(
            lambda k: mint_token(ec.generate_private_key(ec.SECP256R1()), subject="x", roles=[]),
            id="other key",
        ),
        pytest.param(_hs256_token, id="HS256"),
        pytest.param(
            lambda k: jwt.encode(
                {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
                None,
                algorithm="none",
            ),
            id="alg none",
        ),
        pytest.param(lambda k: mint_token(k, subject="x", roles="booking.reader"), id="roles not a list"),  # type: ignore[arg-type]
    ],
)
def test_bad_credentials_are_unauthenticated(
    tmp_path: Path, key: ec.EllipticCurvePrivateKey, make_token: object
) -> None:
    auth = _authenticator(tmp_path, key)

    with pytest.raises(UnauthenticatedError):
        _authenticate(auth, make_token(key))  # type: ignore[operator]


def test_an_expired_token_within_the_60_s_leeway_is_accepted(
    tmp_path: Path, key: ec.EllipticCurvePrivateKey
) -> None:
    auth = _authenticator(tmp_path, key)

    assert _authenticate(auth, mint_token(key, subject="x", roles=[], ttl_seconds=-30))


def test_a_rotated_jwks_file_is_in_force_after_a_refresh(
    tmp_path: Path, key: ec.EllipticCurvePrivateKey
) -> None:
    auth = _authenticator(tmp_path, key)
    new_key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_document(new_key)))
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))  # a new mtime on any filesystem

    assert auth.keys.refresh() is True
    assert _authenticate(auth, mint_token(new_key, subject="x", roles=[]))
    with pytest.raises(UnauthenticatedError):
        _authenticate(auth, mint_token(key, subject="x", roles=[]))


def test_a_broken_jwks_file_keeps_the_previous_keys(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    auth = _authenticator(tmp_path, key)
    (tmp_path / "jwks.json").write_text("{not json")

    assert auth.keys.refresh() is False
    assert _authenticate(auth, mint_token(key, subject="x", roles=[]))
