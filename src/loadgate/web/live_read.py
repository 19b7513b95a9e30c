"""A running run read for its live view, incrementally: each tick reads only the recent seconds.

The run page's live view used to read the whole run every second for each
browser, so a view cost more the longer the run went. A LiveRead keeps
what it has read: seconds older than the newest stored one by SETTLE_S are
settled (a run's writers store a second once it is over; a distributed
run's pieces come within a report interval) and folded once into the
summary's fold, the findings' series and the timeline's buckets; each tick
reads the seconds from the first unsettled bucket on, decodes them, and
joins them to the settled part. The result is what a whole read gives
(tests/web/test_live_read.py compares them second by second).

It starts again from the run's first second when the charts' bucket width
changes (after 12 minutes, then 2 hours: bucket_width_s), when the run
turns into a ramp (the findings then want each second's p95), or when the
axis starts earlier: a few times in a run's life. A piece stored more than
SETTLE_S after its second is not in the live view; the last event, read
whole when the run has ended, has it.

Still read whole each tick, as a whole read does: the users samples (two
numbers a second), the latencies' parts (only for targets that report
cache status or upstream time), and what read_stored_run reads beside
(workers, scraped metrics, the open model's counts, generator stalls).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from loadgate.model import RunInfo
from loadgate.report.stored_run import StoredRun
from loadgate.run_reading import read_stored_run
from loadgate.stats.fold import EndpointKey, RunFold
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.series import (
    EndpointSeries,
    RunSeries,
    SecondPoint,
    SeriesFold,
    is_ramp,
    keeps_series,
    skipped_series,
)
from loadgate.stats.summary import summarize_fold
from loadgate.stats.timeline import (
    EndpointTimeline,
    Timeline,
    TimelineFold,
    bucket_width_s,
    epoch_second,
    time_axis,
)
from loadgate.store import RunStore
from loadgate.store.run_view import read_run_parts

SETTLE_S = 10


class LiveRead:
    """One running run, read again each tick from the first second not yet settled."""

    def __init__(self, store: RunStore, run_id: int, *, settle_s: int = SETTLE_S) -> None:
        if settle_s < 1:
            raise ValueError(f"settle_s must be at least 1, not {settle_s}")
        self._store = store
        self._run_id = run_id
        self._settle_s = settle_s
        self._shape: tuple[int, int, bool] | None = None  # axis start, bucket width, ramp
        self.settled_before = 0  # seconds before this one are folded into what follows
        self._fold = RunFold()
        self._series = SeriesFold()
        self._timeline: Timeline | None = None

    def read(self, run: RunInfo) -> tuple[StoredRun, Timeline]:
        """The run as read_for_report gives it (the summary, findings... and the timeline)."""
        users = self._store.user_samples(run.run_id)
        axis = time_axis(run, self._store.second_span(run.run_id) or ())
        width_s = bucket_width_s(len(axis))
        ramp = is_ramp(users)
        if self._shape != (axis.start, width_s, ramp):
            self._start_over(axis.start, width_s, ramp)
        keep_series = keeps_series(len(axis))
        settle_before = axis.start + max(0, len(axis) - self._settle_s) // width_s * width_s
        settle_before = max(settle_before, self.settled_before)
        settling = TimelineFold(range(self.settled_before, settle_before), width_s)
        tail = TimelineFold(range(settle_before, axis.stop), width_s)
        tail_fold, tail_series = RunFold(), SeriesFold()
        for second in self._store.iter_endpoint_seconds(
            run.run_id, from_second=self.settled_before, to_second=axis.stop - 1
        ):
            histogram = LatencyHistogram.decode(second.histogram, second.out_of_range)
            settled = second.second < settle_before
            (settling if settled else tail).add(second, histogram)
            (self._fold if settled else tail_fold).add(second, histogram)
            if keep_series:
                (self._series if settled else tail_series).add(second, histogram if ramp else None)
        run_start = epoch_second(run.started_at)
        if settle_before > self.settled_before:
            done = settling.timeline(run_start, users)
            self._timeline = done if self._timeline is None else joined([self._timeline, done])
            self.settled_before = settle_before
        timeline = tail.timeline(run_start, users)
        if self._timeline is not None:
            timeline = joined([self._timeline, timeline])
        # The users per bucket from every sample, as a whole read has them (a fold of no seconds).
        timeline = replace(
            timeline, users=TimelineFold(axis, width_s).timeline(run_start, users).users
        )
        fold = RunFold.of_totals([*self._fold.totals(), *tail_fold.totals()])
        summary = summarize_fold(run, fold, users_max=max((u.users for u in users), default=0))
        series = (
            joined_series([self._series.series(run_start, users),
                           tail_series.series(run_start, users)])
            if keep_series
            else skipped_series(run_start, len(axis))
        )  # fmt: skip
        parts = read_run_parts(self._store, run, users, axis=axis, bucket_s=width_s)
        stored = read_stored_run(
            self._store, summary, series, parts, with_regions=False, chart_on=timeline
        )
        return stored, timeline

    def _start_over(self, axis_start: int, width_s: int, ramp: bool) -> None:
        self._shape = (axis_start, width_s, ramp)
        self.settled_before = axis_start
        self._fold = RunFold()
        self._series = SeriesFold()
        self._timeline = None


def joined(parts: Sequence[Timeline]) -> Timeline:
    """Timelines of consecutive ranges of one run, on the same bucket width, as one.

    An endpoint (or a status) missing from a part has zero counts and no
    percentiles in its buckets, as a fold of the whole range gives it.
    """
    width_s = parts[0].bucket_s
    keys = sorted(
        {(e.method, e.name) for part in parts for e in part.endpoints},
        key=lambda key: (key[1], key[0]),
    )
    by_key = [{(e.method, e.name): e for e in part.endpoints} for part in parts]
    return Timeline(
        start_second=parts[0].start_second,
        offsets_s=tuple(offset for part in parts for offset in part.offsets_s),
        users=tuple(level for part in parts for level in part.users),
        endpoints=tuple(
            _joined_endpoint(key, [(ends.get(key), len(p.offsets_s)) for ends, p in
                                   zip(by_key, parts, strict=True)], width_s)
            for key in keys
        ),
        total=_joined_endpoint(
            (parts[0].total.method, parts[0].total.name),
            [(part.total, len(part.offsets_s)) for part in parts],
            width_s,
        ),
        bucket_s=width_s,
    )  # fmt: skip


def _joined_endpoint(
    key: EndpointKey, pieces: Sequence[tuple[EndpointTimeline | None, int]], width_s: int
) -> EndpointTimeline:
    """One endpoint's series over the parts; `pieces` are (its series or None, buckets)."""
    # One-second buckets count in whole numbers; wider ones are averages (floats),
    # also in a part made of one short bucket (the fold of that part alone gives ints).
    number = int if width_s == 1 else float

    def counts(values: list[tuple[float, ...] | None]) -> tuple[float, ...]:
        return tuple(
            number(value)
            for (_, buckets), part in zip(pieces, values, strict=True)
            for value in (part if part is not None else (0,) * buckets)
        )

    def levels(values: list[tuple[float | None, ...] | None]) -> tuple[float | None, ...]:
        return tuple(
            value
            for (_, buckets), part in zip(pieces, values, strict=True)
            for value in (part if part is not None else (None,) * buckets)
        )

    series = [piece for piece, _ in pieces]
    statuses = sorted({status for s in series if s is not None for status in s.status_per_s})
    return EndpointTimeline(
        method=key[0],
        name=key[1],
        ok_per_s=counts([s.ok_per_s if s else None for s in series]),
        failed_per_s=counts([s.failed_per_s if s else None for s in series]),
        p50_ms=levels([s.p50_ms if s else None for s in series]),
        p95_ms=levels([s.p95_ms if s else None for s in series]),
        p99_ms=levels([s.p99_ms if s else None for s in series]),
        status_per_s={
            status: counts([s.status_per_s.get(status) if s else None for s in series])
            for status in statuses
        },
    )


def joined_series(parts: Sequence[RunSeries]) -> RunSeries:
    """Series of consecutive ranges of one run as one (the users are the last part's)."""
    points: dict[EndpointKey, dict[int, SecondPoint]] = {}
    for part in parts:
        for endpoint in part.endpoints:
            points.setdefault((endpoint.method, endpoint.name), {}).update(endpoint.points)
    keys = sorted(points, key=lambda key: (key[1], key[0]))
    return RunSeries(
        start_second=parts[-1].start_second,
        endpoints=tuple(
            EndpointSeries(method=m, name=n, points=dict(sorted(points[(m, n)].items())))
            for m, n in keys
        ),
        users=parts[-1].users,
    )
