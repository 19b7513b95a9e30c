"""The scraper's threads: once a second per URL, keyed by the second that ended, off the hub."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import gevent
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from loadgate.engine.scraper import Scraper
from tests.fixtures.ports import free_port


@pytest.fixture
def exporter_url() -> Iterator[str]:
    registry = CollectorRegistry()
    Gauge("queue_length", "waiting", registry=registry).set(3)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield f"http://127.0.0.1:{port}/metrics"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/metrics"
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()


def test_each_scrape_is_keyed_by_the_second_that_just_ended(exporter_url: str) -> None:
    scraper = Scraper([exporter_url])
    scraper.start()
    gevent.sleep(3.2)
    taken_at = time.time()
    scraper.stop()
    results = scraper.take()
    seconds = [r.second for r in results]
    assert len(seconds) >= 2, results
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))  # one a second
    assert seconds[-1] <= int(taken_at) - 1
    assert all(r.error == "" and r.values for r in results)
    assert scraper.take() == []  # taken once


def test_a_url_that_never_answers_holds_up_neither_the_others_nor_the_hub(
    exporter_url: str, silent_url: str
) -> None:
    scraper = Scraper([silent_url, exporter_url], timeout_s=0.8)
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        while True:
            gevent.sleep(0.02)
            ticks += 1

    ticker = gevent.spawn(tick)
    scraper.start()
    gevent.sleep(3.2)
    scraper.stop()
    ticker.kill()
    results = scraper.take()
    silent = [r for r in results if r.url == silent_url]
    answered = [r for r in results if r.url == exporter_url]
    assert silent and all(r.error.startswith("no answer") for r in silent)
    assert len(answered) >= 2 and all(r.error == "" for r in answered)
    # About 160 ticks in 3.2 s; a hub held by 0.8 s waits each second would get far fewer.
    assert ticks > 80
