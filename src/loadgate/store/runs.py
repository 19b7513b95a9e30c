"""RunStore: create, append to, finish and read back runs, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from loadgate.errors import RunNotFoundError, StoreError
from loadgate.model import (
    ArrivalSecond,
    EndpointSecond,
    GeneratorSecond,
    MeasuredBatch,
    NewRun,
    PartSecond,
    RunEvent,
    RunInfo,
    RunListing,
    RunStatus,
    SavedTest,
    ThresholdOutcome,
    UsersSample,
    WorkerTotal,
)
from loadgate.scraped import ChartBuckets, ScrapedRun, ScrapeSecond, SeriesKey
from loadgate.stats import RunSummary
from loadgate.stats.fold import RunFold, fold_seconds
from loadgate.stats.summary import summarize_fold
from loadgate.store import appending, codec, kept_view, reading, saved_tests, scraped
from loadgate.store.connection import (
    SQLITE_BEGIN_OPTION,
    create_store_engine,
    translated_errors,
)
from loadgate.store.kept_view import FoldedView
from loadgate.store.listing import RunFilter, listing_query
from loadgate.store.liveness import lost_after_s_from_env
from loadgate.store.merging import latest_user_samples
from loadgate.store.migrations import migrate
from loadgate.store.schema import (
    arrival_seconds,
    generator_seconds,
    run_events,
    run_workers,
    runs,
    users_samples,
)
from loadgate.store.url import default_db_url, mask_url, parse_db_url

LAST_REF = "last"


class RunStore:
    """Stored runs. Open with RunStore.open(url); close it, or use it as a context manager.

    Every method is one transaction. Database failures raise StoreError naming
    the store (password masked); unknown runs raise RunNotFoundError. "Newest"
    means the highest run id, i.e. the run created last, whatever the clocks said.
    Runs are read with their status as shown: a RUNNING run whose writer has
    not appended for `lost_after_s` reads as LOST (store/liveness.py).
    """

    def __init__(
        self, engine: Engine, display_url: str, *, lost_after_s: float | None = None
    ) -> None:
        self._engine = engine
        self.url = display_url
        self.lost_after_s = lost_after_s if lost_after_s is not None else lost_after_s_from_env()

    @classmethod
    def open(cls, url: str | None = None, *, lost_after_s: float | None = None) -> RunStore:
        """Open (and create or migrate) the store at `url`, or at default_db_url().

        `lost_after_s` defaults to LOADGATE_LOST_AFTER_S, else liveness.LOST_AFTER_S.
        """
        raw_url = url.strip() if url and url.strip() else default_db_url()
        display_url = mask_url(raw_url)
        engine = create_store_engine(parse_db_url(raw_url), display_url)
        try:
            with translated_errors(display_url, "migrating the schema"):
                migrate(engine, display_url)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, display_url, lost_after_s=lost_after_s)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({self.url!r})"

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        with translated_errors(self.url, action), self._engine.begin() as conn:
            yield conn

    # -- writing -------------------------------------------------------------

    def create_run(self, new: NewRun) -> int:
        """Store a new run, status RUNNING; returns its id."""
        values: dict[str, Any] = {
            "name": new.name,
            "script_path": new.script_path,
            "script_text": new.script_text,
            "host": new.host,
            "started_at": codec.to_db_time(new.started_at),
            "ended_at": None,
            "status": RunStatus.RUNNING.value,
            "status_reason": "",
            "settings": codec.dump_json(new.settings),
            "is_baseline": False,
            "requests": 0,
            "failures": 0,
            "heartbeat_at": datetime.now(UTC),
        }
        with self._transaction("creating a run") as conn:
            result = conn.execute(sa.insert(runs).values(values).returning(runs.c.run_id))
            return int(result.scalar_one())

    def append(
        self,
        run_id: int,
        seconds: Sequence[EndpointSecond],
        users: Sequence[UsersSample] = (),
        generator: Sequence[GeneratorSecond] = (),
        *,
        batch_id: str = "",
    ) -> bool:
        """Add measured seconds, user counts and generator health to a run, in one transaction.

        The same (second, method, name) may be appended more than once; readers
        see the pieces merged. Every call, even an empty one, is the run's
        heartbeat: a run not appended to for `lost_after_s` reads as LOST. With
        a `batch_id`, a batch already applied under that id is skipped (False).
        """
        batch = MeasuredBatch(batch_id=batch_id, seconds=seconds, users=users, generator=generator)
        return bool(self.append_batches(run_id, [batch]))

    def append_batches(self, run_id: int, batches: Sequence[MeasuredBatch]) -> list[MeasuredBatch]:
        """Append the batches the run lacks, in one transaction; returns those appended.

        A batch whose id was already applied to the run is skipped, so storing
        a batch again (a retry whose first commit landed, a spill file holding
        what was also stored) never counts it twice.
        """
        with self._transaction(f"appending to run {run_id}") as conn:
            appended = appending.append_batches(conn, run_id, batches)
            if appended is None:
                raise self._not_found(run_id)
            return appended

    def applied_to(self, batch_id: str) -> int | None:
        """The run a batch (or spill file) id was applied to, if any."""
        with self._transaction("looking up a batch") as conn:
            return appending.applied_to(conn, batch_id)

    def finish_run(
        self, run_id: int, status: RunStatus, ended_at: datetime, reason: str = ""
    ) -> None:
        """Record how and when a run ended (fast: store_totals is a separate step)."""
        values = {
            "status": RunStatus(status).value,
            "ended_at": codec.to_db_time(ended_at),
            "status_reason": reason,
        }
        self._update_run(run_id, values, f"finishing run {run_id}")

    def store_totals(self, run_id: int, fold: RunFold | None = None) -> None:
        """Store the run's per-endpoint totals, so summaries read one row per endpoint.

        `loadgate run` calls it once the run has ended, with the fold it made
        while reading the run for its outputs (else the seconds are folded
        here: seconds per hour of run). Kept apart from finish_run, which must
        stay instant (a second Ctrl-C, a failing run). Totals that no longer
        account for every request (seconds appended later) are ignored by readers.
        """
        if fold is None:
            with self._transaction(f"reading run {run_id}") as conn:
                self._get_run(conn, run_id)
                fold = fold_seconds(reading.stream_seconds(conn, run_id, None, None))
        # A short write transaction of its own: folding inside it would hold
        # SQLite's write lock (or conflict with other runs' appends) for seconds.
        with self._transaction(f"storing the totals of run {run_id}") as conn:
            reading.replace_totals(conn, run_id, fold.totals())

    def store_workers(self, run_id: int, workers: Sequence[WorkerTotal]) -> None:
        """What each worker of a distributed run sent (replaces what was stored before)."""
        rows = [codec.worker_total_row(run_id, position, w) for position, w in enumerate(workers)]
        with self._transaction(f"storing the workers of run {run_id}") as conn:
            self._get_run(conn, run_id)
            conn.execute(sa.delete(run_workers).where(run_workers.c.run_id == run_id))
            if rows:
                conn.execute(sa.insert(run_workers), rows)

    def append_scrapes(
        self,
        run_id: int,
        seconds: Sequence[ScrapeSecond],
        known: Mapping[SeriesKey, int] | None = None,
    ) -> dict[SeriesKey, int]:
        """Store what was scraped from the run's targets; returns the ids of new series.

        Pass every id returned so far as `known`, so that a series is created once.
        """
        with self._transaction(f"storing the scraped metrics of run {run_id}") as conn:
            self._get_run(conn, run_id)
            return scraped.append_scrapes(conn, run_id, seconds, known or {})

    def append_missing_scrapes(self, run_id: int, seconds: Sequence[ScrapeSecond]) -> int:
        """Store the scrapes the run lacks (by URL and second), e.g. a spill file's; how many."""
        with self._transaction(f"storing the scraped metrics of run {run_id}") as conn:
            self._get_run(conn, run_id)
            return scraped.append_missing_scrapes(conn, run_id, seconds)

    def scraped(
        self,
        run_id: int,
        wanted: Callable[[SeriesKey], bool] = lambda key: False,
        *,
        charted: Callable[[SeriesKey], bool] | None = None,
        buckets: ChartBuckets | None = None,
    ) -> ScrapedRun:
        """What was scraped during the run, with the values per second of the series `wanted`,
        and the means per bucket of `buckets` of the series `charted`."""
        with self._transaction(f"reading the scraped metrics of run {run_id}") as conn:
            self._get_run(conn, run_id)
            return scraped.read_scraped(conn, run_id, wanted, charted, buckets)

    def events(self, run_id: int) -> list[RunEvent]:
        """What happened to the run besides its measurements, ordered by second."""
        query = (
            sa.select(run_events)
            .where(run_events.c.run_id == run_id)
            .order_by(run_events.c.second, run_events.c.id)
        )
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            rows = conn.execute(query).all()
        return [codec.run_event(r) for r in rows]

    def workers(self, run_id: int) -> list[WorkerTotal]:
        """The workers of a distributed run, in the order they first reported (none otherwise)."""
        query = (
            sa.select(run_workers)
            .where(run_workers.c.run_id == run_id)
            .order_by(run_workers.c.position)
        )
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            rows = conn.execute(query).all()
        return [codec.worker_total(r) for r in rows]

    def set_baseline(self, run_id: int, is_baseline: bool = True) -> None:
        """Mark (or unmark) a run as a baseline for comparisons."""
        self._update_run(run_id, {"is_baseline": is_baseline}, f"marking run {run_id}")

    def _update_run(self, run_id: int, values: dict[str, Any], action: str) -> None:
        with self._transaction(action) as conn:
            result = conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(values))
            if result.rowcount == 0:
                raise self._not_found(run_id)

    # -- reading runs --------------------------------------------------------

    def get_run(self, run_id: int) -> RunInfo:
        with self._transaction(f"reading run {run_id}") as conn:
            return self._get_run(conn, run_id)

    def _get_run(self, conn: Connection, run_id: int) -> RunInfo:
        row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one_or_none()
        if row is None:
            raise self._not_found(run_id)
        return self._run_info(row)

    def _run_info(self, row: Any) -> RunInfo:
        return codec.run_info(row, datetime.now(UTC), self.lost_after_s)

    def _not_found(self, run_id: int) -> RunNotFoundError:
        return RunNotFoundError(f"no run {run_id} in {self.url}")

    def resolve(self, ref: str) -> RunInfo:
        """A run by reference: an id ("42"), "last" (the newest), or a name (its newest run)."""
        text = ref.strip()
        if text.isdigit():
            return self.get_run(int(text))
        query = sa.select(runs).order_by(runs.c.run_id.desc()).limit(1)
        if text != LAST_REF:
            query = query.where(runs.c.name == text)
        with self._transaction(f"looking up run {text!r}") as conn:
            row = conn.execute(query).one_or_none()
        if row is not None:
            return self._run_info(row)
        if text == LAST_REF:
            raise RunNotFoundError(f"no runs yet in {self.url}, so there is no 'last' run")
        raise RunNotFoundError(
            f"no run with id or name {text!r} in {self.url} "
            f"(give a run id, a run name, or '{LAST_REF}')"
        )

    def list_runs(self, limit: int = 50, where: RunFilter | None = None) -> list[RunListing]:
        """The newest `limit` runs (matching `where`), newest first, with their totals.

        Filtering by RUNNING or LOST may return fewer than `limit`: both are
        stored as running, and told apart as they are read.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        where = where or RunFilter()
        with self._transaction("listing runs") as conn:
            rows = conn.execute(listing_query(where, limit)).all()
        listings = [
            RunListing(
                run=self._run_info(row),
                requests=row.requests,
                failures=row.failures,
                p50_ms=row.p50_ms,
                p95_ms=row.p95_ms,
                p99_ms=row.p99_ms,
                threshold_outcome=None
                if row.threshold_outcome is None
                else ThresholdOutcome(row.threshold_outcome),
            )
            for row in rows
        ]
        if where.status is None:
            return listings
        return [listing for listing in listings if listing.run.status is where.status]

    def store_listing(
        self, run_id: int, percentiles_ms: tuple[float, float, float], outcome: ThresholdOutcome
    ) -> None:
        """What lists show of an ended run besides its counts: p50, p95, p99 and the verdict."""
        p50_ms, p95_ms, p99_ms = percentiles_ms
        values = {
            "p50_ms": p50_ms,
            "p95_ms": p95_ms,
            "p99_ms": p99_ms,
            "threshold_outcome": outcome.value,
        }
        self._update_run(run_id, values, f"storing the listing of run {run_id}")

    def save_test(self, test: SavedTest) -> int:
        """Store a new saved test (the dashboard's); returns its id. Names are unique."""
        with self._transaction("saving a test") as conn:
            return saved_tests.insert_test(conn, test)

    def saved_tests(self) -> list[SavedTest]:
        """Every saved test, by name."""
        with self._transaction("reading the saved tests") as conn:
            return saved_tests.all_tests(conn)

    def saved_test(self, test_id: int) -> SavedTest:
        """A saved test by id; TestNotFoundError if there is none."""
        with self._transaction(f"reading saved test {test_id}") as conn:
            return saved_tests.one_test(conn, test_id, self.url)

    def set_schedule_state(self, test_id: int, handled_at: datetime, note: str) -> None:
        """The last due time of a test's schedule handled, and what was said of missed ones."""
        with self._transaction(f"updating the schedule of test {test_id}") as conn:
            saved_tests.update_schedule(conn, test_id, handled_at, note, self.url)

    def latest_baseline(self, name: str | None = None) -> RunInfo | None:
        """The newest run marked as a baseline (with that name, if given)."""
        query = sa.select(runs).where(runs.c.is_baseline.is_(True))
        if name is not None:
            query = query.where(runs.c.name == name)
        query = query.order_by(runs.c.run_id.desc()).limit(1)
        with self._transaction("looking up the baseline") as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else self._run_info(row)

    # -- reading measurements -------------------------------------------------

    def user_samples(self, run_id: int, *, since_second: int | None = None) -> list[UsersSample]:
        """The run's user counts, one per second (the last written wins), ordered by second."""
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            return self._user_samples(conn, run_id, since_second)

    def generator_seconds(self, run_id: int) -> list[GeneratorSecond]:
        """The generator's health per second, ordered by second (none for older runs)."""
        query = (
            sa.select(generator_seconds.c.second, generator_seconds.c.stall_ms)
            .where(generator_seconds.c.run_id == run_id)
            .order_by(generator_seconds.c.second, generator_seconds.c.id)
        )
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            rows = conn.execute(query).all()
        return [GeneratorSecond(second=r.second, stall_ms=r.stall_ms) for r in rows]

    def iter_arrival_seconds(self, run_id: int) -> Iterator[ArrivalSecond]:
        """The open model's scheduler per second, ordered by second (none for closed runs).

        Pieces of one second (one per worker) come as stored: add them up.
        Streamed, like iter_endpoint_seconds: one read transaction open while
        iterated, a batch of rows in memory.
        """
        query = (
            sa.select(arrival_seconds)
            .where(arrival_seconds.c.run_id == run_id)
            .order_by(arrival_seconds.c.second, arrival_seconds.c.id)
            .execution_options(yield_per=reading.ROWS_PER_FETCH)
        )
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            for row in conn.execute(query):
                yield codec.arrival_second(row)

    def iter_endpoint_seconds(
        self,
        run_id: int,
        *,
        from_second: int | None = None,
        to_second: int | None = None,
        by_region: bool = False,
    ) -> Iterator[EndpointSecond]:
        """The run's endpoint-seconds one at a time, pieces of a second merged.

        Ordered by second, then name, then method; from `from_second` to
        `to_second` (both included) if given. Holds one second in memory and
        one read transaction open while iterated: `list()` it only for a
        short run or range.
        `by_region`: one per region too (a distributed run's), else all merged.
        """
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            yield from reading.stream_seconds(conn, run_id, from_second, to_second, by_region)

    def iter_part_seconds(
        self, run_id: int, *, from_second: int | None = None, to_second: int | None = None
    ) -> Iterator[PartSecond]:
        """The run's part-seconds (cache hits and misses, upstream and gateway time), merged.

        Ordered by second, name, method and part; none for a run whose
        responses never said (or stored before they were recorded).
        """
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            yield from reading.stream_part_seconds(conn, run_id, from_second, to_second)

    def iter_second_counts(self, run_id: int) -> Iterator[EndpointSecond]:
        """The run's endpoint-seconds without histograms (empty bytes), pieces unmerged."""
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            yield from reading.stream_second_counts(conn, run_id)

    def second_span(self, run_id: int, *, with_users: bool = True) -> tuple[int, int] | None:
        """The first and last second with measurements (or user counts); None for none.

        Cheap (the index's ends): readers that fold seconds as they come size
        their buckets or blocks with it before reading.
        """
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            return reading.second_span(conn, run_id, with_users)

    def pieces_before(self, run_id: int, before_second: int) -> int:
        """How many pieces (rows) the run's seconds before `before_second` have so far.

        No histogram is read: a reader that folded those seconds once learns
        cheaply whether a piece of one of them was stored since (a
        distributed run's late report).
        """
        with self._transaction(f"reading run {run_id}") as conn:
            return reading.pieces_before(conn, run_id, before_second)

    def users_max(
        self, run_id: int, *, from_second: int | None = None, to_second: int | None = None
    ) -> int:
        """The most users the run had (within the seconds given); 0 without samples."""
        with self._transaction(f"reading run {run_id}") as conn:
            return reading.users_max(conn, run_id, from_second, to_second)

    def stored_fold(self, run_id: int) -> RunFold | None:
        """The run's per-endpoint totals as written when it ended; None when they cannot be used.

        None for runs without totals (older, running, lost) or with seconds
        appended after them; `fold` then reads the seconds.
        """
        with self._transaction(f"reading run {run_id}") as conn:
            totals = reading.stored_totals(conn, run_id)
        return None if totals is None else RunFold.of_totals(totals)

    def summary(self, run_id: int) -> RunSummary:
        """The run's summary: one row per endpoint when it has totals, else its seconds folded.

        An ended run folded this way gets the fold stored as its totals (keep_totals).
        """
        run = self.get_run(run_id)
        fold = self.stored_fold(run_id)
        if fold is None:
            fold = fold_seconds(self.iter_endpoint_seconds(run_id))
            self.keep_totals(run, fold)
        return summarize_fold(run, fold, users_max=self.users_max(run_id))

    def keep_totals(self, run: RunInfo, fold: RunFold) -> bool:
        """Store a reader's `fold` of the whole of an ended `run` as its totals; True if written.

        Runs that `loadgate run` did not end normally (a second Ctrl-C, a
        store failure) or that were imported have no totals: without this,
        every `show` or `report` of a long one folds all its seconds. Nothing
        is written for a running or lost run, or when the fold no longer
        accounts for every request (reading.keep_totals). A store this reader
        cannot write to (a read-only copy, a lock held past the busy timeout)
        only costs the next reader the fold again, so that failure is not
        raised: the reader still shows the run.
        """
        if run.status in (RunStatus.RUNNING, RunStatus.LOST) or run.ended_at is None:
            return False
        try:
            with self._write_transaction(f"storing the totals of run {run.run_id}") as conn:
                return reading.keep_totals(conn, run.run_id, fold.totals())
        except StoreError:
            return False

    def kept_view(self, run_id: int) -> tuple[str, FoldedView | None]:
        """The key of the run's data as it is now, and the view kept from that data, if any."""
        with self._transaction(f"reading run {run_id}") as conn:
            self._get_run(conn, run_id)
            data_key = kept_view.view_data_key(conn, run_id)
            document = kept_view.kept_document(conn, run_id, data_key)
        return data_key, None if document is None else kept_view.read_view_document(document)

    def keep_view(self, run: RunInfo, data_key: str, view: FoldedView) -> bool:
        """Keep a whole-run read of a settled `run`, folded from the data `data_key` says.

        Written only if the run's data is still that (nothing appended while
        it was read); True if written. As for keep_totals, a store this
        reader cannot write to only costs the next reader the fold again.
        """
        if not run.has_settled:
            return False
        document = kept_view.view_document(view)
        try:
            with self._write_transaction(f"keeping the view of run {run.run_id}") as conn:
                if kept_view.view_data_key(conn, run.run_id) != data_key:
                    return False
                kept_view.replace_document(conn, run.run_id, data_key, document)
                return True
        except StoreError:
            return False

    @contextmanager
    def _write_transaction(self, action: str) -> Iterator[Connection]:
        """A transaction that takes SQLite's write lock at BEGIN, for a read-then-write."""
        with translated_errors(self.url, action), self._engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # A deferred transaction that reads, then writes, fails at once
                # ("database is locked") when another writer came in between.
                conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def _user_samples(
        self, conn: Connection, run_id: int, since_second: int | None
    ) -> list[UsersSample]:
        query = sa.select(users_samples.c.second, users_samples.c.users).where(
            users_samples.c.run_id == run_id
        )
        if since_second is not None:
            query = query.where(users_samples.c.second >= since_second)
        rows = conn.execute(query.order_by(users_samples.c.id))
        return latest_user_samples(UsersSample(second=r.second, users=r.users) for r in rows)
