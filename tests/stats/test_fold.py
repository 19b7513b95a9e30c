"""Folding seconds: pieces add up exactly, and stored totals give the summary the seconds give."""

from __future__ import annotations

import random

from loadgate.model import EndpointSecond
from loadgate.stats import summarize
from loadgate.stats.fold import RunFold, fold_seconds
from loadgate.stats.summary import RunSummary, summarize_fold
from tests.builders import endpoint_second, run_info

QUANTILES = (0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0)


def _latencies(seed: int, count: int) -> list[int]:
    rng = random.Random(seed)
    return [max(1, int(rng.lognormvariate(8.5, 0.8))) for _ in range(count)]


def _seconds() -> list[EndpointSecond]:
    """Two endpoints over 30 seconds, with errors first seen at various times."""
    seconds = []
    for offset in range(30):
        failed = {"503": 1} if offset % 7 == 3 else {}
        errors = {f"HTTPError('503 #{offset % 2}')": 1} if failed else {}
        latencies = _latencies(offset, 40)
        seconds.append(
            endpoint_second(100 + offset, "GET", "/a", latencies, failed=failed, errors=errors)
        )
        seconds.append(
            endpoint_second(
                100 + offset,
                "POST",
                "/b",
                _latencies(1000 + offset, 10),
                failed={"0": 1},
                errors={"ConnectionResetError(104)": 1},
                out_of_range=offset % 3,
            )
        )
    return seconds


def _in_pieces(second: EndpointSecond, latencies: list[int], cut: int) -> list[EndpointSecond]:
    """`second` (all 200s) as two pieces: the first `cut` latencies, then the rest."""
    return [
        endpoint_second(second.second, second.method, second.name, part)
        for part in (latencies[:cut], latencies[cut:])
    ]


def _numbers(summary: RunSummary) -> list[object]:
    """Everything a summary shows, every quantile included (histograms compare by value)."""
    rows: list[object] = []
    for endpoint in (*summary.endpoints, summary.total):
        rows.append(endpoint)  # dataclass equality: counts, rates, p50..p99.9, max, statuses
        rows.append(endpoint.histogram.quantiles_us(QUANTILES))
        rows.append(endpoint.histogram.out_of_range)
    rows.append(summary.errors)
    rows.append(summary.duration_s)
    return rows


def test_pieces_of_one_second_add_up_to_the_whole_second_exactly() -> None:
    latencies = _latencies(7, 500)
    whole = endpoint_second(100, "GET", "/a", latencies)
    pieces = _in_pieces(whole, latencies, 123)
    run = run_info()
    assert _numbers(summarize(run, pieces, [])) == _numbers(summarize(run, [whole], []))
    # Two pieces with equal counts are two pieces, not one seen twice.
    equal = [endpoint_second(100, "GET", "/a", [900] * 5) for _ in range(2)]
    assert summarize(run, equal, []).total.requests == 10


def test_stored_totals_give_the_summary_of_the_seconds_exactly() -> None:
    seconds = _seconds()
    run = run_info(duration_s=30.0)
    from_seconds = summarize(run, seconds, [])
    from_totals = summarize_fold(
        run, RunFold.of_totals(fold_seconds(seconds).totals()), users_max=0
    )
    assert _numbers(from_totals) == _numbers(from_seconds)
    assert [e.message for e in from_totals.errors] == [e.message for e in from_seconds.errors]


def test_errors_from_totals_keep_the_first_seen_order_of_ties() -> None:
    # Same counts, first seen in different seconds and endpoints: order decides.
    seconds = [
        endpoint_second(101, "GET", "/z", [1], failed={"500": 1}, errors={"late": 1}),
        endpoint_second(100, "GET", "/z", [1], failed={"500": 1}, errors={"early z": 1}),
        endpoint_second(100, "GET", "/a", [1], failed={"500": 1}, errors={"early a": 1}),
    ]
    ordered = sorted(seconds, key=lambda s: (s.second, s.name, s.method))  # the store's order
    expected = [e.message for e in summarize(run_info(), ordered, []).errors]
    assert expected == ["early a", "early z", "late"]
    totals = RunFold.of_totals(fold_seconds(seconds).totals())
    assert [e.message for e in summarize_fold(run_info(), totals, users_max=0).errors] == expected


def test_totals_remember_when_each_error_was_first_and_last_seen() -> None:
    totals = {t.name: t for t in fold_seconds(_seconds()).totals()}
    tally = totals["/a"].errors["HTTPError('503 #1')"]
    assert (tally.count, tally.first_second, tally.last_second) == (2, 103, 117)
    assert (totals["/b"].first_second, totals["/b"].last_second) == (100, 129)
    assert totals["/b"].out_of_range == sum(offset % 3 for offset in range(30))
