"""Mode `jwt` (product 8.1): `authorization: Bearer <JWT>` checked against a JWKS file.

Keys come from BOOKING_AUTH_JWKS_FILE, reread within seconds of a change (WatchedFile), never
fetched on the request path. Each key is pinned to one algorithm, RS256, ES256 or EdDSA, so a
token cannot choose `none`, HMAC or another key type. `iss`, `aud`, `exp` and `sub` are
required, with 60 s of leeway on the times. The caller is `sub`; its roles the `roles` claim.
"""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import jwt

from booking_server.domain.errors import UnauthenticatedError
from booking_server.rpc.auth import Caller, bearer_token
from booking_server.rpc.watched_file import WatchedFile

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


def parse_jwks(document: bytes) -> dict[str, jwt.PyJWK]:
    """The usable keys of a JWKS document by key id; keys of other algorithms are left out."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in json.loads(document)["keys"]:
        key = jwt.PyJWK(entry)
        if key.algorithm_name in ALLOWED_ALGORITHMS:
            keys[key.key_id or ""] = key
    if not keys:
        raise ValueError("the JWKS holds no RS256, ES256 or EdDSA key")
    return keys


class JwtAuthenticator:
    def __init__(self, keys: WatchedFile[dict[str, jwt.PyJWK]], *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    @classmethod
    def from_file(cls, path: Path, *, issuer: str, audience: str) -> JwtAuthenticator:
        return cls(WatchedFile(path, parse_jwks), issuer=issuer, audience=audience)

    @property
    def keys(self) -> WatchedFile[dict[str, jwt.PyJWK]]:
        return self._keys

    def authenticate(self, context: grpc.ServicerContext) -> Caller:
        token = bearer_token(context)
        try:
            key = self._key_for(jwt.get_unverified_header(token).get("kid"))
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm_name],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            # The exception names the failed check (expired, audience...), never the token.
            raise UnauthenticatedError(f"invalid token: {exc}") from None
        return Caller(name=_subject(claims), roles=_roles(claims))

    def _key_for(self, key_id: object) -> jwt.PyJWK:
        keys = self._keys.value
        if key_id is None and len(keys) == 1:
            return next(iter(keys.values()))
        key = keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise UnauthenticatedError("invalid token: unknown signing key")
        return key


def _subject(claims: dict[str, object]) -> str:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise UnauthenticatedError("invalid token: sub must be a non-empty string")
    return subject


def _roles(claims: dict[str, object]) -> frozenset[str]:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise UnauthenticatedError("invalid token: roles must be a list of strings")
    return frozenset(roles)
