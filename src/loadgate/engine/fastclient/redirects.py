"""Following redirects by requests' rules (its SessionRedirectMixin decides each step).

Where the next request goes, its method (303, and 301/302 after a POST,
become GET), which headers and body survive, when Authorization is dropped
(another host) and how many hops are allowed: requests' own functions,
applied to this client's PreparedRequests and Responses.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin, urlparse

from requests import PreparedRequest, Response
from requests.cookies import RequestsCookieJar
from requests.exceptions import TooManyRedirects
from requests.sessions import SessionRedirectMixin
from requests.status_codes import codes
from requests.utils import requote_uri

from loadgate.engine.fastclient.outgoing import add_cookies

# The mixin's rules read nothing of the session they are mixed into.
_RULES = SessionRedirectMixin()
_BODY_HEADERS = ("Content-Length", "Content-Type", "Transfer-Encoding")


def follow(
    response: Response,
    send: Callable[[PreparedRequest], Response],
    jar: RequestsCookieJar,
    max_redirects: int,
) -> Response:
    """The last response of the chain that starts with `response`, the others in its history."""
    target = _RULES.get_redirect_target(response)
    if not target:
        return response
    history: list[Response] = []
    previous_fragment = urlparse(str(response.request.url)).fragment
    while target:
        response.history = history[:]
        history.append(response)
        if len(response.history) >= max_redirects:
            raise TooManyRedirects(f"Exceeded {max_redirects} redirects.", response=response)
        url, previous_fragment = _next_url(target, str(response.url), previous_fragment)
        response = send(_next_request(response, url, jar))
        target = _RULES.get_redirect_target(response)
    response.history = history
    return response


def _next_url(target: str, current: str, previous_fragment: str) -> tuple[str, str]:
    if target.startswith("//"):
        target = f"{urlparse(current).scheme}:{target}"
    parsed = urlparse(target)
    if parsed.fragment == "" and previous_fragment:
        parsed = parsed._replace(fragment=previous_fragment)
    elif parsed.fragment:
        previous_fragment = parsed.fragment
    url = parsed.geturl()
    url = requote_uri(url) if parsed.netloc else urljoin(current, requote_uri(url))
    return url, previous_fragment


def _next_request(response: Response, url: str, jar: RequestsCookieJar) -> PreparedRequest:
    previous = response.request
    request = previous.copy()
    request.url = url
    _RULES.rebuild_method(request, response)
    if response.status_code not in (codes.temporary_redirect, codes.permanent_redirect):
        for header in _BODY_HEADERS:
            request.headers.pop(header, None)
        request.body = None
    request.headers.pop("Cookie", None)
    add_cookies(request, jar, None)
    if "Authorization" in request.headers and _RULES.should_strip_auth(str(previous.url), url):
        del request.headers["Authorization"]
    return request
