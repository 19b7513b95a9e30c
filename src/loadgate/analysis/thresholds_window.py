"""Abort-on-fail: judging abortable thresholds on the last seconds of a running test.

The engine calls an AbortCheck once a second with the seconds collected so far
(or the last few). It must not stall the load generator, so it judges only the
abortable thresholds, decodes each stored second once (kept while it is inside
a window) and reads latencies from sparse bucket counts instead of hdrh's
per-bucket Python walks.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import compress

from hdrh.histogram import HdrHistogram

from loadgate.analysis.thresholds import MetricKind, Threshold
from loadgate.analysis.thresholds_eval import (
    Observed,
    Verdict,
    abort_reason,
    endpoint_matches,
    judge,
)
from loadgate.model import EndpointSecond


class LatencyBuckets:
    """An HDR histogram as sparse bucket counts: cheap to merge and to read many times.

    Its quantiles, mean, min and max equal LatencyHistogram's for the same
    samples (tested): the same target count per quantile, the same bucket
    edges and the same bucket midpoints for the mean. Bucket edges come from
    the HDR layout's arithmetic, as hdrh's own per-value calls cost ~1 µs each.
    """

    __slots__ = ("_counts", "_half_magnitude", "_ordered", "_unit_magnitude")

    def __init__(self, half_magnitude: int = 0, unit_magnitude: int = 0) -> None:
        self._counts: Counter[int] = Counter()  # counts-array index -> samples
        self._half_magnitude = half_magnitude  # log2 of half a bucket's sub-buckets
        self._unit_magnitude = unit_magnitude  # log2 of the smallest unit
        self._ordered: list[tuple[int, int]] | None = None  # (index, count), ascending

    def __repr__(self) -> str:
        return f"LatencyBuckets(count={self.count}, buckets={len(self._counts)})"

    @classmethod
    def decode(cls, encoded: bytes) -> LatencyBuckets:
        """From HdrHistogram's compressed encoding, as stored in EndpointSecond.histogram."""
        hdr = HdrHistogram.decode(encoded)
        buckets = cls(int(hdr.sub_bucket_half_count_magnitude), int(hdr.unit_magnitude))
        # Reading a ctypes array item by item is slow; a copy into an array is not.
        counts = array(hdr.counts._type_._type_, bytes(hdr.counts))
        buckets._counts.update(
            {index: counts[index] for index in compress(range(len(counts)), counts)}
        )
        return buckets

    def _edges(self, index: int) -> tuple[int, int]:
        """(lowest_us, highest_us) of the bucket at a counts-array index, as hdrh has them."""
        half_count = 1 << self._half_magnitude
        bucket = (index >> self._half_magnitude) - 1
        sub_bucket = (index & (half_count - 1)) + half_count
        if bucket < 0:
            sub_bucket -= half_count
            bucket = 0
        shift = bucket + self._unit_magnitude
        lowest = sub_bucket << shift
        return lowest, lowest + (1 << shift) - 1

    def merge(self, other: LatencyBuckets) -> None:
        if not other._counts:
            return
        if not self._counts:
            self._half_magnitude, self._unit_magnitude = (
                other._half_magnitude,
                other._unit_magnitude,
            )
        elif (self._half_magnitude, self._unit_magnitude) != (
            other._half_magnitude,
            other._unit_magnitude,
        ):
            raise ValueError("cannot merge histograms of different precision or unit")
        self._counts.update(other._counts)
        self._ordered = None

    def _sorted(self) -> list[tuple[int, int]]:
        if self._ordered is None:
            self._ordered = sorted(self._counts.items())
        return self._ordered

    @property
    def count(self) -> int:
        return sum(self._counts.values())

    @property
    def min_us(self) -> int:
        ordered = self._sorted()
        return self._edges(ordered[0][0])[0] if ordered else 0

    @property
    def max_us(self) -> int:
        ordered = self._sorted()
        return self._edges(ordered[-1][0])[1] if ordered else 0

    @property
    def mean_us(self) -> float:
        total = self.count
        if not total:
            return 0.0
        weighted = 0
        for index, count in self._counts.items():
            lowest, highest = self._edges(index)
            weighted += count * (lowest + ((highest - lowest + 1) >> 1))
        return weighted / total

    def quantile_us(self, quantile: float) -> int:
        """The value at `quantile` (0–1), as LatencyHistogram.quantile_us gives it."""
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile must be within 0..1, not {quantile}")
        total = self.count
        if not total:
            return 0
        if quantile == 1.0:
            return self.max_us
        percentile = quantile * 100.0
        # hdrh's own rounding of the target count, so both agree on every quantile.
        target = max(int(min(percentile, 100.0) * total / 100 + 0.5), 1)
        seen = 0
        for index, count in self._sorted():
            seen += count
            if seen >= target:
                lowest, highest = self._edges(index)
                return highest if percentile else lowest
        return self.max_us

    def quantiles_us(self, quantiles: Sequence[float]) -> dict[float, int]:
        return {q: self.quantile_us(q) for q in quantiles}


def abort_window_s(thresholds: Iterable[Threshold]) -> int:
    """How many trailing seconds the abortable thresholds need; 0 when none can abort."""
    return max((t.window_s for t in thresholds if t.abort and t.can_abort), default=0)


class AbortCheck:
    """Judges the abortable thresholds on the last seconds; one instance per run.

    `run_started_s` (the run's first Unix second) lets a window count as full
    even when its first seconds saw no finished request; without it, the
    oldest second ever seen stands in. A threshold is judged only on a full
    window, so a ramp-up shorter than the window cannot trip `rps > N`.
    """

    def __init__(self, thresholds: Iterable[Threshold], *, run_started_s: int | None = None):
        self.thresholds = tuple(t for t in thresholds if t.abort and t.can_abort)
        self.window_s = abort_window_s(self.thresholds)
        self._first_second = run_started_s
        self._decoded: dict[tuple[int, str, str, int], LatencyBuckets] = {}
        self._needs_latency = any(t.metric.kind is MetricKind.LATENCY for t in self.thresholds)

    def __bool__(self) -> bool:
        return bool(self.thresholds)

    def __call__(self, seconds: Sequence[EndpointSecond], now_s: int | None = None) -> str | None:
        """The abort reason, or None to go on."""
        return abort_reason(self.verdicts(seconds, now_s))

    def verdicts(
        self, seconds: Sequence[EndpointSecond], now_s: int | None = None
    ) -> list[Verdict]:
        """Verdicts of the abortable thresholds whose window is full.

        `now_s` is the last complete second; without it, the newest second in
        the data. Passing it lets a target that stopped answering (no request
        finishes) still fail `rps > N`.
        """
        if not self.thresholds or (not seconds and now_s is None):
            return []
        newest = now_s if now_s is not None else max(s.second for s in seconds)
        oldest = min((s.second for s in seconds), default=newest)
        if self._first_second is None or oldest < self._first_second:
            self._first_second = oldest
        verdicts: list[Verdict] = []
        for threshold in self.thresholds:
            if newest - self._first_second + 1 < threshold.window_s:
                continue
            start = newest - threshold.window_s + 1
            window = [
                s
                for s in seconds
                if start <= s.second <= newest
                and (
                    threshold.endpoint is None
                    or endpoint_matches(threshold.endpoint, s.method, s.name)
                )
            ]
            verdict = judge(threshold, self._observe(window, threshold), threshold.window_s)
            if verdict.measured_value is not None:  # a latency with no requests: wait
                verdicts.append(verdict)
        self._forget_before(newest - self.window_s + 1)
        return verdicts

    def _observe(self, window: Sequence[EndpointSecond], threshold: Threshold) -> Observed:
        ok: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        latency = LatencyBuckets()
        for second in window:
            ok.update(second.ok_status_counts)
            failed.update(second.failed_status_counts)
            if threshold.metric.kind is MetricKind.LATENCY:
                latency.merge(self._buckets(second))
        return Observed(
            requests=sum(s.requests for s in window),
            failures=sum(s.failures for s in window),
            bytes_received=sum(s.bytes_received for s in window),
            out_of_range=sum(s.out_of_range for s in window),
            duration_s=float(threshold.window_s),
            ok_status_counts=ok,
            failed_status_counts=failed,
            latency=latency,
        )

    def _buckets(self, second: EndpointSecond) -> LatencyBuckets:
        # A second is re-sent while it is in the window; its request count tells
        # a second that grew (late worker reports) from the one already decoded.
        key = (second.second, second.method, second.name, second.requests)
        buckets = self._decoded.get(key)
        if buckets is None:
            buckets = self._decoded[key] = LatencyBuckets.decode(second.histogram)
        return buckets

    def _forget_before(self, second: int) -> None:
        if self._needs_latency:
            for key in [k for k in self._decoded if k[0] < second]:
                del self._decoded[key]


def evaluate_window(
    thresholds: Iterable[Threshold],
    seconds: Sequence[EndpointSecond],
    *,
    now_s: int | None = None,
    run_started_s: int | None = None,
) -> list[Verdict]:
    """Verdicts of the abortable thresholds on their last `window_s` seconds of `seconds`."""
    return AbortCheck(thresholds, run_started_s=run_started_s).verdicts(seconds, now_s)
