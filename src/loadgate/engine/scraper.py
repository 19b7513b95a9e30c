"""The scraper: each target's /metrics read once a second on a native thread, off the hub.

Why native threads. A scrape is an HTTP request to a target that may be slow
or down; on the hub, a target taking 0.8 s to answer would hold every user's
request for as long. Each URL gets a thread of gevent's ThreadPool (native,
as for the writer: loadgate.engine.writer_thread); its socket waits run on a
hub private to that thread, and its sleeps are the original time.sleep, so
the run's hub only ever takes the finished values (`take`, a deque: appends
and pops are atomic). A slow URL delays only its own thread: each scrape has
a timeout below the second between two scrapes, and a scrape that fails is
a gap (ScrapeSecond.error), never an exception.

Scrapes are timed just after each wall-clock second starts (the same offset
as the writer's tick), so a scrape's values belong to the second that just
ended, as the client's requests do.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from gevent import monkey
from gevent.threadpool import ThreadPool

from loadgate.scrape import DEFAULT_TIMEOUT_S, Deriver, scrape_once
from loadgate.scraped import DEFAULT_MAX_SERIES, ScrapeSecond

SCRAPE_OFFSET_S = 0.02  # just after a second starts: the one before is over
SLEEP_SLICE_S = 0.05  # how quickly a sleeping thread sees `stop`
# A pause between two metric families while a page is parsed (GIL released):
# prometheus-client's parser takes 8-14 ms of CPU for the reference gateway's
# 40 KB page; in one go, the hub would share the GIL with it in 0.5 ms slices
# (session.GIL_SWITCH_INTERVAL_S) and every loop iteration overlapping it
# would take twice as long; with pauses, the hub runs alone in between.
PARSE_PAUSE_S = 0.0005
MAX_WAITING = 3600  # scrapes waiting for the store beyond this are dropped, oldest first


class Scraper:
    """Scrapes `urls` once a second from `start()` to `stop()`; the hub collects with `take()`."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_series: int = DEFAULT_MAX_SERIES,
    ) -> None:
        self.urls = tuple(urls)
        self._timeout_s = timeout_s
        self._max_series = max_series
        self._sleep = monkey.get_original("time", "sleep")  # patched, it would need a hub
        self._results: deque[ScrapeSecond] = deque(maxlen=MAX_WAITING)
        self._stopping = False
        self._pool: ThreadPool | None = None
        self._loops: list[Any] = []  # gevent AsyncResults of the scraping loops

    def start(self) -> None:
        if not self.urls or self._pool is not None:
            return
        self._pool = ThreadPool(len(self.urls))
        self._loops = [self._pool.spawn(self._scrape_forever, url) for url in self.urls]

    def take(self) -> list[ScrapeSecond]:
        """Every scrape finished since the last call, oldest first (on the hub; never blocks)."""
        taken: list[ScrapeSecond] = []
        while self._results:
            taken.append(self._results.popleft())
        return taken

    def broken(self) -> list[tuple[str, BaseException]]:
        """URLs whose thread ended with an exception (a bug: a target's failures are gaps)."""
        return [
            (url, loop.exception)
            for url, loop in zip(self.urls, self._loops, strict=False)
            if loop.ready() and not loop.successful()
        ]

    def stop(self, timeout_s: float | None = None) -> None:
        """Ask the threads to end and wait (cooperatively) until they have, at most `timeout_s`."""
        self._stopping = True
        pool = self._pool
        if pool is None:
            return
        wait_s = timeout_s if timeout_s is not None else self._timeout_s + 1.0
        for loop in self._loops:
            loop.wait(wait_s)
        if all(loop.ready() for loop in self._loops):
            pool.kill()

    # -- on a scraping thread ---------------------------------------------------

    def _scrape_forever(self, url: str) -> None:
        deriver = Deriver(url, self._max_series)
        next_s = math.floor(time.time()) + 1 + SCRAPE_OFFSET_S
        while self._sleep_until(next_s):
            second = math.floor(next_s) - 1
            scraped = scrape_once(deriver, second, timeout_s=self._timeout_s, between=self._pause)
            self._results.append(scraped)
            # A scrape is over within its timeout; should the thread fall behind
            # anyway (a suspended process), it skips to the next second to come.
            next_s = max(next_s + 1, math.floor(time.time()) + 1 + SCRAPE_OFFSET_S)

    def _pause(self) -> None:
        self._sleep(PARSE_PAUSE_S)

    def _sleep_until(self, wall_s: float) -> bool:
        """Sleep until `wall_s` (Unix time); False when asked to stop first."""
        while not self._stopping:
            left_s = wall_s - time.time()
            if left_s <= 0:
                return True
            self._sleep(min(left_s, SLEEP_SLICE_S))
        return False
