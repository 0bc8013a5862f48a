"""Authentication and authorization (product 8.1): one interceptor, before the error boundary.

For every method of our services it finds the caller (the mode's Authenticator), then checks
the role table (rpc/roles.py). Refusals are UNAUTHENTICATED or PERMISSION_DENIED from the one
error table and are decided before the servicer runs, so before any validation, lookup or
write. Health and reflection pass untouched. The caller's name is bound to the log context of
the RPC (never a token or a certificate) and to CURRENT_CALLER for the rate limiter.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

import grpc
import structlog

from booking_server.domain.errors import PermissionDeniedError, UnauthenticatedError
from booking_server.rpc.handlers import AroundInterceptor, no_message_hook, peer_host, refuse
from booking_server.rpc.roles import ROLE_TABLE, is_open, required_role

AUTHORIZATION_KEY = "authorization"
BEARER_PREFIX = "Bearer "
ALL_ROLES = frozenset(ROLE_TABLE)


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    roles: frozenset[str]


CURRENT_CALLER: ContextVar[Caller | None] = ContextVar("booking_caller", default=None)


def caller_of(context: grpc.ServicerContext) -> str:
    """The authenticated caller of this RPC; the peer's host when none was named."""
    caller = CURRENT_CALLER.get()
    return caller.name if caller is not None else peer_host(context.peer())


class Authenticator(Protocol):
    def authenticate(self, context: grpc.ServicerContext) -> Caller:
        """The caller of this RPC; raises UnauthenticatedError when the credentials do not hold."""


def bearer_token(context: grpc.ServicerContext) -> str:
    """The token of the `authorization: Bearer ...` header; UNAUTHENTICATED when absent."""
    for key, value in context.invocation_metadata():
        if key == AUTHORIZATION_KEY and isinstance(value, str) and value.startswith(BEARER_PREFIX):
            return value[len(BEARER_PREFIX) :].strip()
    raise UnauthenticatedError("missing credentials: send authorization: Bearer <token>")


class PeerAuthenticator:
    """Mode `none`: no credentials; the caller is the peer's address and may call everything."""

    def authenticate(self, context: grpc.ServicerContext) -> Caller:
        return Caller(name=peer_host(context.peer()), roles=ALL_ROLES)


class SecretAuthenticator:
    """The built-in directory (`self`): its loopback server accepts only this process's secret.

    The secret is made at start and never leaves the process, so another local process cannot
    use the internal port to bypass the public server's authentication.
    """

    def __init__(self, secret: str, caller: Caller) -> None:
        self._secret = secret.encode()
        self._caller = caller

    def authenticate(self, context: grpc.ServicerContext) -> Caller:
        if not hmac.compare_digest(bearer_token(context).encode(), self._secret):
            raise UnauthenticatedError("invalid credentials")
        return self._caller


def authorize(caller: Caller, method: str) -> None:
    """PERMISSION_DENIED unless the caller holds the role of `method`; a method in no row is denied."""
    role = required_role(method)
    if role is None:
        raise PermissionDeniedError("the method is not open to any role")
    if role not in caller.roles:
        raise PermissionDeniedError(f"the caller lacks the role {role}", metadata={"required_role": role})


class AuthInterceptor(AroundInterceptor):
    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    def applies_to(self, method: str) -> bool:
        return not is_open(method)

    @contextmanager
    def around(
        self, method: str, context: grpc.ServicerContext, *, streaming: bool
    ) -> Iterator[Callable[[], None]]:
        caller: Caller | None = None
        try:
            caller = self._authenticator.authenticate(context)
            authorize(caller, method)
        except (UnauthenticatedError, PermissionDeniedError) as error:
            refuse(context, error, method=method, caller=caller.name if caller else None)
        token = CURRENT_CALLER.set(caller)
        try:
            with structlog.contextvars.bound_contextvars(caller=caller.name):
                yield no_message_hook
        finally:
            CURRENT_CALLER.reset(token)
