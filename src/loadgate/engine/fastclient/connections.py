"""The fast client's connections: one geventhttpclient HTTPClient per origin and TLS/timeout set.

requests decides TLS verification, client certificates and timeouts per
request; geventhttpclient per client. So each distinct (origin, verify,
cert, timeouts) gets a client of its own, with a keep-alive pool of
POOL_SIZE connections (requests' pool_maxsize). A script that passes the
same `timeout=` every time, the usual case, uses one client per host.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlsplit

from geventhttpclient.client import HTTPClient
from geventhttpclient.header import Headers
from requests.utils import DEFAULT_CA_BUNDLE_PATH, extract_zipped_paths

from loadgate.engine.fastclient.refusal import UnsupportedByFastClientError

POOL_SIZE = 10
# Parsed URLs kept (a script's distinct URLs; bounded, so memory stays flat).
ENDPOINTS_CACHED = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}

Verify = bool | str
Cert = str | tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """requests' timeout=: one number for both, or (connect, read); None waits forever."""

    connect_s: float | None
    read_s: float | None

    @classmethod
    def of(cls, timeout: Any) -> Timeouts:
        if isinstance(timeout, tuple):
            connect, read = timeout
            return cls(connect_s=connect, read_s=read)
        return cls(connect_s=timeout, read_s=timeout)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a URL's request goes: the origin, and the request target (path and query)."""

    scheme: str
    host: str
    port: int
    target: str


@lru_cache(maxsize=ENDPOINTS_CACHED)
def endpoint_of(url: str) -> Endpoint:
    parts = urlsplit(url)
    path = parts.path or "/"
    return Endpoint(
        scheme=parts.scheme,
        host=parts.hostname or "",
        port=parts.port or DEFAULT_PORTS.get(parts.scheme, 0),
        target=f"{path}?{parts.query}" if parts.query else path,
    )


# What a client is made for: scheme, host, port, verify, cert and timeout= as given.
ClientKey = tuple[str, str, int, Verify, Cert, Any]


def tls_context(verify: Verify, cert: Cert) -> ssl.SSLContext:
    """requests' TLS settings: certifi's CAs, a CA bundle path, or no verification at all."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        path = extract_zipped_paths(DEFAULT_CA_BUNDLE_PATH) if verify is True else str(verify)
        if not os.path.exists(path):
            # requests' own words for it
            raise OSError(
                f"Could not find a suitable TLS CA certificate bundle, invalid path: {path}"
            )
        if os.path.isdir(path):
            context = ssl.create_default_context(capath=path)
        else:
            context = ssl.create_default_context(cafile=path)
    if cert:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        context.load_cert_chain(certfile, keyfile)
    return context


class _Client(HTTPClient):
    # No User-Agent of geventhttpclient's own: the session sends requests' headers.
    DEFAULT_HEADERS = Headers()

    def __init__(self, host: str, **options: Any) -> None:
        super().__init__(host, **options)
        # When a connection closes before the answer, HTTPClient.request sends an
        # idempotent request again, up to the pool's size + 1 times: a target that
        # drops requests would look sound. requests (max_retries=0) reports the
        # failure, and so do we. request() reads the pool's size only for that count.
        # A pooled connection the target closed while idle is still replaced
        # before use (the pool checks it), as urllib3 does.
        self._connection_pool.size = -1


class Connections:
    """The HTTPClients of one session, made on first use."""

    def __init__(self) -> None:
        self._clients: dict[ClientKey, HTTPClient] = {}

    def client(self, key: ClientKey) -> HTTPClient:
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._make(key)
        return client

    def _make(self, key: ClientKey) -> HTTPClient:
        scheme, host, port, verify, cert, timeout = key
        if scheme not in DEFAULT_PORTS:
            raise UnsupportedByFastClientError(f"the URL scheme {scheme!r}")
        options: dict[str, Any] = {}
        if scheme == "https":
            context = tls_context(verify, cert)
            options = {
                "ssl": True,
                "insecure": verify is False,
                "ssl_context_factory": lambda **_: context,
            }
        timeouts = Timeouts.of(timeout)
        return _Client(
            host,
            port=port,
            concurrency=POOL_SIZE,
            # None is no timeout (socket.settimeout's meaning), as requests' default.
            connection_timeout=cast(float, timeouts.connect_s),
            network_timeout=cast(float, timeouts.read_s),
            **options,
        )

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
