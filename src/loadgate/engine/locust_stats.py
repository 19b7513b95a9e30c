"""Locust's `environment.stats`, filled once a second from the collector instead of per request.

Locust's runner registers its own `request` listener, which logs every
request into `environment.stats` (RequestStats: rounded latencies per
endpoint and in total, requests per second, errors). loadgate's collector
counts every request already, so that listener is removed
(`drop_locust_request_listener`) and each second the collector finishes is
added to Locust's statistics as one `StatsEntry` per endpoint
(`LocustStatsFeed.add`), merged with Locust's own `StatsEntry.extend`: the
way Locust's master adds its workers' reports. Everything that reads
`environment.stats` keeps Locust's own objects: `total`, `entries`,
`get(name, method)`, `errors`, `fail_ratio`, `avg_response_time`,
percentiles, `current_rps`, `total_rps`, `--reset-stats`, Locust's JSON
(engine.locust_json), a worker's reports to its master and the master's sums.

What differs from Locust's own listener:

- Freshness: a second joins when it ends (the first request of the next
  second, or the run's tick just after it), so a script reading the counts
  mid-run sees up to the end of the last whole second; at `quitting`, and
  in a worker's last report, every request is in.
- Latencies come from the collector's microsecond counts (HDR buckets, 3
  significant digits, each value its bucket's floor), then go through
  Locust's own `bucket_response_time`: percentiles can differ from Locust's
  by one of its buckets, averages by less than 0.1%.
- Error messages are the collector's (engine.collector.error_message: a
  memory address becomes " object", at most MAX_ERROR_LENGTH characters,
  MAX_ERROR_MESSAGES per endpoint-second), their first and last seen times
  whole seconds.

Why: run side by side with bare Locust on one core against nginx
(FastHttpUser, no waits; throw-away switches that removed one listener or the
other), Locust's listener and ours each cost about 5% of a request's CPU
(loadgate with both: +10.8% over bare Locust; without Locust's: +5.4%, in
the same run). README, "A faster client": Cost, has bench/overhead.py's
figures since.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from locust import stats as locust_stats_module
from locust.stats import StatsEntry, StatsError

from loadgate.engine.collector import EndpointTally, FinishedSecond

US_PER_MS = 1000.0
# Locust's own listener, as locust.runners.Runner.__init__ defines it (Locust 2.47).
_LOCUST_LISTENER_MODULE = "locust.runners"
_LOCUST_LISTENER_QUALNAME = "Runner.__init__.<locals>.on_request"


def drop_locust_request_listener(request_event: Any) -> bool:
    """Remove the runner's own `request` listener; False if this Locust has none we know."""
    handlers: list[Any] = request_event._handlers
    for handler in handlers:
        if (
            getattr(handler, "__module__", None) == _LOCUST_LISTENER_MODULE
            and getattr(handler, "__qualname__", None) == _LOCUST_LISTENER_QUALNAME
        ):
            request_event.remove_listener(handler)
            return True
    return False


class LocustStatsFeed:
    """Adds finished seconds to `environment.stats` (read at each call: a worker replaces it)."""

    def __init__(self, environment: Any) -> None:
        self._environment = environment
        self._rounding = LocustRounding()

    def add(self, finished: FinishedSecond) -> None:
        stats = self._environment.stats
        for (method, name), tally in finished.tallies.items():
            entry = self._second_entry(stats, finished.second, method, name, tally)
            stats.entries[(name, method)].extend(entry)
            stats.total.extend(entry)
            add_errors(stats.errors, finished.second, method, name, tally.errors)

    def _second_entry(
        self, stats: Any, second: int, method: str, name: str, tally: EndpointTally
    ) -> StatsEntry:
        """One endpoint's second as a Locust StatsEntry, to be merged with `extend`."""
        # Any: Locust annotates the latencies as int, and stores float ms (as here).
        entry: Any = StatsEntry(stats, name, method)
        entry.start_time = float(second)
        # The second is complete: its last request came before its end.
        entry.last_request_timestamp = float(second + 1)
        entry.num_requests = tally.requests
        entry.num_failures = tally.failures
        entry.total_content_length = tally.bytes_received
        entry.num_reqs_per_sec[second] = tally.requests
        if tally.failures:
            entry.num_fail_per_sec[second] = tally.failures
        counts = tally.latency_counts
        if counts:
            entry.response_times = self._rounding.response_times(counts)
            entry.min_response_time = min(counts) / US_PER_MS
            entry.max_response_time = max(counts) / US_PER_MS
            entry.total_response_time = sum(map(operator.mul, counts, counts.values())) / US_PER_MS
        entry.num_none_requests = tally.requests - sum(counts.values())
        return cast(StatsEntry, entry)


class LocustRounding:
    """Locust's `bucket_response_time` of each µs value, remembered (a second: about 3x quicker).

    The collector's values are HDR bucket floors, so there are at most
    23,220 of them from 1 µs to 1 h (stats.histogram): 1.7 MiB with every
    one of them remembered (tracemalloc), whatever the run's length; a
    second of 7,000 requests has about 2,000 distinct ones. Read from Locust's module at each call:
    scripts may replace the function (Locust documents that); a new one
    starts a new memory.
    """

    def __init__(self) -> None:
        self._function: Callable[[float], int] | None = None
        self._rounded: dict[int, int] = {}

    def response_times(self, counts: dict[int, int]) -> dict[int, int]:
        """Locust's `response_times` (rounded ms -> requests) of µs value -> requests."""
        function = locust_stats_module.bucket_response_time
        if function is not self._function:
            self._function, self._rounded = function, {}
        rounded_of = self._rounded
        response_times: dict[int, int] = {}
        for value_us, count in counts.items():
            rounded = rounded_of.get(value_us)
            if rounded is None:
                rounded = rounded_of[value_us] = function(value_us / US_PER_MS)
            response_times[rounded] = response_times.get(rounded, 0) + count
        return response_times


def add_errors(
    errors: dict[str, StatsError], second: int, method: str, name: str, counts: dict[str, int]
) -> None:
    """Add one endpoint-second's failure messages to Locust's `stats.errors`."""
    for message, count in counts.items():
        key = StatsError.create_key(method, name, message)
        error = errors.get(key)
        if error is None:
            errors[key] = StatsError(
                method, name, message, count, first_seen=float(second), last_seen=float(second)
            )
            continue
        error.occurrences += count
        error.last_seen = float(second)
        if error.first_seen is None:
            error.first_seen = float(second)
