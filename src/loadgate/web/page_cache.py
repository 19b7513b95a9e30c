"""Rendered pages of ended runs, kept so that a run's page is rendered once, not per view.

An ended run's stored data no longer changes: its page is a function of the
run's row. The key holds what can still change it (status, end, baseline
mark, last append's heartbeat: an import of spilled seconds appends later),
so a stale page is never served. Bounded: the MAX_PAGES most recent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from loadgate.model import RunInfo

MAX_PAGES = 32


def page_key(run: RunInfo) -> Hashable | None:
    """The cache key of an ended run's page; None for a run whose data may still change."""
    if not run.has_settled:
        return None
    return (run.run_id, run.status, run.ended_at, run.heartbeat_at, run.is_baseline)


class PageCache:
    """The last MAX_PAGES pages rendered, by key; thread-safe."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self._max_pages = max_pages

    def get_or_render(self, key: Hashable | None, render: Callable[[], str]) -> str:
        """The page kept under `key`, else render() (kept unless `key` is None)."""
        if key is None:
            return render()
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        document = render()
        with self._lock:
            self._pages[key] = document
            while len(self._pages) > self._max_pages:
                self._pages.popitem(last=False)
        return document
