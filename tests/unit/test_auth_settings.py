"""Product 8.1 at start: `none` only on loopback unless explicit; each mode names what it lacks."""

from __future__ import annotations

import pytest
from booking_server.config import ConfigError, is_loopback, load_settings, require_safe_to_serve


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.0.0.2:1", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        ("10.1.2.3:50051", False),
        ("booking.internal:50051", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_serving_without_credentials_off_loopback_is_refused_when_the_mode_is_unset() -> None:
    settings = load_settings({"BOOKING_LISTEN_ADDR": "0.0.0.0:50051"})

    with pytest.raises(ConfigError, match="BOOKING_AUTH_MODE is unset"):
        require_safe_to_serve(settings)


def test_serving_without_credentials_off_loopback_is_allowed_when_none_is_set_explicitly() -> None:
    require_safe_to_serve(
        load_settings({"BOOKING_LISTEN_ADDR": "0.0.0.0:50051", "BOOKING_AUTH_MODE": "none"})
    )


def test_the_default_on_loopback_needs_no_credentials() -> None:
    settings = load_settings({})

    require_safe_to_serve(settings)
    assert settings.auth_mode == "none"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOOKING_AUTH_MODE": "jwt"}, "BOOKING_AUTH_JWKS_FILE, BOOKING_AUTH_ISSUER, BOOKING_AUTH_AUDIENCE"),
        (
            {"BOOKING_AUTH_MODE": "mtls"},
            "BOOKING_TLS_CERT_FILE, BOOKING_TLS_CLIENT_CA_FILE, BOOKING_AUTH_ROLES_FILE",
        ),
        ({"BOOKING_TLS_CERT_FILE": "c.pem"}, "must be set together"),
        ({"BOOKING_AUTH_MODE": "basic"}, "must be one of none, jwt, mtls"),
        ({"BOOKING_RATE_LIMIT_PER_SECOND": "10", "BOOKING_RATE_LIMIT_BURST": "5"}, "BURST must be >="),
    ],
)
def test_an_incomplete_auth_configuration_stops_with_one_line_naming_what_is_missing(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)
