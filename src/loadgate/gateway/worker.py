"""A gateway process: serves the API port (shared with its siblings through SO_REUSEPORT).

This module imports nothing that imports prometheus_client: the metrics
directory must be in the environment before prometheus_client is first
imported, because that import decides once whether metrics go to shared files.
"""

from __future__ import annotations

import os
import sys
from multiprocessing.connection import Connection
from typing import Any

from loadgate.gateway.config import HOST, GatewayConfig
from loadgate.gateway.lifecycle import ignore_interrupts, wait_for_stop

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


async def _serve(config: GatewayConfig, conn: Connection, port: int, parent_pid: int) -> None:
    from loadgate.gateway.errors import GatewayStartError
    from loadgate.gateway.metrics import GatewayMetrics
    from loadgate.gateway.proxy import Gateway
    from loadgate.gateway.ratelimit_redis import RedisLimiter
    from loadgate.gateway.server import HttpServer, bind_socket

    try:
        message: tuple[str, Any] = conn.recv()
    except EOFError:
        return  # the supervisor is gone before we started
    if message[0] != "upstreams":
        return
    addresses = {name: [(HOST, p) for p in ports] for name, ports in message[1].items()}
    redis = RedisLimiter(config.rate_limit.redis_url) if config.rate_limit.redis_url else None
    try:
        if redis is not None:
            await redis.connect()
        sock = bind_socket(HOST, port, reuse_port=True)
    except (GatewayStartError, OSError) as exc:
        conn.send(("error", str(exc)))
        return
    metrics = GatewayMetrics()
    gateway = Gateway(config, addresses, metrics, redis)
    limits = config.server.client_limits()
    server = HttpServer(gateway.handle, limits, "gateway", on_refusal=metrics.refusal)
    await server.start(sock)
    conn.send(("ready", {"pid": os.getpid()}))
    try:
        await wait_for_stop(parent_pid)
    finally:
        await server.close(grace_s=0.5)
        gateway.close()
        if redis is not None:
            await redis.close()


def run_gateway_process(
    config: GatewayConfig, conn: Connection, port: int, metrics_dir: str, parent_pid: int
) -> None:
    """Entry point of a gateway process (started by the supervisor with spawn).

    It waits on `conn` for the upstreams' ports, binds `port`, says "ready", and
    serves until SIGTERM or until its parent dies.
    """
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its multiprocess directory")
    os.environ[METRICS_DIR_VARIABLE] = metrics_dir
    import uvloop

    ignore_interrupts()
    uvloop.run(_serve(config, conn, port, parent_pid))
