"""A running run read for its live view, incrementally: each tick reads only the recent seconds.

The run page's live view used to read the whole run every second for each
browser, so a view cost more the longer the run went. A LiveRead keeps
what it has read: seconds older than the newest stored one by SETTLE_S are
settled (a run's writers store a second once it is over; a distributed
run's pieces come within a report interval) and folded once into the
summary's fold, the findings' series, the timeline's buckets and the
latencies' parts; each tick reads the seconds from the first unsettled
bucket on, decodes them, and joins them to the settled part
(web/range_join.py). The result is what a whole read gives
(tests/web/test_live_read.py compares them tick by tick).

It starts again from the run's first second when the charts' bucket width
changes (after 12 minutes, then 2 hours: bucket_width_s), when the run
turns into a ramp (the findings then want each second's p95), or when the
axis starts earlier: a few times in a run's life; and when a piece of a
settled second is stored late (a distributed run's slow worker): each tick
counts the settled seconds' rows (RunStore.pieces_before, no histogram read).

Still read whole each tick, as a whole read does, but without a histogram:
the users samples (two numbers a second) and what read_stored_run reads
beside (workers, scraped metrics, the open model's counts, generator
stalls). The settled findings' series is copied each tick (a few numbers
per endpoint-second, up to FINDINGS_MAX_SPAN_S).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from loadgate.model import RunInfo, UsersSample
from loadgate.report.stored_run import StoredRun
from loadgate.run_reading import read_stored_run
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.fold import RunFold
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.parts import PartsFold, RunParts
from loadgate.stats.series import RunSeries, SeriesFold, is_ramp, keeps_series, skipped_series
from loadgate.stats.summary import summarize_fold
from loadgate.stats.timeline import Timeline, TimelineFold, bucket_width_s, epoch_second, time_axis
from loadgate.store import RunStore
from loadgate.web.range_join import PartKey, joined_parts, joined_series, joined_timeline

SETTLE_S = 10


@dataclass
class _Settled:
    """What is folded of the seconds before `before`: the same for every later tick."""

    before: int
    pieces: int = 0  # the store's rows (pieces) of those seconds when they were read
    fold: RunFold = field(default_factory=RunFold)
    series: SeriesFold = field(default_factory=SeriesFold)
    timeline: Timeline | None = None
    parts: RunParts | None = None
    part_histograms: dict[PartKey, LatencyHistogram] = field(default_factory=dict)


@dataclass(frozen=True)
class _Tick:
    """One read's view of the run: its axis, bucket width, and where settled seconds end."""

    axis: range
    width_s: int
    settle_before: int
    settled_pieces: int
    run_start: int
    users: list[UsersSample]
    ramp: bool

    @property
    def keeps_series(self) -> bool:
        return keeps_series(len(self.axis))


class LiveRead:
    """One running run, read again each tick from the first second not yet settled."""

    def __init__(self, store: RunStore, run_id: int, *, settle_s: int = SETTLE_S) -> None:
        if settle_s < 1:
            raise ValueError(f"settle_s must be at least 1, not {settle_s}")
        self._store = store
        self._run_id = run_id
        self._settle_s = settle_s
        self._shape: tuple[int, int, bool] | None = None  # axis start, bucket width, ramp
        self._settled = _Settled(before=0)

    @property
    def settled_before(self) -> int:
        """Seconds before this one are folded once, and not read again."""
        return self._settled.before

    def read(self, run: RunInfo) -> tuple[StoredRun, Timeline]:
        """The run as read_for_report gives it (the summary, findings... and the timeline)."""
        tick = self._tick(run)
        try:
            timeline, fold, series = self._read_seconds(tick)
            parts = self._read_parts(tick)
        except BaseException:
            # Settled seconds may be folded in part: the next read starts over.
            self._shape = None
            raise
        self._settled.before = tick.settle_before
        self._settled.pieces = tick.settled_pieces
        users_max = max((u.users for u in tick.users), default=0)
        summary = summarize_fold(run, fold, users_max=users_max)
        stored = read_stored_run(
            self._store, summary, series, parts, with_regions=False, chart_on=timeline
        )
        return stored, timeline

    def _tick(self, run: RunInfo) -> _Tick:
        users = self._store.user_samples(run.run_id)
        axis = time_axis(run, self._store.second_span(run.run_id) or ())
        width_s = bucket_width_s(len(axis))
        ramp = is_ramp(users)
        settled = self._settled
        if self._shape != (axis.start, width_s, ramp) or (
            settled.pieces != self._store.pieces_before(run.run_id, settled.before)
        ):  # a piece of a settled second was stored late: read them all again
            self._shape = (axis.start, width_s, ramp)
            self._settled = _Settled(before=axis.start)
        settle_before = axis.start + max(0, len(axis) - self._settle_s) // width_s * width_s
        settle_before = max(settle_before, self._settled.before)
        return _Tick(
            axis=axis,
            width_s=width_s,
            # Counted before the seconds are read: a piece stored in between is
            # read but not counted, and only makes the next read start over.
            settled_pieces=self._store.pieces_before(run.run_id, settle_before),
            settle_before=settle_before,
            run_start=epoch_second(run.started_at),
            users=users,
            ramp=ramp,
        )

    def _read_seconds(self, tick: _Tick) -> tuple[Timeline, RunFold, RunSeries]:
        """The timeline, summary fold and findings' series: settled ones kept, the rest read."""
        settled = self._settled
        settling = TimelineFold(range(settled.before, tick.settle_before), tick.width_s)
        tail = TimelineFold(range(tick.settle_before, tick.axis.stop), tick.width_s)
        tail_fold, tail_series = RunFold(), SeriesFold()
        for second in self._store.iter_endpoint_seconds(
            self._run_id, from_second=settled.before, to_second=tick.axis.stop - 1
        ):
            histogram = BucketCounts.decode(second.histogram, second.out_of_range)
            done = second.second < tick.settle_before
            (settling if done else tail).add(second, histogram)
            (settled.fold if done else tail_fold).add(second, histogram)
            if tick.keeps_series:
                series_fold = settled.series if done else tail_series
                series_fold.add(second, histogram if tick.ramp else None)
        if tick.settle_before > settled.before:
            more = settling.timeline(tick.run_start, tick.users)
            settled.timeline = (
                more if settled.timeline is None else joined_timeline([settled.timeline, more])
            )
        timeline = tail.timeline(tick.run_start, tick.users)
        if settled.timeline is not None:
            timeline = joined_timeline([settled.timeline, timeline])
        # The users per bucket from every sample, as a whole read has them (a fold of no seconds).
        whole = TimelineFold(tick.axis, tick.width_s).timeline(tick.run_start, tick.users)
        fold = RunFold.of_totals([*settled.fold.totals(), *tail_fold.totals()])
        series = (
            joined_series([settled.series.series(tick.run_start, tick.users),
                           tail_series.series(tick.run_start, tick.users)])
            if tick.keeps_series
            else skipped_series(tick.run_start, len(tick.axis))
        )  # fmt: skip
        return replace(timeline, users=whole.users), fold, series

    def _read_parts(self, tick: _Tick) -> RunParts:
        """The latencies' parts (cache hits, upstream time): settled buckets kept, the rest read."""
        settled = self._settled
        settling = PartsFold(range(settled.before, tick.settle_before), tick.width_s)
        tail = PartsFold(range(tick.settle_before, tick.axis.stop), tick.width_s)
        histograms = {key: _copy(histogram) for key, histogram in settled.part_histograms.items()}
        for piece in self._store.iter_part_seconds(
            self._run_id, from_second=settled.before, to_second=tick.axis.stop - 1
        ):
            done = piece.second < tick.settle_before
            (settling if done else tail).add(piece)
            key = (piece.method, piece.name, piece.part)
            histogram = LatencyHistogram.decode(piece.histogram)
            if done:
                _add(settled.part_histograms, key, histogram)
            _add(histograms, key, histogram)
        if tick.settle_before > settled.before:
            more = settling.parts(tick.run_start, tick.users)
            settled.parts = (
                more
                if settled.parts is None
                else joined_parts([settled.parts, more], settled.part_histograms)
            )
        parts = tail.parts(tick.run_start, tick.users)
        if settled.parts is not None:
            parts = joined_parts([settled.parts, parts], histograms)
        whole = PartsFold(tick.axis, tick.width_s).parts(tick.run_start, tick.users)
        return replace(parts, users=whole.users)


def _copy(histogram: LatencyHistogram) -> LatencyHistogram:
    copy = LatencyHistogram()
    copy.merge(histogram)
    return copy


def _add(held: dict[PartKey, LatencyHistogram], key: PartKey, histogram: LatencyHistogram) -> None:
    """Merge `histogram` into `held`'s for `key` (a copy of it: `held` owns what it holds)."""
    mine = held.get(key)
    if mine is None:
        held[key] = _copy(histogram)
    else:
        mine.merge(histogram)
