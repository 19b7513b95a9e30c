"""A local HTTP/1.1 target for end-to-end tests: known delays, chosen statuses, its own timings.

Run as `python delay_server.py PORT TRUTH_DIR`. Each connection gets a process of its
own (no GIL shared between connections, so a sub-millisecond sleep ends on time), and
each process appends its timings to TRUTH_DIR/<pid>.txt. Paths:
  /mix        delays from MIX_PATTERN_US, in arrival order (a known distribution)
  /zero       no delay (the transport time)
  /delay/N    N microseconds
  /status/N   status N, no delay
Any other path answers 200. The service time is measured from the parsed
request to just before the response is written: what the server did, without
the transport.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from socketserver import ForkingMixIn

# Per 100 requests: 60 × 0.3 ms, 37 × 5 ms, 3 × 50 ms. So p50 = 0.3 ms, p95 = 5 ms and
# p99 = 50 ms, each well inside its plateau (not on a step between two).
MIX_PATTERN_US = [300] * 60 + [5_000] * 37 + [50_000] * 3
SPREAD = 7  # interleave the pattern: consecutive requests get different delays


class Schedule:
    """The /mix delays. Shared by the connection processes through a counter file."""

    def __init__(self) -> None:
        order = [(i * SPREAD) % len(MIX_PATTERN_US) for i in range(len(MIX_PATTERN_US))]
        self.pattern = [MIX_PATTERN_US[i] for i in order]

    def delay_us(self, counter: int) -> int:
        return self.pattern[counter % len(self.pattern)]


SCHEDULE = Schedule()
COUNTER = itertools.count()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed ACK

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, delay_us = 200, 0
        if path == "/mix":
            # Each connection walks the whole pattern from its own offset: over many
            # requests every connection sees the same distribution.
            delay_us = SCHEDULE.delay_us(next(COUNTER) + os.getpid())
        elif path.startswith("/delay/"):
            delay_us = int(path.rsplit("/", 1)[1])
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
        if delay_us:
            time.sleep(delay_us / 1e6)
        service_us = round((time.perf_counter() - started) * 1e6)
        self._send(status, b'{"ok": true}')
        self.server.truth.write(f"{path} {service_us}\n")  # type: ignore[attr-defined]

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer  # noqa: N815 -- the names http.server calls
    do_POST = _answer  # noqa: N815


class ForkingHTTPServer(ForkingMixIn, HTTPServer):
    """One process per connection; each opens its own truth file."""

    def __init__(self, port: int, truth_dir: Path) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.truth_dir = truth_dir

    def finish_request(self, request: object, client_address: object) -> None:
        # In the child: line-buffered, so the test can read the file while we run.
        with (self.truth_dir / f"{os.getpid()}.txt").open("a", buffering=1) as self.truth:
            super().finish_request(request, client_address)  # type: ignore[arg-type]


def main() -> None:
    server = ForkingHTTPServer(int(sys.argv[1]), Path(sys.argv[2]))
    server.serve_forever()


if __name__ == "__main__":
    main()
