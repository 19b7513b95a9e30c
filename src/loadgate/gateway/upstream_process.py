"""The upstream process: every mock upstream instance, plus the control API for their faults.

The faults live here, in the only process that serves upstream traffic, so a
fault set once applies to the traffic of every gateway process. The control
API listens on a free port on 127.0.0.1; the admin API forwards to it:

    GET    /faults          every upstream's fault
    PUT    /faults/NAME     replace NAME's fault (JSON, same keys as the config file)
    DELETE /faults/NAME     clear NAME's fault
    DELETE /faults          clear every fault
"""

from __future__ import annotations

import json
import os
from multiprocessing.connection import Connection
from typing import Any

from loadgate.gateway.config import HOST, GatewayConfig, UpstreamConfig
from loadgate.gateway.errors import GatewayConfigError
from loadgate.gateway.faults import Fault, FaultState, fault_from_json
from loadgate.gateway.lifecycle import ignore_interrupts, wait_for_stop
from loadgate.gateway.messages import Request, Response, error_response, json_response
from loadgate.gateway.server import HttpServer, ServerLimits, bind_socket
from loadgate.gateway.tokens import TokenIssuer
from loadgate.gateway.upstream import MockUpstream

LIMITS = ServerLimits(max_body_bytes=1 << 20, keep_alive_s=75.0)
CONTROL_LIMITS = ServerLimits(max_body_bytes=64 * 1024, keep_alive_s=30.0)


class InstanceServer:
    """One listening instance; "down" closes its port and cuts its connections."""

    def __init__(self, handler: MockUpstream, port: int) -> None:
        self.server = HttpServer(handler.handle, LIMITS, handler.instance_name)
        self.port = port
        self.up = False

    async def listen(self) -> None:
        sock = bind_socket(HOST, self.port)
        self.port = sock.getsockname()[1]
        await self.server.start(sock)
        self.up = True

    async def set_down(self, down: bool) -> None:
        if down and self.up:
            self.server.stop_listening()
            self.server.abort_connections()
            self.up = False
        elif not down and not self.up:
            await self.listen()


class UpstreamService:
    """All instances of one upstream and the fault they share."""

    def __init__(self, config: UpstreamConfig, issuer: TokenIssuer) -> None:
        self.name = config.name
        self.faults = FaultState(config.fault)
        # An external upstream is served by someone else: only its ports are reported.
        self.external_ports = list(config.ports) if config.external else []
        ports = () if config.external else (config.ports or (0,) * config.instances)
        self.instances = [
            InstanceServer(MockUpstream(f"{config.name}-{i}", self.faults, issuer), port)
            for i, port in enumerate(ports)
        ]

    @property
    def ports(self) -> list[int]:
        return self.external_ports or [instance.port for instance in self.instances]

    async def start(self) -> None:
        for instance in self.instances:
            await instance.listen()
        if self.faults.fault.down:
            await self.apply_down()

    async def set_fault(self, fault: Fault) -> None:
        self.faults.set(fault)
        await self.apply_down()

    async def apply_down(self) -> None:
        for instance in self.instances:
            await instance.set_down(self.faults.fault.down)

    def close(self) -> None:
        for instance in self.instances:
            instance.server.stop_listening()
            instance.server.abort_connections()


class UpstreamProcess:
    """The services of this process and the control API's handler."""

    def __init__(self, config: GatewayConfig) -> None:
        issuer = TokenIssuer(config)
        self.services = {u.name: UpstreamService(u, issuer) for u in config.upstreams}
        self.control = HttpServer(self.handle_control, CONTROL_LIMITS, "control")
        self.control_port = 0

    async def start(self) -> dict[str, Any]:
        for service in self.services.values():
            await service.start()
        sock = bind_socket(HOST, 0)
        self.control_port = sock.getsockname()[1]
        await self.control.start(sock)
        return {
            "pid": os.getpid(),
            "control_port": self.control_port,
            "ports": {name: service.ports for name, service in self.services.items()},
        }

    def faults(self) -> dict[str, Any]:
        return {name: s.faults.fault.to_dict() for name, s in self.services.items()}

    async def handle_control(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[0] != "faults" or len(parts) > 2:
            return error_response(404, "not_found", f"no such resource: {request.path}")
        if len(parts) == 1:
            if request.method == "DELETE":
                for service in self.services.values():
                    await service.set_fault(Fault())
            elif request.method != "GET":
                return error_response(405, "method_not_allowed", "use GET or DELETE")
            return json_response(200, self.faults())
        found = self.services.get(parts[1])
        if found is None:
            known = ", ".join(sorted(self.services))
            return error_response(404, "unknown_upstream", f"no upstream {parts[1]!r} ({known})")
        service = found
        if request.method == "PUT":
            return await self._put_fault(service, request.body)
        if request.method == "DELETE":
            await service.set_fault(Fault())
        elif request.method != "GET":
            return error_response(405, "method_not_allowed", "use GET, PUT or DELETE")
        return json_response(200, {service.name: service.faults.fault.to_dict()})

    async def _put_fault(self, service: UpstreamService, body: bytes) -> Response:
        if service.external_ports:
            message = f"{service.name} is an external upstream; faults act in the mocks only"
            return error_response(400, "invalid_fault", message)
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return error_response(400, "invalid_fault", "the body must be a JSON object")
        try:
            fault = fault_from_json(document, service.name)
        except GatewayConfigError as exc:
            return error_response(400, "invalid_fault", str(exc))
        await service.set_fault(fault)
        return json_response(200, {service.name: fault.to_dict()})

    async def close(self) -> None:
        for service in self.services.values():
            service.close()
        await self.control.close(grace_s=0.2)


async def _serve(config: GatewayConfig, conn: Connection, parent_pid: int) -> None:
    process = UpstreamProcess(config)
    try:
        info = await process.start()
    except OSError as exc:
        conn.send(("error", f"an upstream could not listen: {exc}"))
        return
    conn.send(("ready", info))
    try:
        await wait_for_stop(parent_pid)
    finally:
        await process.close()


def run_upstream_process(config: GatewayConfig, conn: Connection, parent_pid: int) -> None:
    """Entry point of the upstream process (started by the supervisor with spawn)."""
    import uvloop

    ignore_interrupts()
    uvloop.run(_serve(config, conn, parent_pid))
