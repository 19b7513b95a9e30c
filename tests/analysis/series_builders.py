"""Synthetic runs for findings: per-second traffic with chosen statuses, latencies and users."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from loadgate.model import EndpointSecond, Part, PartSecond, UsersSample
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.parts import PartsFold, RunParts
from loadgate.stats.series import RunSeries, SeriesFold
from tests.builders import START_S, endpoint_second


def second(
    offset_s: int,
    requests: int,
    *,
    name: str = "/items",
    latency_us: int = 2000,
    ok: Mapping[str, int] | None = None,
    failed: Mapping[str, int] | None = None,
    errors: Mapping[str, int] | None = None,
) -> EndpointSecond:
    """`requests` requests in second `offset_s` of the run, all of `latency_us`.

    Statuses default to 200 for those not `failed`.
    """
    failed = dict(failed or {})
    if ok is None:
        ok = {"200": requests - sum(failed.values())} if requests > sum(failed.values()) else {}
    return endpoint_second(
        START_S + offset_s,
        "GET",
        name,
        [latency_us] * requests,
        ok=ok,
        failed=failed,
        errors=errors,
    )


def series_of(
    seconds: Iterable[EndpointSecond], users: Sequence[int] | Mapping[int, int] = ()
) -> RunSeries:
    """The series the report's read would fold; `users` per offset (a list from offset 0)."""
    fold = SeriesFold()
    for stored in sorted(seconds, key=lambda s: s.second):
        fold.add(stored, BucketCounts.decode(stored.histogram, stored.out_of_range))
    items = users.items() if isinstance(users, Mapping) else enumerate(users)
    samples = [UsersSample(second=START_S + offset, users=count) for offset, count in items]
    return fold.series(START_S, samples)


def steady(duration_s: int = 60, rps: int = 20, name: str = "/items") -> list[EndpointSecond]:
    """A healthy flat run: `rps` requests a second of 2 ms, all 200."""
    return [second(s, rps, name=name) for s in range(duration_s)]


def count_parts(per_second: Mapping[Part, int], seconds: int = 20, bucket_s: int = 1) -> RunParts:
    """`per_second` of each count-only part (keys, unhinted 429s) on GET /search in every
    second, as the store gives them back, read on buckets of `bucket_s`."""
    folder = PartsFold(range(START_S, START_S + seconds), bucket_s)
    empty = LatencyHistogram().encode()
    for offset_s in range(seconds):
        for part, count in sorted(per_second.items()):
            folder.add(
                PartSecond(second=START_S + offset_s, method="GET", name="/search",
                           part=part, requests=count, histogram=empty)
            )  # fmt: skip
    return folder.parts(START_S, [UsersSample(second=START_S, users=4)])
