"""FastSession: what `self.client` is in an HttpUser under `--client fast`.

It keeps the contract of Locust's HttpSession (a requests.Session with
`name=`, `catch_response=` and `context=`, paths relative to the user's
host, one request event per request) and the parts of requests' Session
scripts use: the verbs, `headers`, `cookies`, `auth`, `params`, `verify`,
`cert`, `max_redirects`. Responses are requests.Response objects wrapped by
Locust's own ResponseContextManager, so catch_response and the failure
messages are Locust's. Anything else of requests.Session is refused by name
(UnsupportedByFastClientError) rather than quietly ignored.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

from locust.clients import ResponseContextManager
from requests import PreparedRequest, Response
from requests.auth import HTTPBasicAuth
from requests.cookies import MockRequest, MockResponse, RequestsCookieJar
from requests.exceptions import InvalidSchema, InvalidURL, MissingSchema, RequestException
from requests.models import DEFAULT_REDIRECT_LIMIT
from requests.structures import CaseInsensitiveDict
from requests.utils import default_headers

from loadgate.engine.fastclient import outgoing, redirects
from loadgate.engine.fastclient.connections import Connections, Timeouts, endpoint_of
from loadgate.engine.fastclient.headers import Headers, pairs_of
from loadgate.engine.fastclient.incoming import ACCEPT_ENCODING, build_response, requests_errors
from loadgate.engine.fastclient.refusal import AttributeRefusedError, UnsupportedByFastClientError

# verify, cert and timeout=, as the request (or the session) gives them.
_Settings = tuple[bool | str, Any, Any]
_ABSOLUTE_URL = re.compile(r"^https?://", re.IGNORECASE)
# requests.Session attributes this session refuses to take other values for.
_FIXED: dict[str, Any] = {"proxies": {}, "stream": False, "trust_env": False}
# requests.Session attributes that change how requests are sent, which this session lacks.
_REFUSED_SETTINGS = frozenset({"hooks", "adapters", "mount"})
_REQUEST_KWARGS = frozenset(
    {"params", "headers", "cookies", "files", "auth", "timeout", "allow_redirects", "verify",
     "cert", "proxies", "hooks", "stream"}
)  # fmt: skip


class FastSession:
    """A per-user HTTP session on geventhttpclient, with the requests API scripts use."""

    def __init__(
        self, base_url: str, request_event: Any, user: Any, *, pool_manager: Any = None
    ) -> None:
        if pool_manager is not None:
            raise UnsupportedByFastClientError("HttpUser.pool_manager (a urllib3 PoolManager)")
        self.base_url = base_url
        self.request_event = request_event
        self.user = user
        self.request_name: str | None = None
        self.headers: CaseInsensitiveDict[str] = Headers(default_headers())
        self.headers["Accept-Encoding"] = ACCEPT_ENCODING
        self.cookies = RequestsCookieJar()
        self.auth: Any = None
        self.params: dict[str, Any] = {}
        self.verify: bool | str = True
        self.cert: str | tuple[str, str] | None = None
        self.max_redirects = DEFAULT_REDIRECT_LIMIT
        self._connections = Connections()
        parts = urlsplit(base_url)
        if parts.username and parts.password:
            # As HttpSession: credentials in the host become basic auth, the URL loses them.
            self.base_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
            self.auth = HTTPBasicAuth(unquote(parts.username), unquote(parts.password))

    def __setattr__(self, name: str, value: Any) -> None:
        if (name in _FIXED and value != _FIXED[name]) or name in _REFUSED_SETTINGS:
            raise UnsupportedByFastClientError(f"setting client.{name}")
        if name not in _FIXED:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called for what the session does not have: requests.Session's other parts.
        if name in _FIXED:
            return _FIXED[name]
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeRefusedError(f"client.{name}")

    @contextmanager
    def rename_request(self, name: str) -> Iterator[None]:
        """Locust's grouping of the requests made inside the block under one name."""
        self.request_name = name
        try:
            yield
        finally:
            self.request_name = None

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> FastSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, **kwargs: Any) -> ResponseContextManager:
        kwargs.setdefault("allow_redirects", True)
        return self.request("GET", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> ResponseContextManager:
        kwargs.setdefault("allow_redirects", True)
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> ResponseContextManager:
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def post(
        self, url: str, data: Any = None, json: Any = None, **kwargs: Any
    ) -> ResponseContextManager:
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> ResponseContextManager:
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> ResponseContextManager:
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> ResponseContextManager:
        return self.request("DELETE", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        name: str | None = None,
        catch_response: bool = False,
        context: Mapping[str, Any] | None = None,
        *,
        data: Any = None,
        json: Any = None,
        **kwargs: Any,
    ) -> ResponseContextManager:
        """Send one request (redirects followed unless allow_redirects=False) and report it."""
        _refuse_unsupported(kwargs)
        if self.request_name and not name:
            name = self.request_name
        complete_url = url if _ABSOLUTE_URL.match(url) else f"{self.base_url}{url}"
        start_time = time.time()
        start = time.perf_counter()
        response = self._send_safely(method, complete_url, data, json, kwargs)
        response_time_ms = (time.perf_counter() - start) * 1000
        first = response.history[0] if response.history else response
        if first.request is not None:
            complete_url = str(first.request.url)
            name = name or first.request.path_url
        else:
            name = name or str(url)
        request_context = dict(context or {})
        if self.user is not None:
            request_context = {**self.user.context(), **request_context}
        request_meta = {
            "request_type": method,
            "response_time": response_time_ms,
            "name": name,
            "context": request_context,
            "response": response,
            "exception": None,
            "start_time": start_time,
            "url": complete_url,
            "response_length": len(response.content or b""),
        }
        wrapped = ResponseContextManager.wrap_response(
            response,
            request_event=self.request_event,
            request_meta=request_meta,
            catch_response=catch_response,
        )
        if not catch_response:
            cast(Any, wrapped).__exit__(None, None, None)
        return wrapped

    def _send_safely(
        self, method: str, url: str, data: Any, json_body: Any, kwargs: Mapping[str, Any]
    ) -> Response:
        """As HttpSession: a transport error becomes a response with status 0 and `.error`."""
        try:
            return self._send(method, url, data, json_body, kwargs)
        except (MissingSchema, InvalidSchema, InvalidURL):
            raise
        except RequestException as exc:
            return ResponseContextManager(exc)

    def _send(
        self, method: str, url: str, data: Any, json_body: Any, kwargs: Mapping[str, Any]
    ) -> Response:
        params = outgoing.merged_params(self.params, kwargs.get("params"))
        full_url = outgoing.full_url(url, params)
        headers = outgoing.merged_headers(self.headers, kwargs.get("headers"))
        body, content_type = outgoing.encode_body(data, json_body, kwargs.get("files"))
        request = outgoing.prepared(method.upper(), full_url, headers, body, content_type)
        outgoing.add_cookies(request, self.cookies, kwargs.get("cookies"))
        auth = kwargs.get("auth")
        outgoing.apply_auth(request, self.auth if auth is None else auth)
        verify = kwargs.get("verify")
        settings = (
            self.verify if verify is None else verify,
            kwargs.get("cert") or self.cert,
            kwargs.get("timeout"),
        )
        response = self._exchange(request, settings)
        if kwargs.get("allow_redirects", True):
            response = redirects.follow(
                response,
                lambda next_request: self._exchange(next_request, settings),
                self.cookies,
                self.max_redirects,
            )
        return response

    def _exchange(self, request: PreparedRequest, settings: _Settings) -> Response:
        """One request and its response, cookies kept in the session's jar."""
        endpoint = endpoint_of(str(request.url))
        verify, cert, timeout = settings
        key = (endpoint.scheme, endpoint.host, endpoint.port, verify, cert, timeout)
        read_timeout_s = Timeouts.of(timeout).read_s if timeout is not None else None
        # Outside the error mapping, as in requests: a missing CA bundle is an OSError of
        # the script's, not a failed request.
        client = self._connections.client(key)
        with requests_errors(request, endpoint.host, endpoint.port, read_timeout_s):
            start = time.perf_counter()
            raw = client.request(
                str(request.method),
                endpoint.target,
                body=cast(Any, request.body),
                # Pairs: the cheapest form for geventhttpclient to merge (it does, twice).
                headers=cast(Any, list(pairs_of(request.headers))),
            )
            response = build_response(raw, request, time.perf_counter() - start)
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            cookies_of = MockResponse(raw.info())
            self.cookies.extract_cookies(cookies_of, MockRequest(request))  # type: ignore[arg-type]
            response.cookies.extract_cookies(cookies_of, MockRequest(request))  # type: ignore[arg-type]
        return response


def _refuse_unsupported(kwargs: Mapping[str, Any]) -> None:
    for key, value in kwargs.items():
        if key not in _REQUEST_KWARGS:
            raise TypeError(f"request() got an unexpected keyword argument {key!r}")
        if key in ("proxies", "hooks") and value:
            raise UnsupportedByFastClientError(f"{key}=")
        if key == "stream" and value:
            raise UnsupportedByFastClientError("stream=True")
