"""The admin API on 127.0.0.1: health, Prometheus metrics, upstreams and their faults.

    GET    /health          200 once the gateway and every upstream accept requests, else 503
    GET    /metrics         Prometheus text, merged over all gateway processes
    GET    /upstreams       each upstream's URLs, routes and current fault
    GET    /faults          every upstream's fault
    GET    /faults/NAME     one upstream's fault
    PUT    /faults/NAME     set it (JSON body, the keys of [upstreams.NAME.fault])
    DELETE /faults/NAME     clear it;  DELETE /faults clears all

Faults are forwarded to the upstream process, where they take effect for the
traffic of every gateway process at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loadgate.gateway.config import HOST, GatewayConfig, UpstreamConfig
from loadgate.gateway.messages import Request, Response, error_response, json_response
from loadgate.gateway.pool import UpstreamError, UpstreamPool, exchange

FORWARD_TIMEOUT_S = 5.0
LOOPBACK_NAMES = frozenset({b"127.0.0.1", b"localhost", b"[::1]"})


@dataclass
class GatewayStatus:
    """What the supervisor knows about its processes (mutated by the supervisor only)."""

    ready: bool = False
    api_url: str = ""
    processes: int = 1
    gateway_pids: list[int] = field(default_factory=list)
    upstream_pid: int = 0
    control_port: int = 0
    upstream_ports: dict[str, list[int]] = field(default_factory=dict)
    alive: Callable[[], bool] = lambda: True


def loopback_host(host: bytes | None) -> bool:
    """Whether a Host header names the loopback: 127.0.0.1, localhost or [::1], any port."""
    if host is None:
        return False
    host = host.strip().lower()
    if host in LOOPBACK_NAMES:
        return True
    name, _, port = host.rpartition(b":")
    return port.isdigit() and name in LOOPBACK_NAMES


class AdminApi:
    """Handler of the admin server, run by the supervisor process."""

    def __init__(self, config: GatewayConfig, status: GatewayStatus, metrics_dir: str) -> None:
        self._config = config
        self._status = status
        self._metrics_dir = metrics_dir
        self._control: UpstreamPool | None = None

    async def handle(self, request: Request) -> Response:
        if not loopback_host(request.header(b"host")):
            # A web page can point a name it controls at 127.0.0.1 (DNS rebinding);
            # its requests then carry that name, never a loopback one.
            return error_response(
                403, "forbidden_host", "the admin API answers to 127.0.0.1, localhost or [::1] only"
            )
        path = request.path.rstrip("/") or "/"
        if path == "/health":
            return self._health()
        if path == "/metrics":
            return self._metrics()
        if path == "/upstreams":
            return await self._upstreams()
        if path == "/faults" or path.startswith("/faults/"):
            if not self._status.ready:
                return error_response(503, "starting", "the upstreams are not ready yet")
            return await self._forward(request)
        if path == "/":
            return json_response(200, {"endpoints": [
                "GET /health", "GET /metrics", "GET /upstreams", "GET /faults",
                "GET|PUT|DELETE /faults/{upstream}", "DELETE /faults",
            ]})  # fmt: skip
        return error_response(404, "not_found", f"no admin resource {request.path}")

    def _health(self) -> Response:
        status = self._status
        healthy = status.ready and status.alive()
        document = {
            "status": "ok" if healthy else ("starting" if not status.ready else "failing"),
            "api": status.api_url or None,
            "processes": status.processes,
            "pids": {"gateway": status.gateway_pids, "upstreams": status.upstream_pid},
            "upstreams": self._urls(),
        }
        return json_response(200 if healthy else 503, document)

    def _urls(self) -> dict[str, list[str]]:
        return {
            name: [f"http://{HOST}:{port}" for port in ports]
            for name, ports in self._status.upstream_ports.items()
        }

    def _metrics(self) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self._metrics_dir)  # type: ignore[no-untyped-call]
        return Response(
            200, [(b"Content-Type", CONTENT_TYPE_LATEST.encode())], generate_latest(registry)
        )

    async def _upstreams(self) -> Response:
        faults: dict[str, Any] = {}
        if self._status.ready:
            answer = await self._forward(Request(method="GET", target=b"/faults", headers=[]))
            if answer.status == 200:
                faults = json.loads(answer.body)
        urls = self._urls()
        document = {
            upstream.name: {
                "urls": urls.get(upstream.name, []),
                "routes": {r.name: r.prefix for r in self._config.routes_of(upstream.name)},
                "fault": faults.get(upstream.name),
            }
            for upstream in self._config.upstreams
        }
        return json_response(200, document)

    async def _forward(self, request: Request) -> Response:
        if self._control is None:
            config = UpstreamConfig(name="upstream control API", max_connections=4)
            self._control = UpstreamPool(config, [(HOST, self._status.control_port)])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FORWARD_TIMEOUT_S
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n" % (
            request.method.encode(),
            request.target,
            HOST.encode(),
        )
        data = head + b"Content-Length: %d\r\n\r\n" % len(request.body) + request.body
        try:
            instance, connection = await self._control.acquire(deadline)
        except UpstreamError as exc:
            return error_response(502, "upstream_process_unreachable", str(exc))
        try:
            answer = await exchange(connection, data, deadline)
        except UpstreamError as exc:
            return error_response(502, "upstream_process_unreachable", str(exc))
        finally:
            self._control.release(instance, connection)
        headers = [(n, v) for n, v in answer.headers if n.lower() == b"content-type"]
        return Response(answer.status, headers, answer.body)

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
