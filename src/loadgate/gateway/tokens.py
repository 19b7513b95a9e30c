"""The identity upstream's OAuth2 token endpoint: checks a client and a user, signs a JWT."""

from __future__ import annotations

import fnmatch
import hmac
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from loadgate.gateway.config import ClientConfig, GatewayConfig


class TokenError(Exception):
    """An OAuth2 error response: status and the `error` code of RFC 6749 section 5.2."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class TokenIssuer:
    """Issues bearer JWTs for the password and client_credentials grants."""

    def __init__(self, config: GatewayConfig, clock: Any = time.time) -> None:
        self._jwt = config.jwt
        self._clients = {client.client_id: client for client in config.clients}
        self._clock = clock
        self._key: Any = config.jwt.signing_key
        if config.jwt.algorithm == "RS256":
            self._key = load_pem_private_key(config.jwt.private_key_pem.encode(), password=None)

    def issue(self, request: dict[str, Any]) -> dict[str, Any]:
        """The token response for a validated request body, or raise TokenError."""
        client = self._client(str(request.get("client_id", "")), str(request.get("client_secret")))
        grant = request.get("grant_type")
        if grant == "password":
            subject = self._user(client, request.get("username"), request.get("password"))
        else:
            subject = client.client_id
        audience = request.get("audience") or self._jwt.audiences[0]
        if audience not in self._jwt.audiences:
            raise TokenError(400, "invalid_target", f"audience {audience!r} is not served here")
        now = int(self._clock())
        claims = {
            "iss": self._jwt.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self._jwt.token_ttl_s,
            "jti": uuid.uuid4().hex,
            "client_id": client.client_id,
            "scope": str(request.get("scope") or client.scope),
        }
        token = jwt.encode(claims, self._key, algorithm=self._jwt.algorithm)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self._jwt.token_ttl_s,
            "scope": claims["scope"],
        }

    def _client(self, client_id: str, secret: str) -> ClientConfig:
        client = self._clients.get(client_id)
        if client is None or not _same(client.secret, secret):
            raise TokenError(401, "invalid_client", "client authentication failed")
        return client

    def _user(self, client: ClientConfig, username: Any, password: Any) -> str:
        if not isinstance(username, str) or not isinstance(password, str):
            raise TokenError(400, "invalid_request", "username and password are required")
        known = fnmatch.fnmatchcase(username, client.user_pattern)
        # Compare the password even for unknown users, so timing does not tell them apart.
        right_password = _same(client.password, password)
        if not (known and right_password):
            raise TokenError(400, "invalid_grant", "the username or password is wrong")
        return username
