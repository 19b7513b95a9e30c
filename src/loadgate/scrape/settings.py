"""What `--scrape`, `--scrape-series` and a plan's [scrape] section accept: checked before a run."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from loadgate.errors import ConfigError


def checked_url(text: str, where: str = "--scrape") -> str:
    """A scrape URL (http or https, with a host); ConfigError naming `where` otherwise."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{where} takes the URL of a Prometheus text endpoint such as "
            f"http://127.0.0.1:9901/stats/prometheus, not {text!r}"
        )
    return url


def checked_pattern(text: str, where: str = "--scrape-series") -> str:
    """A regular expression for series names; ConfigError naming `where` otherwise."""
    try:
        re.compile(text)
    except re.error as exc:
        raise ConfigError(
            f"{where} takes a regular expression such as 'requests_total|breaker', "
            f"not {text!r} ({exc})"
        ) from None
    return text
