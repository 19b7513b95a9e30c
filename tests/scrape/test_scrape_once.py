"""Scraping a real HTTP server: prometheus-client's own exporter, then stopped, then silent."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from loadgate.scrape import Deriver, scrape_once
from loadgate.scraped import SeriesKey, SeriesKind
from tests.fixtures.ports import free_port


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def exporter(registry: CollectorRegistry) -> Iterator[tuple[str, object]]:
    """prometheus-client's start_http_server on a free port of 127.0.0.1."""
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield f"http://127.0.0.1:{port}/metrics", server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_two_scrapes_of_a_real_exporter_give_a_rate(
    registry: CollectorRegistry, exporter: tuple[str, object]
) -> None:
    url, _ = exporter
    counter = Counter("orders_total", "orders", registry=registry)
    deriver = Deriver(url)
    assert scrape_once(deriver, 1).error == ""
    counter.inc(12)
    later = scrape_once(deriver, 2)
    rate = later.values[SeriesKey(url=url, name="orders_total", labels=(), kind=SeriesKind.RATE)]
    assert rate > 0


def test_an_exporter_that_stopped_answering_is_a_gap_saying_why(
    registry: CollectorRegistry, exporter: tuple[str, object]
) -> None:
    url, server = exporter
    Gauge("queue_length", "waiting", registry=registry).set(3)
    deriver = Deriver(url)
    assert scrape_once(deriver, 1).values
    server.shutdown()  # type: ignore[attr-defined]
    server.server_close()  # type: ignore[attr-defined]
    gap = scrape_once(deriver, 2)
    assert gap.values == {}
    assert gap.error == "connection refused"
    assert gap.second == 2 and gap.url == url


def test_a_server_that_never_answers_is_a_gap_after_the_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accept and stay silent
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/metrics"
        started = time.monotonic()
        gap = scrape_once(Deriver(url), 7, timeout_s=0.3)
        waited_s = time.monotonic() - started
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()
    assert gap.error.startswith("no answer")
    assert gap.values == {}
    # It gave up on its timeout rather than waiting for the server (generous bound: the
    # point is that it did not hang, not how fast it is).
    assert waited_s < 10


def test_a_page_that_is_not_prometheus_text_is_a_gap() -> None:
    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>{{not metrics}}</html>\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gap = scrape_once(Deriver(f"http://127.0.0.1:{server.server_port}/"), 1)
    finally:
        server.shutdown()
        server.server_close()
    assert gap.error.startswith("not Prometheus text")


def test_an_answer_that_is_not_http_is_a_gap() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def answer_garbage() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HELLO THERE\r\n\r\n")
        connection.close()

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        gap = scrape_once(Deriver(f"http://127.0.0.1:{listener.getsockname()[1]}/metrics"), 1)
    finally:
        thread.join(5)
        listener.close()
    assert gap.error.startswith("not an HTTP answer"), gap.error
