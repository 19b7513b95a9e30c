"""Who is calling: JWT bearer tokens, API keys and static tokens, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from loadgate.gateway.config import GatewayConfig, Limit
from loadgate.gateway.messages import Headers, Response, error_response

REALM = b'realm="loadgate"'
# Verified tokens kept, so a busy client's JWT is checked once, not per request.
JWT_CACHE_SIZE = 10_000
ANONYMOUS_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Consumer:
    """An authenticated (or anonymous) caller and the bucket it draws from."""

    kind: str  # "anonymous", "jwt", "api_key" or "static_token"
    name: str  # metrics label: the configured consumer's name, or the kind
    subject: str  # forwarded upstream as X-Consumer-Id
    bucket: str  # rate limit key
    limit: Limit


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why credentials were refused; becomes a 401 with WWW-Authenticate."""

    error: str
    description: str
    challenge: bytes

    def response(self, headers: Headers) -> Response:
        headers.append((b"WWW-Authenticate", self.challenge))
        return error_response(401, self.error, self.description, headers)


MISSING = AuthFailure(
    "unauthorized",
    "credentials required: a Bearer token or an X-API-Key header",
    b'Bearer realm="loadgate", ApiKey realm="loadgate", header="X-API-Key"',
)


def _bearer_failure(description: str, error: str = "invalid_token") -> AuthFailure:
    challenge = b'Bearer %s, error="%s", error_description="%s"' % (
        REALM,
        error.encode(),
        description.encode(),
    )
    return AuthFailure(error, description, challenge)


INVALID_KEY = AuthFailure(
    "invalid_key", "the API key is not valid", b'ApiKey realm="loadgate", error="invalid_key"'
)
MALFORMED = _bearer_failure("malformed bearer token")
UNSUPPORTED_SCHEME = _bearer_failure("use the Bearer authorization scheme", "invalid_request")
EXPIRED = _bearer_failure("token expired")

_JWT_FAILURES: tuple[tuple[type[Exception], AuthFailure], ...] = (
    (jwt.ExpiredSignatureError, EXPIRED),
    (jwt.InvalidAudienceError, _bearer_failure("token audience not accepted")),
    (jwt.InvalidIssuerError, _bearer_failure("token issuer not accepted")),
    (jwt.InvalidAlgorithmError, _bearer_failure("token algorithm not accepted")),
    (jwt.InvalidSignatureError, _bearer_failure("token signature verification failed")),
    (jwt.ImmatureSignatureError, _bearer_failure("token not yet valid")),
    (jwt.MissingRequiredClaimError, _bearer_failure("token lacks a required claim")),
    (jwt.DecodeError, MALFORMED),
)


class SecretTable:
    """Secrets looked up by their SHA-256 and confirmed with a constant-time compare.

    A dict keyed by the secret itself would answer faster for near-misses of a
    real key; keyed by its hash, timing says nothing about the secret.
    """

    def __init__(self) -> None:
        self._entries: dict[bytes, tuple[bytes, Consumer]] = {}

    def add(self, secret: str, consumer: Consumer) -> None:
        raw = secret.encode()
        self._entries[hashlib.sha256(raw).digest()] = (raw, consumer)

    def find(self, presented: bytes) -> Consumer | None:
        entry = self._entries.get(hashlib.sha256(presented).digest())
        if entry is None or not hmac.compare_digest(entry[0], presented):
            return None
        return entry[1]


class Authenticator:
    """Turns a request's credentials into a Consumer, an AuthFailure, or None (none sent)."""

    def __init__(self, config: GatewayConfig, clock: Any = time.time) -> None:
        self._clock = clock
        self._jwt = config.jwt
        self._limits = config.rate_limit
        self._key: Any = config.jwt.verify_key
        if config.jwt.algorithm == "RS256":
            self._key = load_pem_public_key(config.jwt.public_key_pem.encode())
        self._api_keys = SecretTable()
        self._static_tokens = SecretTable()
        for item in config.consumers:
            kind = "api_key" if item.api_key else "static_token"
            consumer = Consumer(
                kind=kind,
                name=item.name,
                subject=item.name,
                bucket="consumer:" + item.name,
                limit=item.limit or config.rate_limit.consumer,
            )
            table = self._api_keys if item.api_key else self._static_tokens
            table.add(item.api_key or item.static_token, consumer)
        self._verified: OrderedDict[bytes, tuple[Consumer, float]] = OrderedDict()
        self._anonymous: dict[str, Consumer] = {}

    def authenticate(
        self, authorization: bytes | None, api_key: bytes | None
    ) -> Consumer | AuthFailure | None:
        if api_key is not None:
            return self._api_keys.find(api_key.strip()) or INVALID_KEY
        if authorization is None:
            return None
        scheme, _, token = authorization.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return UNSUPPORTED_SCHEME
        token = token.strip()
        if not token:
            return MALFORMED
        static = self._static_tokens.find(token)
        if static is not None:
            return static
        return self._verify_jwt(token)

    def anonymous(self, client_ip: str) -> Consumer:
        consumer = self._anonymous.get(client_ip)
        if consumer is None:
            if len(self._anonymous) >= ANONYMOUS_CACHE_SIZE:
                self._anonymous.clear()
            consumer = Consumer(
                kind="anonymous",
                name="anonymous",
                subject="",
                bucket="ip:" + client_ip,
                limit=self._limits.anonymous,
            )
            self._anonymous[client_ip] = consumer
        return consumer

    def _verify_jwt(self, token: bytes) -> Consumer | AuthFailure:
        cached = self._verified.get(token)
        if cached is not None:
            consumer, expires_at = cached
            if self._clock() < expires_at + self._jwt.leeway_s:
                self._verified.move_to_end(token)
                return consumer
            del self._verified[token]
            return EXPIRED
        if token.count(b".") != 2:
            return MALFORMED
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._jwt.algorithm],
                audience=list(self._jwt.audiences),
                issuer=self._jwt.issuer,
                leeway=self._jwt.leeway_s,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            return _jwt_failure(exc)
        subject = str(claims["sub"])
        consumer = Consumer(
            kind="jwt",
            name="jwt",
            subject=subject,
            bucket="sub:" + subject,
            limit=self._limits.jwt,
        )
        self._verified[token] = (consumer, float(claims["exp"]))
        if len(self._verified) > JWT_CACHE_SIZE:
            self._verified.popitem(last=False)
        return consumer


def _jwt_failure(exc: jwt.InvalidTokenError) -> AuthFailure:
    for kind, failure in _JWT_FAILURES:
        if isinstance(exc, kind):
            return failure
    return _bearer_failure("invalid token")
