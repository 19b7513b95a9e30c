"""The dashboard's settings: where it listens, its token, the store, the hosts runs may target."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from loadgate.errors import ConfigError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
TOKEN_ENV = "LOADGATE_TOKEN"
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is the loopback."""
    bare = host.strip().strip("[]").lower()
    if bare in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class DashboardSettings:
    """What `loadgate dashboard` was started with.

    `token`: every request must carry it when set (it must be set to bind
    anywhere but the loopback); `allowed_hosts`: the hosts (names, addresses
    or networks) runs may target besides the loopback.
    """

    bind_host: str = "127.0.0.1"
    port: int = 8089
    db_url: str | None = None
    token: str | None = None
    allowed_hosts: Sequence[str] = ()

    def __repr__(self) -> str:
        token = "set" if self.token else "none"
        return (
            f"DashboardSettings(bind_host={self.bind_host!r}, port={self.port}, "
            f"token={token}, allowed_hosts={list(self.allowed_hosts)!r})"
        )


def checked_settings(settings: DashboardSettings) -> DashboardSettings:
    """`settings` if the dashboard may start with them; else a ConfigError naming the flag."""
    if settings.token is not None and len(settings.token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"--token (or {TOKEN_ENV}) must be at least {MIN_TOKEN_CHARS} characters, "
            f"not {len(settings.token)}"
        )
    if not is_loopback(settings.bind_host) and not settings.token:
        raise ConfigError(
            f"--host {settings.bind_host} is reachable from other machines: give --token "
            f"(or {TOKEN_ENV}) so that every request must carry it, or bind 127.0.0.1"
        )
    if not 0 < settings.port < 65536:
        raise ConfigError(f"--port must be from 1 to 65535, not {settings.port}")
    return settings
