"""Every way a credential can be refused (401 with WWW-Authenticate), and RS256."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from loadgate.gateway import load_config
from tests.fixtures.gateway import RunningGateway
from tests.gateway.test_endpoints import LOGIN

PROTECTED = "/v1/users/profile"
DEFAULT_JWT = load_config().jwt


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": DEFAULT_JWT.issuer,
        "sub": "loadtest_user_7@example.com",
        "aud": DEFAULT_JWT.audiences[0],
        "iat": now,
        "exp": now + 600,
    }
    return {**base, **changes}


def hs256(secret: str = DEFAULT_JWT.secret, **changes: Any) -> str:
    return jwt.encode(claims(**changes), secret, algorithm="HS256")


def get(gateway: RunningGateway, headers: dict[str, str], path: str = PROTECTED) -> httpx.Response:
    return httpx.get(gateway.url(path), headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_hs256_token_is_accepted(gateway: RunningGateway) -> None:
    response = get(gateway, bearer(hs256()))
    assert response.status_code == 200
    assert response.json()["email"] == "loadtest_user_7@example.com"


def test_missing_credentials(gateway: RunningGateway) -> None:
    response = get(gateway, {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="loadgate"')
    assert "error=" not in response.headers["www-authenticate"]
    assert response.json()["error"] == "unauthorized"


# Tokens are made when each test runs, not when the module is collected: the
# suite may reach them more than their 10 minutes of validity later.
@pytest.mark.parametrize(
    ("make_token", "description"),
    [
        (lambda: "not-a-jwt", "malformed bearer token"),
        (lambda: "aaa.bbb.ccc", "malformed bearer token"),
        (lambda: hs256(exp=int(time.time()) - 60), "token expired"),
        (lambda: hs256(secret="some-other-secret-of-enough-length"),
         "token signature verification failed"),
        (lambda: hs256(aud="other-api"), "token audience not accepted"),
        (lambda: hs256(iss="https://evil.example.com"), "token issuer not accepted"),
        (lambda: jwt.encode(claims(), "", algorithm="none"), "token algorithm not accepted"),
    ],
    ids=["garbage", "bad-segments", "expired", "wrong-signature", "wrong-audience",
         "wrong-issuer", "alg-none"],
)  # fmt: skip
def test_invalid_bearer_tokens(
    gateway: RunningGateway, make_token: Callable[[], str], description: str
) -> None:
    response = get(gateway, bearer(make_token()))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="loadgate", error="invalid_token"')
    assert f'error_description="{description}"' in challenge
    assert response.json()["message"] == description


def test_a_token_without_expiry_is_refused(gateway: RunningGateway) -> None:
    token = jwt.encode(
        {k: v for k, v in claims().items() if k != "exp"}, DEFAULT_JWT.secret, algorithm="HS256"
    )
    assert get(gateway, bearer(token)).status_code == 401


def test_other_schemes_and_empty_bearer(gateway: RunningGateway) -> None:
    basic = get(gateway, {"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert 'error="invalid_request"' in basic.headers["www-authenticate"]
    assert get(gateway, {"Authorization": "Bearer"}).status_code == 401


def test_api_keys(gateway: RunningGateway) -> None:
    good = get(gateway, {"X-API-Key": "lf_test_key_8f3a92_gateway"}, "/v1/orders/100001")
    assert good.status_code == 200
    bad = get(gateway, {"X-API-Key": "lf_test_key_8f3a92_gatewaX"}, "/v1/orders/100001")
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'ApiKey realm="loadgate", error="invalid_key"'


def test_bad_credentials_are_refused_on_public_routes_too(gateway: RunningGateway) -> None:
    response = get(gateway, bearer(hs256(aud="other-api")), "/v1/products/1042")
    assert response.status_code == 401
    assert get(gateway, {}, "/v1/products/1042").status_code == 200


def test_a_spoofed_consumer_header_does_not_reach_the_upstream(gateway: RunningGateway) -> None:
    headers = {**bearer(hs256()), "X-Consumer-Id": "admin@example.com"}
    assert get(gateway, headers).json()["email"] == "loadtest_user_7@example.com"


@pytest.fixture
def rsa_keys(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path = tmp_path / "private.pem"
    public_path = tmp_path / "public.pem"
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, private_path, public_path


def test_rs256(
    gateway_factory: Callable[..., RunningGateway],
    rsa_keys: tuple[rsa.RSAPrivateKey, Path, Path],
) -> None:
    key, private_path, public_path = rsa_keys
    running = gateway_factory(
        f"""
        [jwt]
        algorithm = "RS256"
        public_key_file = "{public_path}"
        private_key_file = "{private_path}"
        """
    )
    issued = httpx.post(running.url("/v1/auth/token"), json=LOGIN).json()["access_token"]
    assert jwt.get_unverified_header(issued)["alg"] == "RS256"
    assert get(running, bearer(issued)).status_code == 200
    signed_here = jwt.encode(claims(), key, algorithm="RS256")
    assert get(running, bearer(signed_here)).status_code == 200
    # An HS256 token "signed" with the public key must not pass (algorithm confusion).
    confused = jwt.encode(claims(), "x" * 32, algorithm="HS256")
    refused = get(running, bearer(confused))
    assert refused.status_code == 401
    assert "algorithm not accepted" in refused.headers["www-authenticate"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = get(running, bearer(jwt.encode(claims(), other_key, algorithm="RS256")))
    assert forged.status_code == 401
