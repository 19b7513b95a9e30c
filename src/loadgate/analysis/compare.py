"""Run comparison: per endpoint and total, is the candidate worse than the base beyond noise?

Method
------
Requests within a run are not independent: on a shared machine, latency moves
in waves (CPU contention, GC, a neighbour's burst), so neighbouring requests
share their fate. A per-request bootstrap or rank test treats thousands of
correlated samples as independent and gives intervals far too narrow; two runs
of the same build would then "differ". We use a **block bootstrap** with whole
seconds as blocks (each second's histogram is stored separately):

1. Each run's span of seconds is cut into blocks: one second each, or longer
   blocks of equal length when the run has more than `max_blocks` seconds
   (longer blocks also capture slower waves, and keep the work bounded).
2. `resamples` times, each run's blocks are drawn with replacement
   (independently for the two runs, from one RNG seeded with `seed`, so the
   same inputs always give the same verdicts). The same draw is used for every
   endpoint and the total of that run.
3. For each draw the statistic is computed on the merged resample: latency
   quantiles (p50, p95, p99) from the blocks' histograms merged on a 1 % log
   grid, error rate as Σ failures / Σ requests, throughput as Σ requests /
   Σ seconds. The replicate of the change is candidate − base.
4. The `confidence` (95 %) percentile interval of those replicates is the
   noise band of the change.

A metric is a **regression** (or an **improvement**) only when the whole
interval lies beyond a practical minimum: its bound nearest zero, the smallest
change the data support, is at least `min_relative_change` (10 %) of the base
and at least an absolute floor: `min_latency_delta_ms` (2 ms) for latencies,
`min_error_rate_delta` (0.5 percentage points) for the error rate,
`min_rps_delta` (1 req/s) for throughput. This is stricter than "the interval
excludes zero and the measured change is large", on purpose: a block
bootstrap of a short run cannot see rare events that happened in only one of
the runs (a few seconds of CPU contention), nor a whole run being a little
slower (CPU frequency, other processes); on synthetic runs with such waves,
the looser rule called about 2 % of unchanged tail quantiles changed, this
rule none, and a CI gate that cries wolf gets ignored. The price is
sensitivity: a change must be clearly beyond the minimum to be called.

The floors are for what no within-run statistic sees: the machine itself
changes between two runs. Measured on a shared 2-core machine against the
reference gateway on loopback (p50 about 5 ms), runs of the same settings a
few seconds apart differed by up to 25 % in p50, with intervals as tight as
+0.7..+2.3 ms; the 2 ms floor keeps such pairs unchanged and costs nothing
for targets slower than 20 ms, where 10 % is more. Under heavy contention
(stalls of a few hundred ms in several seconds of one run), the tails of a
millisecond target still differ beyond any floor: that run *was* slower, and
only repeated runs can tell the machine from the build.

Throughput is shown with its interval but is `informational` by default
(`judge_rps`): in a closed workload it is a consequence of latency (already
judged), and a slower endpoint lowers the throughput of every endpoint the
same users call, which would blame endpoints that did not change.

Too little data to judge gives `insufficient data`, never a verdict: fewer than
`min_seconds` seconds with requests in either run, fewer than `min_requests`
requests, or, for a quantile q, fewer than `min_tail_requests` requests beyond
it (p99 needs 500 requests per run with the default 5).

Point values (base, candidate, change) are exact, from the runs' HDR
histograms; only the interval comes from the grid, whose 1 % resolution is far
below any change we call.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from loadgate.analysis.compare_blocks import (
    BlockCounts,
    BlockFold,
    BlockLayout,
    LatencyGrid,
    Weights,
    percentile_interval,
    quantile_bucket,
    resample_weights,
    weighted_ratio,
)
from loadgate.analysis.compare_types import (
    LATENCY_QUANTILES,
    Change,
    ComparedMetric,
    CompareSettings,
    Comparison,
    EndpointComparison,
    MetricComparison,
    Presence,
)
from loadgate.model import EndpointSecond
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.summary import TOTAL_NAME, US_PER_MS


@dataclass(frozen=True, kw_only=True)
class _Part:
    """One endpoint (or the total) of one run, folded: its histogram and its blocks."""

    histogram: LatencyHistogram
    blocks: BlockCounts
    duration_s: float

    @property
    def requests(self) -> int:
        return sum(self.blocks.requests)

    @property
    def failures(self) -> int:
        return sum(self.blocks.failures)


@dataclass(frozen=True, kw_only=True)
class _Run:
    layout: BlockLayout
    endpoints: dict[tuple[str, str], _Part]
    total: _Part
    draws: list[Weights]


@dataclass(frozen=True, kw_only=True)
class RunOutline:
    """What is known of a run before its seconds are read.

    With its span, `compare_runs` folds seconds as they come, into at most
    `max_blocks` blocks, and never holds the run; without it, it reads them
    into a list first to find the span. With each endpoint's merged histogram
    (a finished run's stored totals), it does not merge them again.
    """

    first_second: int
    last_second: int
    histograms: Mapping[tuple[str, str], LatencyHistogram] | None = None


def _fold_run(
    seconds: Iterable[EndpointSecond],
    span: RunOutline | None,
    duration_s: float | None,
    grid: LatencyGrid,
    settings: CompareSettings,
) -> tuple[BlockLayout, dict[tuple[str, str], _Part], _Part]:
    if span is None:
        seconds = sorted(seconds, key=lambda s: s.second)
        layout = BlockLayout.covering((s.second for s in seconds), settings.max_blocks)
    else:
        layout = BlockLayout.covering((span.first_second, span.last_second), settings.max_blocks)
    duration = duration_s if duration_s else float(layout.seconds)
    fold = BlockFold(layout, grid, span.histograms if span is not None else None)
    for second in seconds:
        fold.add(second)
    fold.close_block()
    endpoints = {
        key: _Part(histogram=fold.histograms[key], blocks=blocks, duration_s=duration)
        for key, blocks in fold.blocks.items()
    }
    total_blocks = BlockCounts(layout.blocks)
    for part in endpoints.values():
        total_blocks.add_blocks(part.blocks)
    total = _Part(
        histogram=LatencyHistogram.merged(part.histogram for part in endpoints.values()),
        blocks=total_blocks,
        duration_s=duration,
    )
    return layout, endpoints, total


def compare_runs(
    base_seconds: Iterable[EndpointSecond],
    candidate_seconds: Iterable[EndpointSecond],
    *,
    base_duration_s: float | None = None,
    candidate_duration_s: float | None = None,
    settings: CompareSettings | None = None,
    base_outline: RunOutline | None = None,
    candidate_outline: RunOutline | None = None,
) -> Comparison:
    """Compare two runs' stored seconds; durations (if given) set the shown req/s.

    Given each run's outline, seconds are folded as they are read (RunOutline).
    """
    settings = settings or CompareSettings()
    grid = LatencyGrid(resolution=settings.grid_resolution)
    rng = random.Random(settings.seed)
    runs = []
    for seconds, duration_s, span in (
        (base_seconds, base_duration_s, base_outline),
        (candidate_seconds, candidate_duration_s, candidate_outline),
    ):
        layout, endpoints, total = _fold_run(seconds, span, duration_s, grid, settings)
        draws = resample_weights(rng, layout.blocks, settings.resamples) if layout.blocks else []
        runs.append(_Run(layout=layout, endpoints=endpoints, total=total, draws=draws))
    base, candidate = runs
    keys = sorted(set(base.endpoints) | set(candidate.endpoints), key=lambda k: (k[1], k[0]))
    compared = tuple(
        _compare_endpoint(
            key,
            base.endpoints.get(key),
            candidate.endpoints.get(key),
            base=base,
            candidate=candidate,
            settings=settings,
        )
        for key in keys
    )
    total_comparison = _compare_endpoint(
        ("", TOTAL_NAME),
        base.total if base.total.blocks.seconds else None,
        candidate.total if candidate.total.blocks.seconds else None,
        base=base,
        candidate=candidate,
        settings=settings,
    )
    return Comparison(endpoints=compared, total=total_comparison, settings=settings)


def _empty_part() -> _Part:
    return _Part(histogram=LatencyHistogram(), blocks=BlockCounts(0), duration_s=0.0)


def _compare_endpoint(
    key: tuple[str, str],
    base_part: _Part | None,
    candidate_part: _Part | None,
    *,
    base: _Run,
    candidate: _Run,
    settings: CompareSettings,
) -> EndpointComparison:
    presence = (
        Presence.ADDED
        if base_part is None
        else Presence.REMOVED
        if candidate_part is None
        else Presence.BOTH
    )
    base_part = base_part or _empty_part()
    candidate_part = candidate_part or _empty_part()
    metrics: tuple[MetricComparison, ...] = ()
    if presence == Presence.BOTH:
        metrics = _Judge(base_part, candidate_part, base, candidate, settings).all_metrics()
    return EndpointComparison(
        method=key[0],
        name=key[1],
        presence=presence,
        base_requests=base_part.requests,
        candidate_requests=candidate_part.requests,
        metrics=metrics,
        base_histogram=base_part.histogram,
        candidate_histogram=candidate_part.histogram,
    )


class _Judge:
    """Computes every metric of one endpoint present in both runs."""

    def __init__(
        self, base: _Part, candidate: _Part, base_run: _Run, candidate_run: _Run, s: CompareSettings
    ) -> None:
        self.base, self.candidate, self.settings = base, candidate, s
        self.draws = list(zip(base_run.draws, candidate_run.draws, strict=True))
        ranges = [r for r in (base.blocks.bucket_range(), candidate.blocks.bucket_range()) if r]
        first = min((low for low, _ in ranges), default=0)
        last = max((high for _, high in ranges), default=0)
        self.parts = (base, candidate)
        self.series = (
            base.blocks.series(base_run.layout, first, last),
            candidate.blocks.series(candidate_run.layout, first, last),
        )
        self.grid = LatencyGrid(resolution=s.grid_resolution)

    def all_metrics(self) -> tuple[MetricComparison, ...]:
        latencies = tuple(self.latency(metric, q) for metric, q in LATENCY_QUANTILES.items())
        return (*latencies, self.rps(), self.error_rate())

    def _shortage(self, needed_requests: int) -> str:
        s = self.settings
        for label, part, series in zip(("base", "candidate"), self.parts, self.series, strict=True):
            if series.active_blocks < s.min_seconds:
                return f"{label} has requests in {series.active_blocks} s, needs {s.min_seconds}"
            if part.requests < needed_requests:
                return f"{label} has {part.requests} requests, needs {needed_requests}"
        return ""

    def _interval(
        self, statistic: Callable[[int, Weights], float | None]
    ) -> tuple[float, float] | None:
        """Interval of candidate − base; `statistic(side, weights)`, side 0 base, 1 candidate."""
        replicates = []
        for base_weights, candidate_weights in self.draws:
            base_value = statistic(0, base_weights)
            candidate_value = statistic(1, candidate_weights)
            if base_value is not None and candidate_value is not None:
                replicates.append(candidate_value - base_value)
        # A statistic undefined in most resamples has too little data to bound.
        if len(replicates) < len(self.draws) * 0.9:
            return None
        return percentile_interval(replicates, self.settings.confidence)

    def _judged(
        self,
        metric: ComparedMetric,
        values: tuple[float, float],
        statistic: Callable[[int, Weights], float | None],
        floor: float,
    ) -> MetricComparison:
        base, candidate = values
        interval = self._interval(statistic)
        if interval is None:
            return _insufficient(metric, base, candidate, "too few resamples had data")
        verdict = _verdict(metric, base, interval=interval, floor=floor, s=self.settings)
        return MetricComparison(
            metric=metric, base=base, candidate=candidate, interval=interval, verdict=verdict
        )

    def latency(self, metric: ComparedMetric, quantile: float) -> MetricComparison:
        s = self.settings
        base_ms = self.base.histogram.quantile_us(quantile) / US_PER_MS
        candidate_ms = self.candidate.histogram.quantile_us(quantile) / US_PER_MS
        needed = max(s.min_requests, round(s.min_tail_requests / (1.0 - quantile)))
        shortage = self._shortage(needed)
        if shortage:
            return _insufficient(metric, base_ms, candidate_ms, shortage)
        starts = [self.grid.bucket(p.histogram.quantile_us(quantile)) for p in self.parts]

        def statistic(side: int, weights: Weights) -> float | None:
            bucket = quantile_bucket(self.series[side], weights, quantile, starts[side])
            return None if bucket is None else self.grid.value_us(bucket) / US_PER_MS

        return self._judged(metric, (base_ms, candidate_ms), statistic, s.min_latency_delta_ms)

    def error_rate(self) -> MetricComparison:
        base_rate = self.base.failures / self.base.requests if self.base.requests else 0.0
        candidate_rate = (
            self.candidate.failures / self.candidate.requests if self.candidate.requests else 0.0
        )
        shortage = self._shortage(self.settings.min_requests)
        if shortage:
            return _insufficient(ComparedMetric.ERROR_RATE, base_rate, candidate_rate, shortage)

        def statistic(side: int, weights: Weights) -> float | None:
            series = self.series[side]
            return weighted_ratio(series.failures, series.requests, weights)

        floor = self.settings.min_error_rate_delta
        return self._judged(
            ComparedMetric.ERROR_RATE, (base_rate, candidate_rate), statistic, floor
        )

    def rps(self) -> MetricComparison:
        points = [p.requests / p.duration_s if p.duration_s else 0.0 for p in self.parts]
        shortage = self._shortage(self.settings.min_requests)
        if shortage:
            return _insufficient(ComparedMetric.RPS, points[0], points[1], shortage)
        # A run's first and last seconds are partial (they start and end mid-second):
        # rates come from the whole blocks between, scaled so that all of them
        # together give the shown req/s.
        inner = [(_inner(s.requests), _inner(s.lengths_s)) for s in self.series]
        rates = [sum(requests) / max(1, sum(lengths)) for requests, lengths in inner]
        scales = [point / rate if rate else 0.0 for point, rate in zip(points, rates, strict=True)]

        def statistic(side: int, weights: Weights) -> float | None:
            requests, lengths = inner[side]
            rate = weighted_ratio(requests, lengths, weights)
            return None if rate is None else rate * scales[side]

        judged = self._judged(
            ComparedMetric.RPS, (points[0], points[1]), statistic, self.settings.min_rps_delta
        )
        if self.settings.judge_rps or judged.verdict == Change.INSUFFICIENT:
            return judged
        return MetricComparison(
            metric=ComparedMetric.RPS,
            base=judged.base,
            candidate=judged.candidate,
            interval=judged.interval,
            verdict=Change.INFORMATIONAL,
            note="throughput is not judged (see judge_rps)",
        )


def _inner(per_block: Sequence[int]) -> tuple[int, ...]:
    """The blocks' values with the first and last zeroed (weights still line up)."""
    if len(per_block) < 3:
        return tuple(per_block)
    return (0, *per_block[1:-1], 0)


def _insufficient(
    metric: ComparedMetric, base: float, candidate: float, note: str
) -> MetricComparison:
    return MetricComparison(
        metric=metric,
        base=base,
        candidate=candidate,
        interval=None,
        verdict=Change.INSUFFICIENT,
        note=note,
    )


def _verdict(
    metric: ComparedMetric,
    base: float,
    *,
    interval: tuple[float, float],
    floor: float,
    s: CompareSettings,
) -> Change:
    low, high = interval
    if low > 0:
        smallest = low
    elif high < 0:
        smallest = high
    else:
        return Change.UNCHANGED
    # The smallest change the data support must itself be practically large.
    if abs(smallest) < floor or (base and abs(smallest / base) < s.min_relative_change):
        return Change.UNCHANGED
    higher_is_worse = metric != ComparedMetric.RPS
    return Change.REGRESSION if (smallest > 0) == higher_is_worse else Change.IMPROVEMENT
