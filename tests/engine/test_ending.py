"""The end of a run: a batch in flight as the process exits is spilled, and imported once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import pytest
from gevent import monkey

from loadgate.engine.collector import Collector
from loadgate.engine.ending import RunEnding, StoredRun
from loadgate.engine.scrape_sink import ScrapeSink
from loadgate.engine.scraper import Scraper
from loadgate.engine.writer import SecondsWriter
from loadgate.engine.writer_thread import WriterThread
from loadgate.errors import StoreError
from loadgate.model import MeasuredBatch, RunStatus
from loadgate.scraped import ScrapeSecond, SeriesKey
from loadgate.store import RunStore
from loadgate.store.spill import RunEnd, import_spill, read_spill
from tests.builders import new_run
from tests.engine.test_scraper import exporter_url  # noqa: F401 (a fixture)
from tests.engine.test_writer import Clock, fire

WAIT_S = 5.0
ENDED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_allocate_lock = monkey.get_original("_thread", "allocate_lock")


class _Signal:
    """A one-shot native signal: the writer thread is not a greenlet, the test's hub may be idle."""

    def __init__(self) -> None:
        self._lock: Any = _allocate_lock()
        self._lock.acquire()

    def set(self) -> None:
        self._lock.release()

    def wait(self) -> bool:
        return bool(self._lock.acquire(timeout=WAIT_S))


class LandingSink:
    """The real store, whose append_batches returns only once `release` is set.

    With `commit_first`, the commit has landed while the writer still holds
    the batch as pending (the process exits before flush returns); without,
    the commit lands after the spill was written (a stopped PostgreSQL that
    resumes).
    """

    def __init__(self, store: RunStore, *, stop_at: str) -> None:
        self._store = store
        self._stop_at = stop_at
        self.reached = _Signal()
        self.release = _Signal()

    def stop(self) -> None:
        self.reached.set()
        assert self.release.wait()

    def append_batches(self, run_id: int, batches: Sequence[MeasuredBatch]) -> object:
        if self._stop_at == "committed":
            self._store.append_batches(run_id, batches)
            self.stop()
        elif self._stop_at == "committing":
            self.stop()
            self._store.append_batches(run_id, batches)
        else:
            self._store.append_batches(run_id, batches)
        return None


# Where the writer thread is when the process exits: encoding the batch (not
# yet pending), its commit on the way (a stopped PostgreSQL that resumes
# later), or its commit landed but flush not returned yet.
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("stop_at", ["encoding", "committing", "committed"])
def test_a_batch_in_flight_at_exit_is_spilled_and_imported_once(
    stop_at: str,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs.db'}"
    else:
        url = request.getfixturevalue("postgres_fresh_url")
    with RunStore.open(url) as store:
        run_id = store.create_run(new_run())
        collector = Collector(Clock(100.5))
        sink = LandingSink(store, stop_at=stop_at)
        writer = SecondsWriter(sink, run_id, collector)
        thread = WriterThread(writer, started_s=100.0)
        if stop_at == "encoding":
            writer.between_endpoints = sink.stop
        ending = RunEnding(store, StoredRun(run_id=run_id, new=new_run(), store_url=store.url),
                           thread)  # fmt: skip
        for _ in range(3):
            fire(collector, 2.0)
        thread.hand_off(writer.take(101.02, users=3))
        assert sink.reached.wait(), "the write started"

        # The second Ctrl-C, while the write is in flight.
        said = ending.at_exit(lambda: "interrupted by SIGINT")
        sink.release.set()
        assert thread.wait_idle(WAIT_S)
        thread.shutdown()

        path = _spill_named(said)
        spill = read_spill(path)
        assert [s.requests for b in spill.batches for s in b.seconds] == [3], "it was spilled"
        assert _stored_requests(store) == 3, "and it was stored"
        result = import_spill(store, spill, path)
        assert result.skipped_batches == 1
        assert _stored_requests(store) == 3
        assert store.summary(run_id).total.requests == 3, "counted once, not twice"


def _stored_requests(store: RunStore) -> int:
    return sum(listing.requests for listing in store.list_runs())


REFUSED = "the store refuses writes"
REFUSED_END = RunEnd(status=RunStatus.FAILED, reason=REFUSED, ended_at=ENDED)


def _spill_named(said: str) -> Path:
    """The spill file a line or error names."""
    found = re.search(r"kept in (\S+\.jsonl)", said)
    assert found is not None, said
    return Path(found.group(1))


class FailingSink:
    def append_batches(self, run_id: int, batches: Sequence[MeasuredBatch]) -> object:
        raise StoreError(REFUSED)

    def append_scrapes(
        self, run_id: int, seconds: Sequence[ScrapeSecond], known: object
    ) -> dict[SeriesKey, int]:
        raise StoreError(REFUSED)


def test_a_failing_store_still_gets_the_end_and_the_rest_is_spilled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Appends fail, other calls answer (a full disk, a constraint): the run is
    # marked failed in the store, and its measurements go to the spill file.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_id = store.create_run(new_run())
        collector = Collector(Clock(100.5))
        writer = SecondsWriter(FailingSink(), run_id, collector)
        thread = WriterThread(writer, started_s=100.0)
        ending = RunEnding(store, StoredRun(run_id=run_id, new=new_run(), store_url=store.url),
                           thread)  # fmt: skip
        fire(collector, 2.0)
        thread.hand_off(writer.take(101.02, users=1))
        assert thread.wait_idle(WAIT_S)
        error = ending.spilled(StoreError(REFUSED), None, REFUSED_END)
        thread.shutdown()

        run = store.get_run(run_id)
        assert (run.status, run.status_reason) == (RunStatus.FAILED, REFUSED)
        spilled = read_spill(_spill_named(str(error)))
        assert [s.requests for s in spilled.seconds] == [1]
        assert spilled.end == REFUSED_END


def test_scrapes_the_store_did_not_take_are_spilled_and_imported(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exporter_url: str,  # noqa: F811
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        run_id = store.create_run(new_run())
        collector = Collector(Clock(100.5))
        writer = SecondsWriter(FailingSink(), run_id, collector)
        thread = WriterThread(writer, started_s=100.0)
        scraper = Scraper([exporter_url])
        sink = ScrapeSink(scraper, FailingSink(), run_id, thread, warn=lambda message: None)
        ending = RunEnding(store, StoredRun(run_id=run_id, new=new_run(), store_url=store.url),
                           thread, sink.unstored)  # fmt: skip
        scraper.start()
        gevent.sleep(2.5)
        sink.flush(timeout_s=1.0)  # refused by the store: held
        gevent.sleep(1.0)  # and one more the sink has not taken yet
        error = ending.spilled(StoreError(REFUSED), None, REFUSED_END)
        scraper.stop()
        thread.shutdown()

        path = _spill_named(str(error))
        spilled = read_spill(path)
        seconds = [scrape.second for scrape in spilled.scrapes]
        assert len(seconds) >= 3, spilled.scrapes
        assert seconds == list(range(seconds[0], seconds[0] + len(seconds))), "none lost"
        gauge = {key.name: value for key, value in spilled.scrapes[-1].values.items()}
        assert gauge["queue_length"] == 3.0

        result = import_spill(store, spilled, path)
        assert result.scrapes == len(seconds)
        scraped = store.scraped(run_id, lambda key: key.name == "queue_length")
        (target,) = scraped.targets
        assert (target.url, target.scrapes) == (exporter_url, len(seconds))
        (values,) = scraped.samples.values()
        assert values == dict.fromkeys(seconds, 3.0)
