"""Starts and stops the gateway's processes and serves the admin API.

    supervisor (this process): admin API, health, starting and stopping the rest
    ├── upstream process: every mock upstream instance + the fault control API
    └── gateway process × N: the API port, shared through SO_REUSEPORT

With `upstreams_only`, no gateway process is started and no API port taken:
the upstreams are served for a gateway of someone else's (nginx, HAProxy) to
be put in front of them, and the admin API still gives health and faults.

Children are started with multiprocessing's spawn (no state inherited from this
process), report "ready" or "error" over a pipe, and stop on SIGTERM or when
this process dies. If a child dies while serving, everything stops and `run`
raises GatewayStartError.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from loadgate.gateway.admin import AdminApi, GatewayStatus
from loadgate.gateway.config import HOST, GatewayConfig
from loadgate.gateway.errors import GatewayStartError
from loadgate.gateway.server import HttpServer, ServerLimits, bind_socket
from loadgate.gateway.upstream_process import run_upstream_process
from loadgate.gateway.worker import run_gateway_process

START_TIMEOUT_S = 60.0
STOP_GRACE_S = 1.5


@dataclass(frozen=True, kw_only=True)
class GatewayUrls:
    """Where a started gateway serves; `api` is None when only the upstreams run."""

    api: str | None
    admin: str
    processes: int
    upstreams: dict[str, list[str]]


class _StopRequestedError(Exception):
    """A stop was asked for while starting."""


class Child:
    """A spawned process and our end of its pipe."""

    def __init__(self, role: str, process: BaseProcess, conn: Connection) -> None:
        self.role = role
        self.process = process
        self.conn = conn


class Supervisor:
    """Runs a gateway with its upstreams until SIGINT or SIGTERM."""

    def __init__(self, config: GatewayConfig, *, upstreams_only: bool = False) -> None:
        self._config = config
        self._upstreams_only = upstreams_only
        self._context = multiprocessing.get_context("spawn")
        self._children: list[Child] = []
        self._stop = asyncio.Event()

    def run(self, on_ready: Callable[[GatewayUrls], None]) -> None:
        """Start everything, call on_ready, serve until a signal; raise GatewayStartError."""
        import uvloop

        uvloop.run(self._main(on_ready))

    async def _main(self, on_ready: Callable[[GatewayUrls], None]) -> None:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._stop.set)
        metrics_dir = tempfile.mkdtemp(prefix="loadgate-gateway-metrics-")
        processes = 0 if self._upstreams_only else self._config.server.processes
        status = GatewayStatus(processes=processes, alive=self._all_alive)
        admin = AdminApi(self._config, status, metrics_dir)
        admin_server = HttpServer(admin.handle, ServerLimits(), "admin")
        try:
            reserved = (
                None
                if self._upstreams_only
                else self._bind(self._config.server.port, "--port", reuse_port=True)
            )
            admin_sock = self._bind(self._config.server.admin_port, "--admin-port")
            admin_url = f"http://{HOST}:{admin_sock.getsockname()[1]}"
            await admin_server.start(admin_sock)
            urls = await self._start_children(reserved, metrics_dir, status, admin_url)
            if reserved is not None:
                reserved.close()
            status.ready = True
            on_ready(urls)
            await self._watch()
        except _StopRequestedError:
            pass
        finally:
            status.ready = False
            await self._stop_children()
            admin.close()
            await admin_server.close(grace_s=0.2)
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _bind(self, port: int, flag: str, *, reuse_port: bool = False) -> socket.socket:
        try:
            if reuse_port:
                # Bound but not listening: holds the port (and picks one for port 0)
                # until the gateway processes listen on it, without taking connections.
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                try:
                    sock.bind((HOST, port))
                except OSError:
                    sock.close()
                    raise
                return sock
            return bind_socket(HOST, port)
        except OSError as exc:
            raise GatewayStartError(
                f"{flag} {port}: cannot listen on {HOST}: {exc.strerror}"
            ) from None

    def _spawn(self, role: str, target: Callable[..., None], *args: Any) -> Child:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=target, args=(self._config, child_end, *args), name=role, daemon=True
        )
        process.start()
        child_end.close()
        child = Child(role, process, parent_end)
        self._children.append(child)
        return child

    async def _start_children(
        self,
        reserved: socket.socket | None,
        metrics_dir: str,
        status: GatewayStatus,
        admin_url: str,
    ) -> GatewayUrls:
        port = None if reserved is None else reserved.getsockname()[1]
        me = os.getpid()
        upstreams = self._spawn("upstream process", run_upstream_process, me)
        gateways = [
            self._spawn(f"gateway process {i + 1}", run_gateway_process, port, metrics_dir, me)
            for i in range(status.processes)
        ]
        deadline = time.monotonic() + START_TIMEOUT_S
        info = await self._expect_ready(upstreams, deadline)
        status.upstream_pid = info["pid"]
        status.control_port = info["control_port"]
        status.upstream_ports = info["ports"]
        for gateway in gateways:
            gateway.conn.send(("upstreams", info["ports"]))
        for gateway in gateways:
            status.gateway_pids.append((await self._expect_ready(gateway, deadline))["pid"])
        status.api_url = "" if port is None else f"http://{HOST}:{port}"
        return GatewayUrls(
            api=status.api_url or None,
            admin=admin_url,
            processes=len(gateways),
            upstreams={
                name: [f"http://{HOST}:{p}" for p in ports] for name, ports in info["ports"].items()
            },
        )

    async def _expect_ready(self, child: Child, deadline: float) -> dict[str, Any]:
        kind, payload = await self._receive(child, deadline)
        if kind != "ready":
            raise GatewayStartError(f"the {child.role} could not start: {payload}")
        result: dict[str, Any] = payload
        return result

    async def _receive(self, child: Child, deadline: float) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        fds = (child.conn.fileno(), child.process.sentinel)
        for fd in fds:
            loop.add_reader(fd, event.set)
        stop = asyncio.ensure_future(self._stop.wait())
        readable = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait(
                {stop, readable},
                timeout=max(0.0, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for fd in fds:
                loop.remove_reader(fd)
            stop.cancel()
            readable.cancel()
        if self._stop.is_set():
            raise _StopRequestedError
        if child.conn.poll():
            message: tuple[str, Any] = child.conn.recv()
            return message
        if wait([child.process.sentinel], timeout=0):
            child.process.join(timeout=1.0)
            code = child.process.exitcode
            raise GatewayStartError(f"the {child.role} exited with code {code} while starting")
        raise GatewayStartError(f"the {child.role} did not start in {START_TIMEOUT_S:g} s")

    def _all_alive(self) -> bool:
        return all(child.process.is_alive() for child in self._children)

    async def _watch(self) -> None:
        """Return when asked to stop; raise if a child dies meanwhile."""
        loop = asyncio.get_running_loop()
        died = asyncio.Event()
        for child in self._children:
            loop.add_reader(child.process.sentinel, died.set)
        stop = asyncio.ensure_future(self._stop.wait())
        death = asyncio.ensure_future(died.wait())
        try:
            await asyncio.wait({stop, death}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for child in self._children:
                loop.remove_reader(child.process.sentinel)
            stop.cancel()
            death.cancel()
        if not self._stop.is_set():
            ended = set(wait([c.process.sentinel for c in self._children], timeout=0))
            dead = [c for c in self._children if c.process.sentinel in ended]
            for child in dead:
                # The sentinel closes a moment before the exit code can be collected.
                child.process.join(timeout=1.0)
            names = ", ".join(f"{c.role} (exit code {c.process.exitcode})" for c in dead)
            raise GatewayStartError(f"stopping: {names or 'a process'} died")

    async def _stop_children(self) -> None:
        for child in self._children:
            if child.process.is_alive():
                child.process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and any(c.process.is_alive() for c in self._children):
            await asyncio.sleep(0.02)
        for child in self._children:
            if child.process.is_alive():
                child.process.kill()
            child.process.join(timeout=1.0)
            child.conn.close()
        self._children.clear()
