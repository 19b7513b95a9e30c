"""Which hosts runs started from the dashboard may target: the loopback, and `--allow-host`.

So that the dashboard cannot be turned into a tool to flood someone else's
server. A target's name is resolved and every address it resolves to must be
allowed; an entry may be an address, a network (10.0.0.0/24) or a name
(resolved when checked). Checked before the run's process is started.

Known limit: `loadgate run` resolves the name again when it connects; a
name whose answers change between the two (DNS rebinding) could get past.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from loadgate.errors import ConfigError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def resolved(host: str) -> set[Address]:
    """Every address `host` (a name or an address) resolves to; ConfigError if none."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"the host {host!r} cannot be resolved: {exc}") from None
    return {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}


def allowed_networks(entries: Sequence[str]) -> list[Network]:
    """The networks `--allow-host` entries stand for (names resolved now); ConfigError if bad."""
    networks: list[Network] = []
    for entry in entries:
        text = entry.strip().strip("[]")
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            networks.extend(ipaddress.ip_network(a) for a in resolved(text))
    return networks


def target_host(url: str) -> str:
    """The host name of a target URL ('http://api.example:8080' → 'api.example')."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the host must be a URL like http://127.0.0.1:8080, not {url!r}")
    return parts.hostname


def check_target(url: str, allowed: Sequence[str]) -> None:
    """Refuse (ConfigError) a target any of whose addresses is outside the loopback and `allowed`.

    An empty `url` is the built-in gateway, on the loopback.
    """
    if not url.strip():
        return
    host = target_host(url)
    networks = allowed_networks(allowed)
    outside = sorted(
        str(address)
        for address in resolved(host)
        if not address.is_loopback and not any(address in network for network in networks)
    )
    if outside:
        raise ConfigError(
            f"the host {host!r} resolves to {', '.join(outside)}, outside the hosts this "
            "dashboard may target (the loopback and --allow-host): refused"
        )
