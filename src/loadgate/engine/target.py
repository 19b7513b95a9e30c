"""The built-in target: `loadgate gateway` as a subprocess on free ports of 127.0.0.1."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from loadgate.errors import RunError

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.1
HEALTH_TIMEOUT_S = 1.0
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it if loadgate dies (even by SIGKILL). Linux only."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A port nothing listens on right now (the OS picks; a race is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class BuiltinGateway:
    """A running reference gateway; `stop()` (or leaving the `with` block) ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, admin_port: int, log: Path):
        self._process = process
        self.port = port
        self.admin_port = admin_port
        self._log = log

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def health_url(self) -> str:
        return f"http://{LOOPBACK}:{self.admin_port}/health"

    @property
    def metrics_url(self) -> str:
        """Its Prometheus metrics (the admin API's /metrics)."""
        return f"http://{LOOPBACK}:{self.admin_port}/metrics"

    @classmethod
    def launch(cls) -> BuiltinGateway:
        """Start the process; then `wait_until_ready` (separate, so a caller can register
        `terminate_now` for a hurried exit before waiting)."""
        port, admin_port = free_port(), free_port()
        log_fd, log_name = tempfile.mkstemp(prefix="loadgate-gateway-", suffix=".log")
        command = [sys.executable, "-m", "loadgate", "gateway"]
        command += ["--port", str(port), "--admin-port", str(admin_port)]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches only us, and
                # the target keeps answering while we stop users and flush.
                start_new_session=True,
                # Only a prctl() between fork and exec; no lock a thread could hold.
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
        except OSError as exc:
            raise RunError(f"cannot start the built-in gateway: {exc.strerror}") from exc
        finally:
            os.close(log_fd)
        return cls(process, port, admin_port, Path(log_name))

    @classmethod
    def start(cls, timeout_s: float = READY_TIMEOUT_S) -> BuiltinGateway:
        """Start it and wait until /health answers 200; RunError if it does not."""
        gateway = cls.launch()
        gateway.wait_until_ready(timeout_s)
        return gateway

    def wait_until_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Block until /health answers 200; RunError (and the process stopped) if it does not."""
        try:
            self._wait_until_ready(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise RunError(
                    f"the built-in gateway exited with code {code} before it was ready"
                    f"{self._last_log_line()}"
                )
            if self._healthy():
                return
            time.sleep(POLL_INTERVAL_S)
        raise RunError(
            f"the built-in gateway did not answer {self.health_url} within {timeout_s:.0f}s"
            f"{self._last_log_line()}"
        )

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=HEALTH_TIMEOUT_S) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _last_log_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [ln for ln in self._log.read_text(errors="replace").splitlines() if ln.strip()]
            if lines:
                return f": {lines[-1].strip()}"
        return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; removes its log."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        with contextlib.suppress(OSError):
            self._log.unlink()

    def terminate_now(self) -> None:
        """SIGTERM without waiting: for a process that is about to exit at once.

        os.kill rather than Popen.send_signal, which polls the child through
        gevent: this runs on the interrupt thread, outside the hub.
        """
        with contextlib.suppress(ProcessLookupError, OSError):
            os.kill(self._process.pid, signal.SIGTERM)

    def __enter__(self) -> BuiltinGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
