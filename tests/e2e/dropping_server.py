"""A keep-alive HTTP server that closes the connection, unanswered, on every second request.

For the fast client's re-send: a client that sends a dropped request again
on a new connection hides the drop; one that does not reports it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
END_OF_HEAD = b"\r\n\r\n"


class DroppingServer:
    """Counts the requests it read; answers the odd ones, drops the connection on the even."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self.requests = 0

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed: the test is over
                return
            threading.Thread(target=self._converse, args=(connection,), daemon=True).start()

    def _converse(self, connection: socket.socket) -> None:
        with connection:
            pending = b""
            while True:
                while END_OF_HEAD not in pending:
                    data = connection.recv(65536)
                    if not data:
                        return
                    pending += data
                # The clients' GETs have no body: the head is the whole request.
                pending = pending.partition(END_OF_HEAD)[2]
                with self._lock:
                    self.requests += 1
                    drop = self.requests % 2 == 0
                if drop:
                    return
                connection.sendall(ANSWER)

    def close(self) -> None:
        self._listener.close()


@contextmanager
def dropping_server() -> Iterator[DroppingServer]:
    server = DroppingServer()
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        yield server
    finally:
        server.close()
