"""The dashboard's gate (ASGI middleware): who may ask, from where, and every answer's headers.

Checked in this order, before any route runs:

1. Host: without a token, the Host header must name the loopback, so that a
   web page whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot
   read the dashboard from a browser on this machine.
2. Token: with one, every request but the login form carries it, as
   `Authorization: Bearer T` or as the session cookie the login form sets
   (an HMAC of the token, HttpOnly, SameSite=Strict); compared in constant time.
3. CSRF: a request that changes state (any method but GET, HEAD, OPTIONS)
   made with a cookie or without a token must carry the CSRF cookie's value
   in an `X-CSRF-Token` header or a `csrf_token` form field
   (double submit: another site can neither read the cookie nor set it), and
   an Origin header, when sent, must be this dashboard's. A request with the
   bearer header is exempt: browsers never add that header on their own.

Form bodies (URL-encoded; the dashboard's forms send no files) are read here
to find the field, up to MAX_BODY_BYTES, and handed on parsed (`form_of`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loadgate.web.settings import is_loopback

SESSION_COOKIE = "loadgate_session"
CSRF_COOKIE = "loadgate_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/login"
MAX_BODY_BYTES = 1_000_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPE = "application/x-www-form-urlencoded"
_SCOPE_FORM = "loadgate.form"
_SCOPE_CSRF = "loadgate.csrf"

# Plotly adds <style> elements as it draws, hence 'unsafe-inline' for styles
# only; scripts come from /static alone.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


def session_value(token: str) -> str:
    """The session cookie's value for `token`: proves the token was given, without holding it."""
    return hmac.new(token.encode(), b"loadgate dashboard session", hashlib.sha256).hexdigest()


def same_text(given: str, expected: str) -> bool:
    """Constant-time equality of two secrets."""
    return hmac.compare_digest(given.encode(), expected.encode())


def form_of(request: Request) -> Mapping[str, str]:
    """The URL-encoded form the gate read from a state-changing request (empty otherwise)."""
    form: Mapping[str, str] = request.scope.get(_SCOPE_FORM, {})
    return form


def csrf_token_of(request: Request) -> str:
    """The CSRF token the request's pages must put in their forms."""
    token: str = request.scope[_SCOPE_CSRF]
    return token


def safe_next_path(path: str) -> str:
    """`path` if it is a path on this site ('/runs?page=2'); '/' otherwise (no open redirect)."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


class Guard:
    """The gate: see the module's docstring. `token` None: loopback-only, no login."""

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self._app = app
        self._token = token
        self._session = session_value(token) if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = _cookies(headers)
        csrf = cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        scope[_SCOPE_CSRF] = csrf
        send = _with_headers(send, csrf if CSRF_COOKIE not in cookies else None)

        refusal, by_bearer = self._refusal(scope, headers, cookies)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            body = await _read_body(receive)
            if body is None:
                await _plain(413, f"the request body is over {MAX_BODY_BYTES:,} bytes")(
                    scope, receive, send
                )
                return
            form = _form(headers, body)
            problem = "" if by_bearer else _csrf_problem(headers, form, cookies.get(CSRF_COOKIE))
            if problem:
                await _plain(403, problem)(scope, receive, send)
                return
            scope[_SCOPE_FORM] = form
            receive = _replay(body)
        await self._app(scope, receive, send)

    def _refusal(
        self, scope: Scope, headers: Headers, cookies: Mapping[str, str]
    ) -> tuple[Response | None, bool]:
        """A response refusing the request, or None; and whether the bearer header let it in."""
        if self._token is None:
            host = urlsplit("//" + headers.get("host", "")).hostname or ""
            if not is_loopback(host):
                return _plain(403, "this dashboard answers only to 127.0.0.1 or localhost"), False
            return None, False
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() == "bearer" and same_text(given.strip(), self._token):
                return None, True
            return _unauthorized("the bearer token is wrong"), False
        assert self._session is not None
        if same_text(cookies.get(SESSION_COOKIE, ""), self._session):
            return None, False
        if scope["path"] == LOGIN_PATH:
            return None, False
        if scope["method"] == "GET" and "text/html" in headers.get("accept", ""):
            target = scope["path"] + (
                "?" + scope["query_string"].decode() if scope["query_string"] else ""
            )
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", 303), False
        return _unauthorized("this dashboard needs its token: Authorization: Bearer TOKEN"), False


def _plain(status: int, line: str) -> Response:
    return PlainTextResponse(line + "\n", status_code=status)


def _unauthorized(line: str) -> Response:
    response = _plain(401, line)
    response.headers["www-authenticate"] = 'Bearer realm="loadgate"'
    return response


def _cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no cookie at all
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _form(headers: Headers, body: bytes) -> dict[str, str]:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _csrf_problem(headers: Headers, form: Mapping[str, str], cookie: str | None) -> str:
    """Why a state-changing request is refused as possibly forged ('' if it is not)."""
    origin = headers.get("origin")
    if origin is not None:
        origin_host = urlsplit(origin).netloc
        if origin_host != headers.get("host", ""):
            return f"the request comes from another site ({origin}): refused"
    given = headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    if not cookie or not given or not same_text(given, cookie):
        return "the CSRF token is missing or wrong: reload the page and try again"
    return ""


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None past MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_headers(send: Send, new_csrf: str | None) -> Send:
    """`send` that adds the security headers, and the CSRF cookie when the client has none."""

    async def guarded(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[Any] = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
            if new_csrf is not None:
                cookie = f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Strict"
                headers.append((b"set-cookie", cookie.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return guarded
