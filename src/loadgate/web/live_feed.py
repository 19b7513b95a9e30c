"""The live view's events of running runs, shared by every connection that watches one.

An event is the run's status, request count, chart figures and endpoint
table, as the run's page shows them (the report's templates).

Each browser on a running run's page holds a Server-Sent Events connection
that wants an event a second. One LiveRead per run (not per connection)
makes them, at most one per FRESH_S: a second browser on the same run is
given the event the first one caused, read and serialized once. Bounded:
the MAX_RUNS most recently watched runs keep their reads; a run's is
dropped once it has ended.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from loadgate.model import RunInfo, RunStatus
from loadgate.report.stored_run import StoredRun, stored_report_context
from loadgate.run_reading import read_for_report
from loadgate.stats.timeline import Timeline
from loadgate.store import RunStore
from loadgate.web.live_read import LiveRead
from loadgate.web.rendering import environment

FRESH_S = 0.5
MAX_RUNS = 16


def live_update(store: RunStore, run_id: int, live: LiveRead | None = None) -> dict[str, object]:
    """One event: the run's status, request count, chart figures and endpoint section.

    Read through `live` while the run is going, if given; else (and once the
    run has ended) the whole run is read.
    """
    run = store.get_run(run_id)
    if live is not None and run.status is RunStatus.RUNNING:
        return update_of(run, *live.read(run))
    return update_of(run, *read_for_report(store, run))


def update_of(run: RunInfo, stored: StoredRun, timeline: Timeline) -> dict[str, object]:
    """The event of a run read into `stored` and `timeline`."""
    context = stored_report_context(stored, timeline)
    section = environment().get_template("sections/endpoints.html.j2").render(context)
    return {
        "status": run.status.value,
        "requests": stored.summary.total.requests,
        "figures": {chart.chart_id: chart.figure for chart in context["charts"]},
        "endpoints_html": section,
    }


@dataclass(frozen=True, kw_only=True)
class LiveEvent:
    """One event of a run's stream: its name ("update", or "ended" for the last) and data."""

    name: str
    data_json: str

    @property
    def ended(self) -> bool:
        return self.name == "ended"

    def text(self) -> str:
        """As the event stream carries it."""
        return f"event: {self.name}\ndata: {self.data_json}\n\n"


@dataclass
class _Feed:
    live: LiveRead
    lock: threading.Lock = field(default_factory=threading.Lock)
    event: LiveEvent | None = None
    read_at_s: float = 0.0  # when the read that made `event` began (time.monotonic)


class LiveFeeds:
    """Each watched run's latest event, made by one shared LiveRead; thread-safe.

    `reads` counts the events made (the ones not shared).
    """

    def __init__(
        self, store: RunStore, *, fresh_s: float = FRESH_S, max_runs: int = MAX_RUNS
    ) -> None:
        self._store = store
        self._fresh_s = fresh_s
        self._max_runs = max_runs
        self._feeds: OrderedDict[int, _Feed] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0

    def __len__(self) -> int:
        return len(self._feeds)

    def event(self, run_id: int) -> LiveEvent:
        """The run's event whose read began less than `fresh_s` before this call, else a new one.

        Counted from the call, not from when the lock is had: a connection that
        waited for another's read gets that read, however long it took.
        """
        asked_s = time.monotonic()
        feed = self._feed(run_id)
        with feed.lock:  # a second connection waits for the read under way, then shares it
            if feed.event is not None and feed.read_at_s > asked_s - self._fresh_s:
                return feed.event
            feed.read_at_s = time.monotonic()
            update = live_update(self._store, run_id, feed.live)
            ended = update["status"] != RunStatus.RUNNING.value
            feed.event = LiveEvent(
                name="ended" if ended else "update", data_json=json.dumps(update)
            )
        with self._lock:
            self.reads += 1
            if ended and self._feeds.get(run_id) is feed:
                del self._feeds[run_id]
        return feed.event

    def _feed(self, run_id: int) -> _Feed:
        with self._lock:
            feed = self._feeds.get(run_id)
            if feed is None:
                feed = self._feeds[run_id] = _Feed(live=LiveRead(self._store, run_id))
                while len(self._feeds) > self._max_runs:
                    self._feeds.popitem(last=False)
            self._feeds.move_to_end(run_id)
            return feed
