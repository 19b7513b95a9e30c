"""Reading a run's parts (cache hits, upstream time) takes the same memory for a long run.

Runs of N and 4N seconds, each second of each endpoint with its four parts,
are folded onto the same number of buckets (as the report does: its buckets
widen with the run), and the peak of Python's allocations compared
(tracemalloc), as tests/store/test_memory.py does for the seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.model import Part, UsersSample
from loadgate.store import RunStore, reading
from loadgate.store.run_view import read_run_parts
from tests.builders import START_S, endpoint_second, new_run
from tests.store.peak import peak_bytes

SHORT_S = 40
LONG_S = 4 * SHORT_S
BUCKETS = 20
ENDPOINTS = ("/a", "/b", "/c", "/d")
MAX_GROWTH = 1.1
PARTS = {
    Part.CACHE_HIT: [300, 420, 510] * 20,
    Part.CACHE_MISS: [9_000, 12_500, 30_000] * 5,
    Part.UPSTREAM: [8_000, 11_000, 29_000] * 5,
    Part.GATEWAY: [200, 900, 1_500] * 5,
}


def _build(store: RunStore, duration_s: int) -> int:
    run_id = store.create_run(new_run(f"parts-{duration_s}"))
    for offset_s in range(duration_s):
        second = START_S + offset_s
        store.append(
            run_id,
            [endpoint_second(second, name=name, parts=PARTS) for name in ENDPOINTS],
            [UsersSample(second=second, users=4)],
        )
    return run_id


def test_the_parts_read_does_not_grow_with_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small fetches, so that the shorter run already fills several.
    monkeypatch.setattr(reading, "ROWS_PER_FETCH", 64)
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        short, long = _build(store, SHORT_S), _build(store, LONG_S)

        def read(run_id: int, duration_s: int) -> object:
            run = store.get_run(run_id)
            users = store.user_samples(run_id)
            parts = read_run_parts(store, run, users, bucket_s=duration_s // BUCKETS)
            assert parts.endpoints[0].requests(Part.CACHE_HIT) == 60 * duration_s
            return parts

        read(short, SHORT_S)  # warm-up: statement caches, lazy imports
        short_b = peak_bytes(lambda: read(short, SHORT_S))
        long_b = peak_bytes(lambda: read(long, LONG_S))
    assert long_b <= MAX_GROWTH * short_b, f"{SHORT_S} s: {short_b:,} B, {LONG_S} s: {long_b:,} B"
