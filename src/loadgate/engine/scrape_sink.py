"""Scraped values from the scraper's threads to the store, through the writer thread; one warning.

The hub takes what the scraper found (never blocking) and hands it to the
writer thread as one store call (WriterThread.call), so the database is
used from that thread only. The call is waited for cooperatively by a
greenlet of its own, never by the tick. A URL that fails is warned about
once (its gaps are stored, one row per second); a store that does not take
the values keeps them for the next flush, up to MAX_HELD scrapes, and is
warned about once too: scraped metrics never fail a run. When the run ends
with a spill file, what was held goes into it (`unstored`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import gevent
from gevent import Greenlet, Timeout

from loadgate.engine.scraper import Scraper
from loadgate.errors import StoreError
from loadgate.scraped import ScrapeSecond, SeriesKey

MAX_HELD = 600  # scrapes kept while the store does not take them (about 10 min of one URL)

log = logging.getLogger(__name__)


class ScrapeStore(Protocol):
    """The part of loadgate.store.RunStore the sink needs."""

    def append_scrapes(
        self, run_id: int, seconds: Sequence[ScrapeSecond], known: Mapping[SeriesKey, int]
    ) -> dict[SeriesKey, int]: ...


class StoreCaller(Protocol):
    """WriterThread.call: runs a store call on the writer thread."""

    def call(
        self, function: Callable[..., Any], *args: Any, timeout_s: float | None = None
    ) -> Any: ...


class ScrapeSink:
    """Stores what `scraper` found for run `run_id`: `flush` once a second, `close` at the end."""

    def __init__(
        self,
        scraper: Scraper,
        store: ScrapeStore,
        run_id: int,
        caller: StoreCaller,
        warn: Callable[[str], None] = log.warning,
    ) -> None:
        self._scraper = scraper
        self._store = store
        self._run_id = run_id
        self._caller = caller
        self._warn = warn
        self._ids: dict[SeriesKey, int] = {}
        self._held: list[ScrapeSecond] = []
        self._warned: set[str] = set()
        self._in_flight: Greenlet | None = None

    def flush(self, timeout_s: float) -> None:
        """Take every scrape finished so far; start storing them unless a store call still runs.

        Never blocks: the store call waits in a greenlet of its own, which is
        never killed mid-call (a killed wait would not know what was stored).
        """
        taken = self._scraper.take()
        for scrape in taken:
            self._note(scrape)
        for url, error in self._scraper.broken():
            # Not a gap: scraping this URL has stopped. Said, not raised: the load goes on.
            self._warn_once(f"{url} broken", f"scraping {url} stopped: {error!r}")
        self._held.extend(taken)
        if self._in_flight is not None and not self._in_flight.ready():
            return
        if len(self._held) > MAX_HELD:
            self._warn_once("held", f"scraped metrics older than the last {MAX_HELD} scrapes lost")
            self._held = self._held[-MAX_HELD:]
        if self._held:
            self._in_flight = gevent.spawn(self._store_held, list(self._held), timeout_s)

    def close(self, timeout_s: float) -> None:
        """Store what is left, waiting (cooperatively) at most about twice `timeout_s`."""
        if self._in_flight is not None:
            self._in_flight.join(timeout_s)
        self.flush(timeout_s)
        if self._in_flight is not None:
            self._in_flight.join(timeout_s)

    def unstored(self) -> list[ScrapeSecond]:
        """What was scraped and is not known to be stored: for a spill file, as the run ends.

        Also from the interrupt thread: the list is copied, the scraper's
        queue is a deque. A store call still in flight may land as well: the
        import skips what the store has.
        """
        return [*self._held, *self._scraper.take()]

    def _store_held(self, held: list[ScrapeSecond], timeout_s: float) -> None:
        try:
            created = self._caller.call(
                self._store.append_scrapes, self._run_id, held, dict(self._ids), timeout_s=timeout_s
            )
        except (StoreError, Timeout) as exc:
            self._warn_once("store", f"the scraped metrics were not stored yet: {exc}")
            return
        self._ids.update(created)
        # Scrapes taken meanwhile were appended after these.
        self._held = self._held[len(held) :]

    def _note(self, scrape: ScrapeSecond) -> None:
        if scrape.error:
            self._warn_once(
                scrape.url,
                f"cannot scrape {scrape.url}: {scrape.error} (stored as a gap in its metrics; "
                "the run goes on)",
            )
        if scrape.series_dropped:
            self._warn_once(
                f"{scrape.url} dropped",
                f"{scrape.url} has more series than loadgate keeps per URL: "
                f"{scrape.series_dropped} left out, such as {scrape.dropped_example}",
            )

    def _warn_once(self, about: str, message: str) -> None:
        if about not in self._warned:
            self._warned.add(about)
            self._warn(message)
