"""Timing phases (`--timings`) of both geventhttpclient clients, against real local servers.

The echo server over TLS (a self-signed certificate made by the test) and
plain: `/closing` answers with `Connection: close`, so every request opens
a connection; `/echo` keeps it alive, so only the first one does. The
request events go through a real Collector, as in a run, and what it
stores (the parts of its endpoint-seconds) is what is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from loadgate.engine.collector import Collector, phases_of
from loadgate.model import EndpointSecond, Part
from loadgate.stats import LatencyHistogram
from tests.engine.fastclient.conftest import Certificate

REQUESTS = 5
SLOW_MS = 50

Session = Callable[[str, Callable[..., None]], Any]


@pytest.fixture(scope="module", autouse=True)
def phase_timing() -> None:
    from loadgate.engine.fastclient.phases import install_phase_timing

    install_phase_timing()  # for the whole test process, as for a run's


def fast_session(certificate: Certificate, base_url: str, listener: Callable[..., None]) -> Any:
    """`--client fast`: FastSession, trusting the test's certificate."""
    from locust.event import EventHook

    from loadgate.engine.fastclient import FastSession

    hook = EventHook()
    hook.add_listener(listener)
    session = FastSession(base_url=base_url, request_event=hook, user=None)
    session.verify = str(certificate.cert)
    return session


def fasthttp_session(base_url: str, listener: Callable[..., None]) -> Any:
    """FastHttpUser's client (insecure by default, as in Locust)."""
    from locust.contrib.fasthttp import FastHttpSession
    from locust.event import EventHook

    hook = EventHook()
    hook.add_listener(listener)
    return FastHttpSession(base_url=base_url, request_event=hook, user=None)


SESSIONS = ["fast", "fasthttp"]


def make_session(kind: str, certificate: Certificate) -> Session:
    if kind == "fast":
        return partial(fast_session, certificate)
    return fasthttp_session


def collected(
    kind: str, certificate: Certificate, base_url: str, path: str, *, timings: bool = True
) -> tuple[EndpointSecond, list[Any]]:
    """REQUESTS GETs of `path` in one session, counted by a Collector: its one endpoint-second
    (the clock is fixed) and the events' responses."""
    collector = Collector(lambda: 1000.0, timings=timings)
    responses: list[Any] = []

    def listener(**event: Any) -> None:
        responses.append(event["response"])
        collector.on_request(**event)

    session = make_session(kind, certificate)(base_url, listener)
    for _ in range(REQUESTS):
        session.get(path)
    (second,) = [
        piece for finished in collector.take_all() for piece in finished.to_endpoint_seconds()
    ]
    return second, responses


def part_max_ms(second: EndpointSecond, part: Part) -> float:
    histogram = LatencyHistogram.decode(second.parts[part].histogram)
    return histogram.max_us / 1000


@pytest.mark.parametrize("kind", SESSIONS)
def test_a_server_that_closes_every_connection_shows_connect_and_tls_for_each_request(
    kind: str, certificate: Certificate, tls_url: str
) -> None:
    second, responses = collected(kind, certificate, tls_url, "/closing")
    assert second.requests == REQUESTS and second.failures == 0
    for part in (Part.CONNECT, Part.TLS, Part.TTFB, Part.DOWNLOAD):
        assert second.parts[part].requests == REQUESTS, part
    for response in responses:
        phases = phases_of(response)
        assert phases is not None
        assert phases.connect_s is not None and phases.connect_s > 0
        assert phases.tls_s is not None and phases.tls_s > 0
        assert phases.ttfb_s is not None and phases.ttfb_s > 0


@pytest.mark.parametrize("kind", SESSIONS)
def test_a_kept_alive_tls_connection_pays_connect_and_tls_once(
    kind: str, certificate: Certificate, tls_url: str
) -> None:
    second, responses = collected(kind, certificate, tls_url, "/echo")
    assert second.parts[Part.CONNECT].requests == 1
    assert second.parts[Part.TLS].requests == 1
    assert second.parts[Part.TTFB].requests == REQUESTS
    assert second.parts[Part.DOWNLOAD].requests == REQUESTS
    first, *rest = [phases_of(response) for response in responses]
    assert first is not None and first.connect_s and first.tls_s
    assert all(p is not None and p.connect_s is None and p.tls_s is None for p in rest)


@pytest.mark.parametrize("kind", SESSIONS)
def test_plain_http_has_connects_and_no_tls(
    kind: str, certificate: Certificate, echo_url: str
) -> None:
    second, _ = collected(kind, certificate, echo_url, "/closing")
    assert second.parts[Part.CONNECT].requests == REQUESTS
    assert Part.TLS not in second.parts
    assert second.parts[Part.TTFB].requests == REQUESTS


@pytest.mark.parametrize("kind", SESSIONS)
def test_the_time_to_first_byte_holds_the_servers_wait(
    kind: str, certificate: Certificate, echo_url: str
) -> None:
    # The server sleeps SLOW_MS before its headers: that is waiting, not connecting.
    second, _ = collected(kind, certificate, echo_url, f"/slow/{SLOW_MS}")
    assert part_max_ms(second, Part.TTFB) >= SLOW_MS * 0.9
    assert part_max_ms(second, Part.CONNECT) < SLOW_MS * 0.9


def test_without_timings_the_collector_counts_no_phases(
    certificate: Certificate, tls_url: str
) -> None:
    # The responses carry phases (timing is on in this process); the collector ignores them.
    second, responses = collected("fast", certificate, tls_url, "/closing", timings=False)
    assert all(phases_of(response) is not None for response in responses)
    assert not set(second.parts) & {Part.CONNECT, Part.TLS, Part.TTFB, Part.DOWNLOAD}


def test_a_failed_connection_has_no_phases(certificate: Certificate) -> None:
    from tests.fixtures.ports import free_port

    second, responses = collected("fast", certificate, f"http://127.0.0.1:{free_port()}", "/")
    assert second.failures == REQUESTS
    assert all(phases_of(response) is None for response in responses)
    assert second.parts == {}
