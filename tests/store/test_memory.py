"""Reading a long run takes the same memory as reading a short one: readers stream and fold.

Synthetic runs of N and 4N seconds (bench/long_run.py's builder: 8 endpoints,
realistic per-second HDR histograms, no stored totals, so every second is
decoded and folded) are read by the report's summary+timeline read and by
compare's fold, runs with parts (cache hits, upstream time) by the parts'
read, and the peak of Python's allocations (tracemalloc: hdrh's
count arrays and the decoded rows are Python allocations) is compared. A
reader that holds every second again (as they did before issue 7) grows by
several times over; one that streams stays within a few per cent.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bench.long_run import ENDPOINTS, build_run

from loadgate.analysis.compare_types import CompareSettings
from loadgate.model import Part, UsersSample
from loadgate.run_comparing import compare_stored
from loadgate.store import RunStore, reading
from loadgate.store.run_view import read_run_parts, read_run_view
from tests.builders import START_S, endpoint_second, new_run

# The store fetches rows ROWS_PER_FETCH at a time: the test lowers it so
# that the shorter run already fills several fetches (else the fetch buffer
# alone grows with the run, up to its fixed size) while staying short to read.
ROWS_PER_FETCH_IN_TEST = 64
SHORT_S = 40
LONG_S = 4 * SHORT_S
# The same number of chart buckets for both lengths: a timeline's series are
# one value per bucket, bounded by MAX_CHART_POINTS in use, and the question
# here is whether anything else grows with the run.
CHART_BUCKETS = 20
# The same number of bootstrap blocks for both lengths, for the same reason.
SAME_BLOCKS = CompareSettings(max_blocks=CHART_BUCKETS)
# Measured: +1 % (report read) and +3 % (compare's fold, whose grid buckets
# per block fill a little more with longer blocks). Holding every stored row
# instead of streaming them measured +23 % on the report read; holding every
# decoded second, as readers did before, is several times over.
MAX_GROWTH = 1.1


@dataclass(frozen=True)
class _Runs:
    store: RunStore
    short: int  # a run of SHORT_S seconds
    long: int  # a run of LONG_S seconds
    empty: int  # a run without seconds, to compare with: only one run is folded


@pytest.fixture(autouse=True)
def small_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "ROWS_PER_FETCH", ROWS_PER_FETCH_IN_TEST)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Runs]:
    assert SHORT_S * len(ENDPOINTS) >= 4 * ROWS_PER_FETCH_IN_TEST, "several fetches a run"
    url = f"sqlite:///{tmp_path_factory.mktemp('memory') / 'runs.db'}"
    with RunStore.open(url) as store:
        yield _Runs(
            store=store,
            short=build_run(store, "short", SHORT_S, slower=False, with_totals=False),
            long=build_run(store, "long", LONG_S, slower=False, with_totals=False),
            empty=build_run(store, "empty", 0, slower=False, with_totals=False),
        )


def _peak_bytes(read: Callable[[], object]) -> int:
    """The peak of Python allocations made while `read` runs, above what was held before."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        result = read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before


# The findings' per-second series (stats/series.py) holds a few numbers per
# endpoint-second by design, never a histogram: allowed to grow by this much
# per endpoint-second (measured: about 0.75 KB), and nothing else may.
SERIES_BYTES_PER_ENDPOINT_SECOND = 1024


def _assert_flat(
    read: Callable[[int], object], short: int, long: int, series: bool = False
) -> None:
    """`read` of the run `long` (LONG_S) peaks no higher than of `short` (SHORT_S)."""
    read(short)  # warm-up: statement caches, imports and lazy module state
    short_b = _peak_bytes(lambda: read(short))
    long_b = _peak_bytes(lambda: read(long))
    allowed = (
        SERIES_BYTES_PER_ENDPOINT_SECOND * len(ENDPOINTS) * (LONG_S - SHORT_S) if series else 0
    )
    assert long_b <= MAX_GROWTH * short_b + allowed, (
        f"{SHORT_S} s: {short_b:,} B, {LONG_S} s: {long_b:,} B"
    )


def test_the_report_read_does_not_grow_with_the_run(runs: _Runs) -> None:
    store = runs.store

    def read(run_id: int) -> object:
        run = store.get_run(run_id)
        duration_s = LONG_S if run_id == runs.long else SHORT_S
        view = read_run_view(store, run, bucket_s=duration_s // CHART_BUCKETS)
        assert view.from_seconds, "every second was folded, not read from totals"
        assert view.summary.total.requests > 0
        return view

    _assert_flat(read, runs.short, runs.long, series=True)


def test_the_compare_fold_does_not_grow_with_the_run(runs: _Runs) -> None:
    store = runs.store
    empty = store.get_run(runs.empty)

    def read(run_id: int) -> object:
        # Against a run without seconds: the run is folded as compare folds
        # it, with no bootstrap (whose cost does not depend on the run's
        # length, and under tracemalloc would take most of the test's time).
        comparison = compare_stored(store, store.get_run(run_id), empty, SAME_BLOCKS)
        assert comparison.total.base_requests > 0
        return comparison

    _assert_flat(read, runs.short, runs.long)


# Each second of each endpoint with its four parts (cache hits and misses, upstream, gateway).
PARTS = {
    Part.CACHE_HIT: [300, 420, 510] * 20,
    Part.CACHE_MISS: [9_000, 12_500, 30_000] * 5,
    Part.UPSTREAM: [8_000, 11_000, 29_000] * 5,
    Part.GATEWAY: [200, 900, 1_500] * 5,
}
PARTS_ENDPOINTS = ("/a", "/b", "/c", "/d")


def _build_parts_run(store: RunStore, duration_s: int) -> int:
    run_id = store.create_run(new_run(f"parts-{duration_s}"))
    for offset_s in range(duration_s):
        second = START_S + offset_s
        store.append(
            run_id,
            [endpoint_second(second, name=name, parts=PARTS) for name in PARTS_ENDPOINTS],
            [UsersSample(second=second, users=4)],
        )
    return run_id


def test_the_parts_read_does_not_grow_with_the_run(tmp_path: Path) -> None:
    # Runs of their own: bench/long_run.py's have no parts.
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        short, long = _build_parts_run(store, SHORT_S), _build_parts_run(store, LONG_S)
        duration_s = {short: SHORT_S, long: LONG_S}

        def read(run_id: int) -> object:
            run = store.get_run(run_id)
            users = store.user_samples(run_id)
            bucket_s = duration_s[run_id] // CHART_BUCKETS
            parts = read_run_parts(store, run, users, bucket_s=bucket_s)
            assert parts.endpoints[0].requests(Part.CACHE_HIT) == 60 * duration_s[run_id]
            return parts

        _assert_flat(read, short, long)
