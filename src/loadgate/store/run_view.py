"""A stored run read once, in order, into its summary and its charts' timeline.

The seconds are streamed and each is decoded once: the timeline folds it into
its bucket, the findings' series into its second (a few numbers, no
histogram), and the summary folds it into its endpoint, unless the run's
stored totals already give the summary (a finished run read whole). Memory
holds one bucket of histograms and one total per endpoint, whatever the
run's length.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadgate.model import RunInfo, UsersSample
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.fold import RunFold
from loadgate.stats.parts import PartsFold, RunParts
from loadgate.stats.series import RunSeries, SeriesFold, is_ramp, keeps_series, skipped_series
from loadgate.stats.summary import RunSummary, summarize_fold
from loadgate.stats.timeline import (
    Timeline,
    TimelineFold,
    bucket_width_s,
    epoch_second,
    time_axis,
)
from loadgate.store.kept_view import FoldedView
from loadgate.store.runs import RunStore


@dataclass(frozen=True, kw_only=True)
class RunRange:
    """Seconds since the run's start, `from_s` included, `to_s` excluded (None: the end)."""

    from_s: int = 0
    to_s: int | None = None

    def __post_init__(self) -> None:
        if self.from_s < 0 or (self.to_s is not None and self.to_s <= self.from_s):
            raise ValueError(f"a range needs 0 <= from_s < to_s, not {self.from_s}..{self.to_s}")


@dataclass(frozen=True, kw_only=True)
class RunView:
    """What a report shows: the summary and the timeline, from the same read.

    `fold` is what the summary was made from; `from_seconds` says whether it
    was folded from the seconds now (then it can be stored as the run's
    totals) rather than read from stored totals. `series` is every
    endpoint's per-second numbers, what the findings are computed from;
    `parts` the latencies' parts (cache, upstream), on the timeline's buckets.
    """

    summary: RunSummary
    timeline: Timeline
    fold: RunFold
    from_seconds: bool
    series: RunSeries
    parts: RunParts


def read_run_view(
    store: RunStore, run: RunInfo, *, within: RunRange | None = None, bucket_s: int | None = None
) -> RunView:
    """Read `run` (or the range `within` of it) into its summary and timeline.

    Charts of the whole run get buckets of `bucket_width_s` of its length
    (unless `bucket_s` is given); a range gets them by its own length, so a
    range of up to 12 minutes is shown second by second. A settled run read
    whole keeps what was folded (store/kept_view.py); a later whole read
    with stored totals loads that instead of reading the seconds.
    """
    keeps = within is None and bucket_s is None and run.has_settled
    data_key, kept = store.kept_view(run.run_id) if keeps else ("", None)
    stored = store.stored_fold(run.run_id) if within is None else None
    if kept is not None and stored is not None:
        users_max = max((u.users for u in store.user_samples(run.run_id)), default=0)
        return RunView(
            summary=summarize_fold(run, stored, users_max=users_max),
            timeline=kept.timeline,
            fold=stored,
            from_seconds=False,
            series=kept.series,
            parts=kept.parts,
        )
    view = _fold_run_view(store, run, within, bucket_s, stored)
    if keeps and kept is None:
        folded = FoldedView(timeline=view.timeline, series=view.series, parts=view.parts)
        store.keep_view(run, data_key, folded)
    return view


def _fold_run_view(
    store: RunStore,
    run: RunInfo,
    within: RunRange | None,
    bucket_s: int | None,
    stored: RunFold | None,
) -> RunView:
    """Read the seconds of `run` (within a range) and fold them; `stored`: the run's totals."""
    span = store.second_span(run.run_id)
    axis = time_axis(run, span or ())
    run_start = epoch_second(run.started_at)
    if within is not None:
        start = run_start + within.from_s
        stop = axis.stop
        if within.to_s is not None:
            stop = min(stop, run_start + within.to_s)  # not past the end
        axis = range(start, max(start + 1, stop))
    timeline = TimelineFold(axis, bucket_s or bucket_width_s(len(axis)))
    fold = stored if stored is not None else RunFold()
    users = store.user_samples(run.run_id)
    series = SeriesFold()
    keep_series = keeps_series(len(axis))
    # Per-second p95 only on a ramp, where saturation needs it: it costs as much as the timeline.
    series_latency = is_ramp(users)
    seconds = store.iter_endpoint_seconds(
        run.run_id, from_second=axis.start, to_second=axis.stop - 1
    )
    for second in seconds:
        buckets = BucketCounts.decode(second.histogram, second.out_of_range)
        timeline.add(second, buckets)
        if keep_series:
            series.add(second, buckets if series_latency else None)
        if stored is None:
            fold.add(second, buckets)
    # The samples are read already: the most users (within the range) needs no query.
    users_max = max((u.users for u in users if within is None or u.second in axis), default=0)
    summary = summarize_fold(
        run, fold, users_max=users_max, duration_s=float(len(axis)) if within else None
    )
    return RunView(
        summary=summary,
        parts=read_run_parts(store, run, users, axis=axis, bucket_s=timeline.bucket_s),
        timeline=timeline.timeline(run_start, users),
        fold=fold,
        from_seconds=stored is None,
        series=(
            series.series(run_start, users) if keep_series else skipped_series(run_start, len(axis))
        ),
    )


def read_run_series(
    store: RunStore, run: RunInfo, users: list[UsersSample], *, latency: bool
) -> RunSeries:
    """The findings' series alone, for a view that takes its summary from stored totals.

    `latency`: decode each second's histogram for its p95 (saturation needs
    it, on a ramp); without, the histograms are not even fetched (`loadgate
    show` of a flat run).
    """
    span = store.second_span(run.run_id)
    span_s = 0 if span is None else span[1] - span[0] + 1
    if not keeps_series(span_s):
        return skipped_series(epoch_second(run.started_at), span_s)
    fold = SeriesFold()
    if latency:
        for second in store.iter_endpoint_seconds(run.run_id):
            fold.add(second, BucketCounts.decode(second.histogram, second.out_of_range))
    else:
        for second in store.iter_second_counts(run.run_id):
            fold.add(second, None)
    return fold.series(epoch_second(run.started_at), users)


def read_run_parts(
    store: RunStore,
    run: RunInfo,
    users: list[UsersSample],
    *,
    axis: range | None = None,
    bucket_s: int | None = None,
) -> RunParts:
    """The parts of the run's latencies (cache hits, upstream time) on `axis` (default: all).

    Buckets of `bucket_s` (default: the report's for the axis' length), so
    that they line up with the timeline's.
    """
    if axis is None:
        axis = time_axis(run, store.second_span(run.run_id) or ())
    fold = PartsFold(axis, bucket_s or bucket_width_s(len(axis)))
    for piece in store.iter_part_seconds(
        run.run_id, from_second=axis.start, to_second=axis.stop - 1
    ):
        fold.add(piece)
    return fold.parts(epoch_second(run.started_at), users)
