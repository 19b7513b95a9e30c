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
- `--upstreams-only` starts the mock upstreams and the admin API, no gateway:
  for nginx, HAProxy or any gateway of your own to be put in front of them.
- `--json` prints, once ready, one line of JSON instead of the text lines:
  `{"api": URL or null, "admin": URL, "processes": N, "upstreams": {NAME: [URL, ...]}}`.
"""

from __future__ import annotations

import dataclasses
import json
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


def _refuse_with_upstreams_only(
    port: int | None, processes: int | None, redis_url: str | None
) -> None:
    flags = (("--port", port), ("--processes", processes), ("--redis-url", redis_url))
    given = [flag for flag, value in flags if value is not None]
    if given:
        raise ConfigError(
            f"{given[0]}: not used with --upstreams-only (no gateway process runs; "
            "the upstreams and the admin API take --admin-port and --config)"
        )


def _announce_json(urls: GatewayUrls) -> None:
    click.echo(json.dumps(dataclasses.asdict(urls)))


def _announce(config: GatewayConfig, urls: GatewayUrls) -> None:
    if urls.api is None:
        lines = [
            "loadgate gateway: ready (upstreams only, no gateway process)",
            f"  admin  {urls.admin}  (/health /upstreams /faults)",
        ]
    else:
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
@click.option(
    "--upstreams-only",
    is_flag=True,
    help="Serve only the mock upstreams (and the admin API), for a gateway of your own.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Once ready, print the URLs as one line of JSON instead of text.",
)
@handles_errors
def gateway(
    *,
    port: int | None,
    admin_port: int | None,
    config_path: Path | None,
    processes: int | None,
    redis_url: str | None,
    upstreams_only: bool,
    as_json: bool,
) -> None:
    """Run the reference API gateway and its mock upstreams on 127.0.0.1 until Ctrl-C."""
    if upstreams_only:
        _refuse_with_upstreams_only(port, processes, redis_url)
    try:
        config = load_config(config_path, _overrides(port, admin_port, processes, redis_url))
    except GatewayConfigError as exc:
        raise ConfigError(str(exc)) from None

    def announce(urls: GatewayUrls) -> None:
        if as_json:
            _announce_json(urls)
        else:
            _announce(config, urls)

    try:
        Supervisor(config, upstreams_only=upstreams_only).run(announce)
    except GatewayStartError as exc:
        raise RunError(str(exc)) from None
