"""Fetching a /metrics page: one GET with a short timeout; a failure is one line saying why."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request

# Prometheus' own text format (not OpenMetrics), which prometheus-client's parser reads.
ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
MAX_BODY_BYTES = 16 * 1024 * 1024  # a larger page is refused rather than held in memory


class ScrapeError(Exception):
    """A scrape that gave no usable page; str() says why in a few words."""


def fetch_text(url: str, timeout_s: float) -> str:
    """The page at `url` as text; ScrapeError if it does not come, whole, within `timeout_s`."""
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body: bytes = response.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ScrapeError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise ScrapeError(_reason(exc.reason)) from None
    except TimeoutError:
        raise ScrapeError(f"no answer within {timeout_s:g} s") from None
    except http.client.HTTPException as exc:  # an answer that is not HTTP, or cut short
        raise ScrapeError(f"not an HTTP answer ({type(exc).__name__})") from None
    except (OSError, ValueError) as exc:
        raise ScrapeError(_reason(exc)) from None
    if len(body) > MAX_BODY_BYTES:
        raise ScrapeError(f"the page is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    return body.decode("utf-8", errors="replace")


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
