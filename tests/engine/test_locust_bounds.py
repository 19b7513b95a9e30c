"""Locust's statistics on a master stay bounded, and what Locust shows from them the same."""

from __future__ import annotations

from typing import Any

from locust.event import Events
from locust.stats import (
    RequestStats,
    StatsEntry,
    StatsError,
    setup_distributed_stats_event_listeners,
)

from loadgate.engine.locust_bounds import MAX_ERRORS, OTHER_ERRORS, WINDOW_S, bound_stats

T0 = 1_800_000_000
ENDPOINTS = 20
RUN_S = 600
REPORT_INTERVAL_S = 3


def worker_report(seconds: range) -> dict[str, Any]:
    """What Locust's worker sends for these seconds: 10 requests a second per endpoint, 1 failed.

    Each failure's message names its request (as requests' HTTPError names the URL).
    """
    stats = RequestStats()
    for number in range(ENDPOINTS):
        entry = stats.get(f"/items/{number}", "GET")
        for second in seconds:
            entry.num_requests += 10
            entry.num_failures += 1
            entry.num_reqs_per_sec[second] += 10
            entry.num_fail_per_sec[second] += 1
            entry.response_times[12] = entry.response_times.get(12, 0) + 10
            entry.total_response_time += 120
            entry.last_request_timestamp = second + 0.5
            message = f"404 for /items/{number}?at={second}"
            stats.errors[StatsError.create_key("GET", entry.name, message)] = StatsError(
                "GET", entry.name, message, occurrences=1, first_seen=second, last_seen=second
            )
            stats.total.extend(entry)
    return {
        "stats": stats.serialize_stats(),
        "stats_total": stats.total.get_stripped_report(),
        "errors": stats.serialize_errors(),
    }


def master(*, bounded: bool) -> RequestStats:
    """A master's statistics after RUN_S s of a worker's reports, through Locust's listener."""
    stats = RequestStats()
    stats.total.start_time = T0
    events = Events()
    setup_distributed_stats_event_listeners(events, stats)
    for start in range(T0, T0 + RUN_S, REPORT_INTERVAL_S):
        events.worker_report.fire(
            client_id="w1", data=worker_report(range(start, start + REPORT_INTERVAL_S))
        )
        if bounded:
            bound_stats(stats)
    return stats


def per_second_keys(entry: StatsEntry) -> int:
    return len(entry.num_reqs_per_sec) + len(entry.num_fail_per_sec)


def test_a_masters_per_second_counts_stay_within_the_window() -> None:
    untrimmed = master(bounded=False)
    trimmed = master(bounded=True)

    # Without trimming, every second of the run stays, for every endpoint.
    assert per_second_keys(untrimmed.total) == 2 * RUN_S
    bound = 2 * (WINDOW_S + REPORT_INTERVAL_S)
    for entry in [*trimmed.entries.values(), trimmed.total]:
        assert 0 < per_second_keys(entry) <= bound


def test_trimming_changes_none_of_locusts_figures() -> None:
    untrimmed = master(bounded=False)
    trimmed = master(bounded=True)

    for key, entry in untrimmed.entries.items():
        kept = trimmed.entries[key]
        assert kept.current_rps == entry.current_rps > 0
        assert kept.current_fail_per_sec == entry.current_fail_per_sec > 0
        assert kept.num_requests == entry.num_requests
    assert trimmed.total.current_rps == untrimmed.total.current_rps > 0


def test_an_entry_without_requests_is_left_alone() -> None:
    stats = RequestStats()
    entry = stats.get("/idle", "GET")

    bound_stats(stats)

    assert entry.last_request_timestamp is None
    assert per_second_keys(entry) == 0


def test_a_masters_distinct_errors_are_capped_and_none_of_their_occurrences_lost() -> None:
    unbounded = master(bounded=False)
    bounded = master(bounded=True)

    # Without the cap, an entry per failed second and endpoint.
    assert len(unbounded.errors) == ENDPOINTS * RUN_S
    assert len(bounded.errors) == MAX_ERRORS + ENDPOINTS
    # The first MAX_ERRORS messages are kept as they were; the rest, per endpoint, in one.
    assert list(bounded.errors)[:MAX_ERRORS] == list(unbounded.errors)[:MAX_ERRORS]
    others = [e for e in bounded.errors.values() if e.error == OTHER_ERRORS]
    assert sorted(e.name for e in others) == sorted(f"/items/{n}" for n in range(ENDPOINTS))

    def occurrences(errors: dict[str, StatsError]) -> dict[str, int]:
        by_name: dict[str, int] = {}
        for error in errors.values():
            by_name[error.name] = by_name.get(error.name, 0) + error.occurrences
        return by_name

    assert occurrences(bounded.errors) == occurrences(unbounded.errors)
    assert all(e.first_seen is not None and e.last_seen is not None for e in others)
