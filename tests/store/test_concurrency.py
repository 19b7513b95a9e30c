"""Readers while a run is being written: no blocking, no torn reads, one transaction per append."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from loadgate.errors import StoreError
from loadgate.model import EndpointSecond, RunStatus, UsersSample
from loadgate.store import RunStore
from tests.builders import STARTED_AT, endpoint_second, new_run

SECONDS = 60


def test_readers_see_a_growing_run_while_it_is_written(store_url: str) -> None:
    with RunStore.open(store_url) as writer_store, RunStore.open(store_url) as reader:
        run_id = writer_store.create_run(new_run())
        failures: list[BaseException] = []
        # The writer pauses halfway until a read has seen the run part-written,
        # so the reads provably overlap the writes, however the threads are scheduled.
        partial_seen = threading.Event()

        def write() -> None:
            try:
                for second in range(SECONDS):
                    if second == SECONDS // 2:
                        partial_seen.wait(timeout=30)
                    writer_store.append(
                        run_id,
                        [endpoint_second(second), endpoint_second(second, name="/cart")],
                        [UsersSample(second=second, users=second)],
                    )
                    time.sleep(0.002)
            except BaseException as exc:
                failures.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        seen: list[int] = []
        while writer.is_alive():
            listed = reader.list_runs()[0].requests
            summary = reader.summary(run_id)
            # totals and rows are written in one transaction, so they agree
            assert summary.total.requests % 6 == 0
            assert listed % 6 == 0
            seen.append(summary.total.requests)
            if 0 < summary.total.requests < 6 * SECONDS:
                partial_seen.set()
        writer.join()
        assert failures == []
        assert partial_seen.is_set(), f"no read overlapped the writes: {seen}"
        assert seen == sorted(seen)
        assert reader.summary(run_id).total.requests == 6 * SECONDS
        assert len(reader.user_samples(run_id)) == SECONDS


def test_an_append_is_all_or_nothing(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    broken = EndpointSecond(
        second=2,
        method="GET",
        name="/x",
        requests=1,
        failures=0,
        bytes_received=0,
        histogram=None,  # type: ignore[arg-type]
    )
    with pytest.raises(StoreError, match=f"appending to run {run_id}"):
        store.append(run_id, [endpoint_second(1), broken])
    assert list(store.iter_endpoint_seconds(run_id)) == []
    assert store.list_runs()[0].requests == 0


def test_a_long_sqlite_reader_does_not_block_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with RunStore.open(f"sqlite:///{path}") as store:
        run_id = store.create_run(new_run())
        store.append(run_id, [endpoint_second(1)])
        raw = sqlite3.connect(path, isolation_level=None)
        try:
            raw.execute("BEGIN")
            before = raw.execute("SELECT count(*) FROM endpoint_seconds").fetchone()
            started = time.monotonic()
            store.append(run_id, [endpoint_second(2)])
            store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT)
            assert time.monotonic() - started < 1.0
            # the reader keeps its snapshot until its transaction ends
            assert raw.execute("SELECT count(*) FROM endpoint_seconds").fetchone() == before
            raw.execute("COMMIT")
            assert raw.execute("SELECT count(*) FROM endpoint_seconds").fetchone() == (2,)
        finally:
            raw.close()
        assert store.get_run(run_id).status is RunStatus.COMPLETED
