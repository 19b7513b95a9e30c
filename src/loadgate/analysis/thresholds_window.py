"""Abort-on-fail: judging abortable thresholds on the last seconds of a running test.

The engine calls an AbortCheck once a second with the recent seconds it
collected. It must not stall the load generator, so it judges only the
abortable thresholds, keeps one sliding window per endpoint and window length
(adding the seconds that arrive, taking out those that leave, rather than
merging the whole window again), decodes each second's histogram once, and
reads latencies from sparse bucket counts instead of hdrh's Python walks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence

from loadgate.analysis.thresholds import MetricKind, Threshold
from loadgate.analysis.thresholds_eval import (
    Observed,
    Verdict,
    abort_reason,
    endpoint_matches,
    judge,
)
from loadgate.analysis.thresholds_latency import LatencyBuckets
from loadgate.model import EndpointSecond

# A piece of a stored second as a window holds it. The same (second, method,
# name) may come in several pieces (the store appends deltas: late requests,
# several workers), and every piece counts. A piece is known by its place among
# the pieces of its key and by its content, so two equal pieces are two, and a
# piece replaced by another in a later call is taken out and the new one added.
SecondKey = tuple[int, str, str, int, int, int, bytes]


def _keyed(seconds: Iterable[EndpointSecond]) -> Iterator[tuple[SecondKey, EndpointSecond]]:
    seen: Counter[tuple[int, str, str]] = Counter()
    for second in seconds:
        where = (second.second, second.method, second.name)
        place = seen[where]
        seen[where] += 1
        yield (*where, place, second.requests, second.failures, second.histogram), second


def _add_counts(target: Counter[str], counts: Mapping[str, int], sign: int) -> None:
    for status, count in counts.items():
        left = target[status] + sign * count
        if left:
            target[status] = left
        else:
            del target[status]


class SlidingWindow:
    """The last `window_s` seconds of one endpoint (or of all), kept merged."""

    def __init__(self, endpoint: str | None, window_s: int, with_latency: bool) -> None:
        self.endpoint = endpoint
        self.window_s = window_s
        self.with_latency = with_latency
        self._held: dict[SecondKey, EndpointSecond] = {}
        self._ok: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._totals = [0, 0, 0, 0]  # requests, failures, bytes_received, out_of_range
        self._latency = LatencyBuckets()

    @property
    def held(self) -> set[SecondKey]:
        return set(self._held)

    def _apply(self, second: EndpointSecond, sign: int, buckets: LatencyBuckets | None) -> None:
        _add_counts(self._ok, second.ok_status_counts, sign)
        _add_counts(self._failed, second.failed_status_counts, sign)
        for i, value in enumerate(
            (second.requests, second.failures, second.bytes_received, second.out_of_range)
        ):
            self._totals[i] += sign * value
        if buckets is not None:
            if sign > 0:
                self._latency.merge(buckets)
            else:
                self._latency.remove(buckets)

    def slide(
        self,
        seconds: Sequence[EndpointSecond],
        newest: int,
        decoded: Mapping[SecondKey, LatencyBuckets],
    ) -> Observed:
        """Move the window to end at `newest` and return what it holds."""
        start = newest - self.window_s + 1
        current = {
            key: s
            for key, s in _keyed(seconds)
            if start <= s.second <= newest
            and (self.endpoint is None or endpoint_matches(self.endpoint, s.method, s.name))
        }
        for key in [k for k in self._held if k not in current]:
            left = self._held.pop(key)
            self._apply(left, -1, decoded[key] if self.with_latency else None)
        for key, second in current.items():
            if key not in self._held:
                self._held[key] = second
                self._apply(second, +1, decoded[key] if self.with_latency else None)
        requests, failures, bytes_received, out_of_range = self._totals
        return Observed(
            requests=requests,
            failures=failures,
            bytes_received=bytes_received,
            out_of_range=out_of_range,
            duration_s=float(self.window_s),
            ok_status_counts=self._ok,
            failed_status_counts=self._failed,
            latency=self._latency,
        )


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
        self._decoded: dict[SecondKey, LatencyBuckets] = {}
        latency_groups = {
            (t.endpoint, t.window_s) for t in self.thresholds if t.metric.kind is MetricKind.LATENCY
        }
        # Thresholds on the same endpoint and window share one window.
        self._windows = {
            (t.endpoint, t.window_s): SlidingWindow(
                t.endpoint, t.window_s, (t.endpoint, t.window_s) in latency_groups
            )
            for t in self.thresholds
        }

    def __bool__(self) -> bool:
        return bool(self.thresholds)

    def __call__(self, seconds: Sequence[EndpointSecond], now_s: int | None = None) -> str | None:
        """The abort reason, or None to go on."""
        return abort_reason(self.verdicts(seconds, now_s))

    def verdicts(
        self, seconds: Sequence[EndpointSecond], now_s: int | None = None
    ) -> list[Verdict]:
        """Verdicts of the abortable thresholds whose window is full.

        `seconds` must hold at least the last `window_s` complete seconds (more
        is fine). `now_s` is the last complete second; without it, the newest
        second in the data. Passing it lets a target that stopped answering
        (no request finishes) still fail `rps > N`.
        """
        if not self.thresholds or (not seconds and now_s is None):
            return []
        newest = now_s if now_s is not None else max(s.second for s in seconds)
        oldest = min((s.second for s in seconds), default=newest)
        if self._first_second is None or oldest < self._first_second:
            self._first_second = oldest
        self._decode(seconds, newest)
        observed: dict[tuple[str | None, int], Observed] = {}
        verdicts: list[Verdict] = []
        for threshold in self.thresholds:
            if newest - self._first_second + 1 < threshold.window_s:
                continue
            key = (threshold.endpoint, threshold.window_s)
            if key not in observed:
                observed[key] = self._windows[key].slide(seconds, newest, self._decoded)
            verdict = judge(threshold, observed[key], threshold.window_s)
            if verdict.measured_value is not None:  # a latency with no requests: wait
                verdicts.append(verdict)
        return verdicts

    def _decode(self, seconds: Sequence[EndpointSecond], newest: int) -> None:
        """Decode the histograms of the seconds in the longest window, and only once each.

        Decoded seconds are kept until every window has let them go, as a
        window takes a second out by subtracting its buckets.
        """
        if not any(w.with_latency for w in self._windows.values()):
            return
        start = newest - self.window_s + 1
        for key, second in _keyed(seconds):
            if start <= second.second <= newest and key not in self._decoded:
                self._decoded[key] = LatencyBuckets.decode(second.histogram)
        held: set[SecondKey] = set()
        for window in self._windows.values():
            held.update(window.held)
        for key in [k for k in self._decoded if k[0] < start and k not in held]:
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
