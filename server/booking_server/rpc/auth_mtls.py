"""Mode `mtls` (product 8.1): TLS with client certificates; roles from a file.

The TLS handshake has already verified the certificate against BOOKING_TLS_CLIENT_CA_FILE
(the server requires one), so this only names the caller: the certificate's SPIFFE id (a
`spiffe://` URI SAN), else its common name. Its roles come from BOOKING_AUTH_ROLES_FILE, a
JSON object of caller -> list of roles, reread when it changes. A caller absent from it is
known but holds no role.
"""

from __future__ import annotations

import json
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from booking_server.domain.errors import UnauthenticatedError
from booking_server.rpc.auth import Caller
from booking_server.rpc.watched_file import WatchedFile

RolesByCaller = dict[str, frozenset[str]]
SPIFFE_SCHEME = "spiffe://"


def parse_roles_file(document: bytes) -> RolesByCaller:
    data = json.loads(document)
    if not isinstance(data, dict):
        raise ValueError("the roles file must be a JSON object of caller -> list of roles")
    roles: RolesByCaller = {}
    for caller, names in data.items():
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"the roles of {caller!r} must be a list of strings")
        roles[caller] = frozenset(names)
    return roles


def certificate_identity(certificate: x509.Certificate) -> str | None:
    """The SPIFFE id of the certificate if it has one, else its common name."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    for uri in uris:
        if uri.startswith(SPIFFE_SCHEME):
            return uri
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names:
        value = common_names[0].value
        return value if isinstance(value, str) else value.decode()
    return None


class CertificateAuthenticator:
    def __init__(self, roles: WatchedFile[RolesByCaller]) -> None:
        self._roles = roles

    @classmethod
    def from_file(cls, path: Path) -> CertificateAuthenticator:
        return cls(WatchedFile(path, parse_roles_file))

    @property
    def roles(self) -> WatchedFile[RolesByCaller]:
        return self._roles

    def authenticate(self, context: grpc.ServicerContext) -> Caller:
        # grpcio lists each property's values; the peer presents one certificate.
        pems = context.auth_context().get("x509_pem_cert")
        pem = pems[0] if isinstance(pems, list) and pems else None
        identity = certificate_identity(x509.load_pem_x509_certificate(pem)) if pem else None
        if identity is None:
            raise UnauthenticatedError("missing credentials: a client certificate is required")
        return Caller(name=identity, roles=self._roles.value.get(identity, frozenset()))
