"""`loadgate gateway`: the reference API gateway and its mock upstreams, on 127.0.0.1.

Contract for programs that start it as a subprocess (`loadgate run` without a
host does):

- `loadgate gateway --port P --admin-port A` serves the API on
  http://127.0.0.1:P and the admin API on http://127.0.0.1:A. Choose free
  ports; 0 lets the gateway choose, and the URLs are then read from the lines
  `  api    http://...` and `  admin  http://...` it prints on stdout once ready.
- `GET http://127.0.0.1:A/health` answers 503 while starting and 200 once the
  gateway processes and every upstream accept requests.
- SIGTERM (or SIGINT) stops every process of the gateway within about 2 s and
  exits 0. A start that fails exits 3 with one line on stderr; a bad config or
  flag exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from loadgate.cli.edge import handles_errors
from loadgate.errors import ConfigError, RunError
from loadgate.gateway import (
    GatewayConfig,
    GatewayConfigError,
    GatewayStartError,
    GatewayUrls,
    Supervisor,
    load_config,
)


def _overrides(
    port: int | None, admin_port: int | None, processes: int | None, redis_url: str | None
) -> dict[str, Any]:
    server = {
        key: value
        for key, value in (("port", port), ("admin_port", admin_port), ("processes", processes))
        if value is not None
    }
    overrides: dict[str, Any] = {"gateway": server}
    if redis_url is not None:
        overrides["rate_limit"] = {"redis_url": redis_url}
    return overrides


def _announce(config: GatewayConfig, urls: GatewayUrls) -> None:
    plural = "es" if urls.processes > 1 else ""
    lines = [
        f"loadgate gateway: ready ({urls.processes} gateway process{plural})",
        f"  api    {urls.api}",
        f"  admin  {urls.admin}  (/health /metrics /upstreams /faults)",
    ]
    width = max(len(name) for name in urls.upstreams)
    for name, upstream_urls in urls.upstreams.items():
        prefixes = " ".join(route.prefix for route in config.routes_of(name))
        lines.append(f"  upstream {name:<{width}}  {' '.join(upstream_urls)}  <- {prefixes}")
    lines.append("Ctrl-C to stop.")
    click.echo("\n".join(lines))


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), help="API port (default 8080; 0: any).")
@click.option(
    "--admin-port", type=click.IntRange(0, 65535), help="Admin API port (default 8081; 0: any)."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML file laid over the built-in config (see README).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    help="Gateway processes sharing the API port (default 1).",
)
@click.option(
    "--redis-url",
    metavar="URL",
    help="Share rate limits across processes through this Redis (redis://HOST:PORT/DB).",
)
@handles_errors
def gateway(
    port: int | None,
    admin_port: int | None,
    config_path: Path | None,
    processes: int | None,
    redis_url: str | None,
) -> None:
    """Run the reference API gateway and its mock upstreams on 127.0.0.1 until Ctrl-C."""
    try:
        config = load_config(config_path, _overrides(port, admin_port, processes, redis_url))
    except GatewayConfigError as exc:
        raise ConfigError(str(exc)) from None
    try:
        Supervisor(config).run(lambda urls: _announce(config, urls))
    except GatewayStartError as exc:
        raise RunError(str(exc)) from None
