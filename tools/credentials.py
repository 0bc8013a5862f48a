"""Throwaway credentials for trying every auth mode locally and for the tests (never production).

    python -m tools.credentials make DIR     # CA, server and client certificates, JWT key + JWKS
    python -m tools.credentials token DIR --sub alice --role booking.reader [--role ...] [--ttl 3600]

`make` writes into DIR: ca.pem/ca-key.pem (a CA), server.pem/server-key.pem (for localhost and
127.0.0.1), client.pem/client-key.pem (SPIFFE id spiffe://booking.local/client, CN "client"),
roles.json (that client -> every role), jwt-key.pem and jwks.json (an ES256 key, kid "dev"),
and env files for `make run`: jwt.env and mtls.env. `token` prints a JWT signed with that key
for issuer ISSUER and audience AUDIENCE below.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER = "https://issuer.booking.local"
AUDIENCE = "booking-service"
KEY_ID = "dev"
CLIENT_SPIFFE_ID = "spiffe://booking.local/client"
ALL_ROLES = ("booking.reader", "booking.booker", "booking.operator", "directory.reader", "directory.writer")
VALID_DAYS = 30


@dataclass(frozen=True, slots=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_ca(common_name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return Issued(certificate, key)


def issue(ca: Issued, common_name: str, *, names: list[x509.GeneralName], server: bool) -> Issued:
    """A leaf certificate signed by `ca`, for a server (TLS server auth) or a client."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(certificate, key)


def write_pair(directory: Path, stem: str, issued: Issued) -> None:
    (directory / f"{stem}.pem").write_bytes(_pem_cert(issued.certificate))
    key_path = directory / f"{stem}-key.pem"
    key_path.write_bytes(_pem_key(issued.key))
    key_path.chmod(0o600)


def server_names() -> list[x509.GeneralName]:
    return [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def client_names(spiffe_id: str) -> list[x509.GeneralName]:
    return [x509.UniformResourceIdentifier(spiffe_id)]


def jwks_document(key: ec.EllipticCurvePrivateKey, key_id: str = KEY_ID) -> dict[str, object]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": key_id, "alg": "ES256", "use": "sig"})
    return {"keys": [public]}


def mint_token(
    key: ec.EllipticCurvePrivateKey,
    *,
    subject: str,
    roles: list[str],
    ttl_seconds: int = 3600,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    key_id: str = KEY_ID,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer, "aud": audience, "sub": subject, "roles": roles,
        "iat": now, "exp": now + ttl_seconds, "jti": uuid.uuid4().hex,
    }  # fmt: skip
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": key_id})


def make_all(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca("booking dev CA")
    write_pair(directory, "ca", ca)
    write_pair(directory, "server", issue(ca, "localhost", names=server_names(), server=True))
    write_pair(directory, "client", issue(ca, "client", names=client_names(CLIENT_SPIFFE_ID), server=False))
    (directory / "roles.json").write_text(json.dumps({CLIENT_SPIFFE_ID: list(ALL_ROLES)}, indent=2) + "\n")
    jwt_key = ec.generate_private_key(ec.SECP256R1())
    (directory / "jwt-key.pem").write_bytes(_pem_key(jwt_key))
    (directory / "jwks.json").write_text(json.dumps(jwks_document(jwt_key), indent=2) + "\n")
    d = directory.resolve()
    (directory / "jwt.env").write_text(
        f"BOOKING_AUTH_MODE=jwt\nBOOKING_AUTH_JWKS_FILE={d}/jwks.json\n"
        f"BOOKING_AUTH_ISSUER={ISSUER}\nBOOKING_AUTH_AUDIENCE={AUDIENCE}\n"
        f"BOOKING_TLS_CERT_FILE={d}/server.pem\nBOOKING_TLS_KEY_FILE={d}/server-key.pem\n"
    )
    (directory / "mtls.env").write_text(
        f"BOOKING_AUTH_MODE=mtls\nBOOKING_AUTH_ROLES_FILE={d}/roles.json\n"
        f"BOOKING_TLS_CERT_FILE={d}/server.pem\nBOOKING_TLS_KEY_FILE={d}/server-key.pem\n"
        f"BOOKING_TLS_CLIENT_CA_FILE={d}/ca.pem\n"
    )


def load_jwt_key(directory: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key((directory / "jwt-key.pem").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.credentials", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="write a CA, certificates, a JWT key and its JWKS")
    make.add_argument("directory", type=Path)
    token = commands.add_parser("token", help="print a JWT signed with DIR/jwt-key.pem")
    token.add_argument("directory", type=Path)
    token.add_argument("--sub", required=True, help="the caller")
    token.add_argument("--role", action="append", default=[], help="a role (repeat for several)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    args = parser.parse_args(argv)
    if args.command == "make":
        make_all(args.directory)
        print(f"credentials written to {args.directory}")
    else:
        print(
            mint_token(load_jwt_key(args.directory), subject=args.sub, roles=args.role, ttl_seconds=args.ttl)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
