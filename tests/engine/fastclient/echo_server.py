"""A local HTTP/1.1 server that tells a client what it sent: for comparing two clients.

Run as `python echo_server.py PORT [CERT KEY [CLIENT_CA]]` (with a certificate and key: TLS;
with a CA file too: clients must present a certificate it signed).
Paths:
  /echo...          200, JSON: method, path (with the query), headers, body (latin-1)
  /status/N         status N, a short text body
  /redirect/N?to=U  status N with Location U
  /set-cookie?k=v   200 with Set-Cookie k=v (Path=/) for each pair
  /encoded/CODING   a JSON body with Content-Encoding CODING (gzip, deflate or br)
  /slow/MS          200 after MS milliseconds
  /close            closes the connection without answering
  /closing          200, then closes the connection (Connection: close)
  /upload           a multipart body's parts: name, filename, size
"""

from __future__ import annotations

import gzip
import json
import ssl
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import brotli  # type: ignore[import-untyped]

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status in (204, 304):
            body = b""  # no content, by definition
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qsl(parts.query, keep_blank_values=True)
        if path == "/close":
            self.close_connection = True
            self.connection.close()
            return
        body = self._body()
        if path == "/upload":
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=default).parsebytes(head + body)
            fields = [
                {
                    "name": part.get_param("name", header="content-disposition"),
                    "filename": part.get_filename(),
                    "size": len(part.get_payload(decode=True) or b""),
                }
                for part in message.iter_parts()
            ]
            self._answer(200, json.dumps(fields).encode(), [("Content-Type", "application/json")])
            return
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            self._answer(status, b"status body", [("Content-Type", "text/plain")])
        elif path.startswith("/redirect/"):
            status = int(path.rsplit("/", 1)[1])
            self._answer(status, b"", [("Location", dict(query)["to"])])
        elif path == "/closing":
            self._answer(200, b"closing", [("Connection", "close")])
        elif path == "/set-cookie":
            cookies = [("Set-Cookie", f"{key}={value}; Path=/") for key, value in query]
            self._answer(200, b"{}", [("Content-Type", "application/json"), *cookies])
        elif path.startswith("/encoded/"):
            coding = path.rsplit("/", 1)[1]
            payload = ENCODERS[coding](json.dumps({"encoded": coding}).encode())
            self._answer(200, payload, [("Content-Type", "application/json"),
                                        ("Content-Encoding", coding)])  # fmt: skip
        elif path.startswith("/slow/"):
            time.sleep(int(path.rsplit("/", 1)[1]) / 1000)
            self._answer(200, b"slow")
        else:
            echo = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("latin-1"),
            }
            self._answer(200, json.dumps(echo).encode(), [("Content-Type", "application/json")])

    # The names http.server calls.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _route  # noqa: N815


def main() -> None:
    port = int(sys.argv[1])
    ThreadingHTTPServer.request_queue_size = 128  # a burst of connections is not refused
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if len(sys.argv) >= 4:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        if len(sys.argv) == 5:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
