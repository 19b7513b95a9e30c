"""One scrape of one URL, start to end: fetch, parse, derive; a failure becomes a gap."""

from __future__ import annotations

import time
from collections.abc import Callable

from loadgate.scrape.derive import Deriver
from loadgate.scrape.exposition import read_exposition
from loadgate.scrape.fetch import ScrapeError, fetch_text
from loadgate.scraped import ScrapeSecond

# Longest a scrape may take: less than the second between two scrapes.
DEFAULT_TIMEOUT_S = 0.8


def scrape_once(
    deriver: Deriver,
    second: int,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    clock_s: Callable[[], float] = time.monotonic,
    between: Callable[[], None] | None = None,
) -> ScrapeSecond:
    """The values of `deriver`'s URL for `second`, or a gap saying why there are none.

    `between` is called between the page's metric families (read_exposition).
    """
    url = deriver.url
    try:
        text = fetch_text(url, timeout_s)
        at_s = clock_s()
        try:
            reading = read_exposition(text, between)
        except ValueError as exc:
            raise ScrapeError(f"not Prometheus text ({exc})") from None
    except ScrapeError as failure:
        return ScrapeSecond(url=url, second=second, error=str(failure))
    return deriver.derive(reading, at_s, second)
