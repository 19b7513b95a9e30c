"""FastSession against Locust's HttpSession: the same requests on the wire, responses, events.

Each scenario runs once with each client against the same local server
(echo_server.py, a real HTTP/1.1 server in its own process); what the script
would see (status, headers, body, URL, history, cookies, errors) and what
the request events carry (method, name, length, failure message) must be
equal.

Locust (gevent's monkey-patching) is imported by the fixtures when the first
test runs: nothing of requests or urllib3 may be imported at module level
here, or their SSL classes escape the patching.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.engine.fastclient.conftest import Certificate, Client, MakeClients
from tests.fixtures.ports import free_port

# Request headers worth comparing (not Host, whose port is the only difference if any).
SENT = ("accept", "accept-encoding", "user-agent", "content-type", "content-length", "cookie",
        "authorization", "x-a", "x-b")  # fmt: skip


def sent(response: Any) -> dict[str, Any]:
    """What the echo server received, as it told us."""
    echo = response.json()
    headers = {name: value for name, value in echo["headers"].items() if name in SENT}
    return {
        "method": echo["method"],
        "path": echo["path"],
        "headers": headers,
        "body": echo["body"],
    }


def seen(response: Any) -> dict[str, Any]:
    """What a script reads of a response (an echo's body is compared by `sent`: header order)."""
    echo = response.headers.get("content-type") == "application/json" and b'"method"' in (
        response.content or b""
    )
    return {
        "status": response.status_code,
        "reason": response.reason,
        "ok": None if response.error else response.ok,  # .ok raises the error again
        "url": response.url,
        "content_type": response.headers.get("CONTENT-TYPE"),
        "content": None if echo else response.content,
        "text": None if echo else response.text,
        "encoding": response.encoding,
        "history": [(r.status_code, r.url) for r in response.history],
        "cookies": dict(response.cookies),
        "error": None if response.error is None else type(response.error).__name__,
    }


def get_with_params(client: Any) -> object:
    response = client.get("/echo?x=1", params={"y": "a b", "z": ["1", "2"]}, headers={"X-A": "1"})
    return seen(response), sent(response)


def verbs(client: Any) -> object:
    return [
        sent(client.post("/echo", json={"a": [1, 2], "b": None})),
        sent(client.post("/echo", data={"a": "1 2", "b": "é"})),
        sent(client.put("/echo", data=b"raw bytes")),
        sent(client.patch("/echo", data="text body")),
        sent(client.delete("/echo")),
        sent(client.options("/echo")),
        sent(client.request("GET", "/echo", headers={"X-B": b"bytes"})),
        seen(client.head("/echo")),
    ]


def statuses(client: Any) -> object:
    return [seen(client.get(f"/status/{status}")) for status in (201, 204, 404, 500, 503)]


def catch_response(client: Any) -> object:
    with client.get("/status/500", catch_response=True) as response:
        response.success()
    with client.get("/echo", catch_response=True, name="checked") as response:
        if response.json()["method"] == "GET":
            response.failure("wrong method")
    with client.get("/status/404", catch_response=True) as response:
        pass
    with client.post("/echo", json={}, catch_response=True) as response:
        response.failure(ValueError("as an exception"))
    return response.status_code


def raise_for_status(client: Any) -> object:
    response = client.get("/status/404")
    with pytest.raises(Exception) as raised:
        response.raise_for_status()
    return type(raised.value).__name__, str(raised.value)


def encoded_bodies(client: Any) -> object:
    responses = [client.get(f"/encoded/{coding}") for coding in ("gzip", "deflate", "br")]
    return [(r.json(), r.headers.get("content-encoding"), seen(r)) for r in responses]


def cookies(client: Any) -> object:
    client.get("/set-cookie?session=abc&theme=dark")
    with_jar = sent(client.get("/echo"))
    with_param = sent(client.get("/echo", cookies={"extra": "1"}))
    client.cookies.set("manual", "yes")
    with_set = sent(client.get("/echo"))
    return with_jar, with_param, with_set, sorted(client.cookies.get_dict().items())


def redirects(client: Any) -> object:
    results = []
    for status, method in ((301, "POST"), (302, "GET"), (303, "POST"), (307, "POST"), (308, "PUT")):
        response = client.request(method, f"/redirect/{status}?to=/echo%3Fhop%3D1", data="body")
        results.append((seen(response), sent(response)))
    absolute = client.get(f"/redirect/302?to={client.base_url}/echo")
    chained = client.get("/redirect/302?to=/redirect/301%3Fto%3D/echo", name="chain")
    not_followed = client.get("/redirect/302?to=/echo", allow_redirects=False)
    return results, seen(absolute), seen(chained), seen(not_followed)


def cookie_across_redirect(client: Any) -> object:
    response = client.get("/redirect/302?to=/set-cookie%3Fa%3D1")
    return seen(response), sorted(client.cookies.get_dict().items()), sent(client.get("/echo"))


def auth(client: Any) -> object:
    by_tuple = sent(client.get("/echo", auth=("user", "pässword")))
    client.auth = ("session", "secret")
    by_session = sent(client.get("/echo"))
    return by_tuple, by_session


def session_defaults(client: Any) -> object:
    client.headers.update({"X-A": "default"})
    client.params = {"always": "1"}
    first = sent(client.get("/echo", headers={"X-B": "2"}))
    removed = sent(client.get("/echo", headers={"X-A": None}))
    return first, removed


def uploads(client: Any) -> object:
    files = {
        "report": ("report.csv", b"a,b\n1,2\n", "text/csv"),
        "blob": b"\x00\x01" * 100,
    }
    response = client.post("/upload", files=files, data={"field": "value"})
    return response.json(), response.status_code


def renamed(client: Any) -> object:
    with client.rename_request("grouped"):
        client.get("/echo?id=1")
        client.get("/echo?id=2")
    return None


def read_timeout(client: Any) -> object:
    return seen(client.get("/slow/400", timeout=0.1))


def refused(client: Any) -> object:
    return seen(client.get(f"http://127.0.0.1:{free_port()}/nothing"))


def closed_without_answer(client: Any) -> object:
    return seen(client.get("/close"))


SCENARIOS: list[Callable[[Any], object]] = [
    get_with_params, verbs, statuses, catch_response, raise_for_status, encoded_bodies, cookies,
    redirects, cookie_across_redirect, auth, session_defaults, uploads, renamed, read_timeout,
    refused, closed_without_answer,
]  # fmt: skip


def run_both(make: MakeClients, base_url: str, scenario: Callable[[Any], object]) -> list[Client]:
    pair = make(base_url)
    results = [scenario(client.session) for client in pair]
    assert results[0] == results[1]
    assert pair[0].reported() == pair[1].reported()
    return list(pair)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_both_clients_send_see_and_report_the_same(
    clients: MakeClients, echo_url: str, scenario: Callable[[Any], object]
) -> None:
    pair = run_both(clients, echo_url, scenario)
    assert pair[1].events, "the scenario made no request"


def test_the_events_carry_what_the_collector_reads(clients: MakeClients, echo_url: str) -> None:
    requests_client, fast = run_both(clients, echo_url, catch_response)
    assert fast.reported() == [
        ("GET", "/status/500", 11, ""),
        ("GET", "checked", fast.events[1]["response_length"], "CatchResponseError('wrong method')"),
        ("GET", "/status/404", 11,
         "HTTPError('404 Client Error: Not Found for url: /status/404')"),
        ("POST", "/echo", fast.events[3]["response_length"], "ValueError('as an exception')"),
    ]  # fmt: skip
    assert [e["response"].status_code for e in fast.events] == [500, 200, 404, 200]
    assert all(e["context"] == {} and e["start_time"] > 0 for e in fast.events)
    assert [e["url"] for e in fast.events] == [e["url"] for e in requests_client.events]


def test_a_connection_failure_is_a_status_0_response_with_the_same_cause(
    clients: MakeClients, echo_url: str
) -> None:
    _, fast = run_both(clients, echo_url, refused)
    assert fast.reported()[0][3] == "ConnectionRefusedError(111, 'Connection refused')"
    assert fast.events[0]["response"].status_code == 0


def test_the_base_urls_credentials_become_basic_auth(clients: MakeClients, echo_url: str) -> None:
    with_credentials = echo_url.replace("http://", "http://name:pass%40word@")
    requests_client, fast = clients(with_credentials)
    assert fast.session.base_url == requests_client.session.base_url == echo_url
    assert sent(fast.session.get("/echo")) == sent(requests_client.session.get("/echo"))


@pytest.mark.parametrize("verify", ["default", "ca_file", "off"])
def test_tls_verification_is_as_requests_does_it(
    clients: MakeClients, tls_url: str, certificate: Certificate, verify: str
) -> None:
    kwargs: dict[str, Any] = {
        "default": {},
        "ca_file": {"verify": str(certificate.cert)},
        "off": {"verify": False},
    }[verify]
    pair = clients(tls_url)
    results = [seen(client.session.get("/status/200", **kwargs)) for client in pair]
    assert results[0] == results[1]
    assert pair[0].reported() == pair[1].reported()
    if verify == "default":
        # Not trusted: the self-signed certificate is in no CA bundle.
        assert results[1]["status"] == 0
        assert "CERTIFICATE_VERIFY_FAILED" in pair[1].reported()[0][3]
    else:
        assert results[1]["status"] == 200


def _digest() -> Any:
    from requests.auth import HTTPDigestAuth

    return HTTPDigestAuth("a", "b")


@pytest.mark.parametrize(
    ("use", "named"),
    [
        (lambda c: c.get("/echo", stream=True), "stream=True"),
        (lambda c: c.get("/echo", proxies={"http": "http://127.0.0.1:9"}), "proxies="),
        (lambda c: c.mount("http://", object()), "client.mount"),
        (lambda c: setattr(c, "proxies", {"http": "http://127.0.0.1:9"}), "setting client.proxies"),
        (lambda c: setattr(c, "trust_env", True), "setting client.trust_env"),
        (lambda c: setattr(c, "hooks", {"response": []}), "setting client.hooks"),
        (lambda c: c.hooks["response"].append(print), "client.hooks"),
        (lambda c: c.get("/echo").raw.read(), "response.raw.read"),
        (lambda c: c.get("/echo", auth=_digest()), "auth=HTTPDigestAuth"),
        (
            lambda c: c.post("/echo", data=(b"x" for _ in range(2))),
            "data= as generator (a streamed body)",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_what_it_does_not_do_is_refused_by_name_with_the_way_back(
    clients: MakeClients, echo_url: str, use: Callable[[Any], object], named: str
) -> None:
    from loadgate.engine.fastclient import UnsupportedByFastClientError

    _, fast = clients(echo_url)
    with pytest.raises(UnsupportedByFastClientError) as refused:
        use(fast.session)
    assert str(refused.value).startswith(f"{named} is not supported by --client fast")
    assert "--client requests" in str(refused.value)


def test_probing_for_what_it_lacks_still_works(clients: MakeClients, echo_url: str) -> None:
    _, fast = clients(echo_url)
    assert getattr(fast.session, "adapters", None) is None
    assert not hasattr(fast.session.get("/echo").raw, "read")
    assert fast.session.trust_env is False and fast.session.proxies == {}


@pytest.mark.parametrize("with_cert", [True, False])
def test_a_client_certificate_is_presented_as_requests_does(
    clients: MakeClients, mutual_tls_url: str, certificate: Certificate, with_cert: bool
) -> None:
    kwargs: dict[str, Any] = {"verify": str(certificate.cert)}
    if with_cert:
        kwargs["cert"] = (str(certificate.cert), str(certificate.key))
    pair = clients(mutual_tls_url)
    statuses = [client.session.get("/status/200", **kwargs).status_code for client in pair]
    assert statuses == ([200, 200] if with_cert else [0, 0])
    if with_cert:
        assert pair[0].reported() == pair[1].reported()
    else:
        # The server's refusal arrives as an alert or a reset, whichever the timing gives.
        assert all("SSL" in message for *_, message in pair[1].reported()), pair[1].reported()
