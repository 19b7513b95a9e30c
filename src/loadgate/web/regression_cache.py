"""`loadgate compare`'s regression verdicts between two settled runs, kept across page views.

A test's page marks the runs that regressed against the run before them: a
comparison each (a fold of both runs' seconds and a bootstrap). Two settled
runs' stored data no longer changes, so their verdict is kept, keyed as
page_cache keys a run's page: by what can still change it (status, end,
last append's heartbeat: seconds imported later make a new key, and the
pair is compared again). A run still going, or lost, is compared every
time. Bounded: the MAX_VERDICTS most recent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from loadgate.model import RunInfo
from loadgate.run_comparing import compare_stored
from loadgate.store import RunStore
from loadgate.web.page_cache import page_key

MAX_VERDICTS = 256


class RegressionCache:
    """Whether a candidate regressed against a base, compared once per settled pair; thread-safe.

    `comparisons` counts the comparisons made (verdicts not served from here).
    """

    def __init__(self, max_verdicts: int = MAX_VERDICTS) -> None:
        self._verdicts: OrderedDict[Hashable, bool] = OrderedDict()
        self._lock = threading.Lock()
        self._max_verdicts = max_verdicts
        self.comparisons = 0

    def has_regression(self, store: RunStore, base: RunInfo, candidate: RunInfo) -> bool:
        """compare_stored(base, candidate).has_regression, from here when both have settled."""
        keys = (page_key(base), page_key(candidate))
        key = None if None in keys else keys
        if key is not None:
            with self._lock:
                if key in self._verdicts:
                    self._verdicts.move_to_end(key)
                    return self._verdicts[key]
        verdict = compare_stored(store, base, candidate).has_regression
        with self._lock:
            self.comparisons += 1
            if key is not None:
                self._verdicts[key] = verdict
                while len(self._verdicts) > self._max_verdicts:
                    self._verdicts.popitem(last=False)
        return verdict
