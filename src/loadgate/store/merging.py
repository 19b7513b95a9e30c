"""Merging what arrived in pieces: duplicate endpoint-seconds and repeated user samples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

from loadgate.model import (
    ArrivalSecond,
    EndpointSecond,
    Part,
    PartHistogram,
    PartSecond,
    UsersSample,
)
from loadgate.stats import LatencyHistogram


def merge_endpoint_seconds(
    seconds: Iterable[EndpointSecond], *, by_region: bool = False
) -> list[EndpointSecond]:
    """One EndpointSecond per (second, method, name), ordered by second, name, method.

    Pieces of the same key are added (histograms merged, counts summed); a key
    that arrived once is returned as stored, its histogram bytes untouched.
    `by_region`: keep regions apart (one per (second, method, name, region)).
    """
    groups: dict[tuple[int, str, str, str], list[EndpointSecond]] = {}
    for piece in seconds:
        region = piece.region if by_region else ""
        groups.setdefault((piece.second, piece.name, piece.method, region), []).append(piece)
    # Sorted here rather than in SQL: PostgreSQL's collation may order names
    # differently from SQLite's bytewise one, and both backends must agree.
    return [
        pieces[0] if len(pieces) == 1 else _merged(pieces)
        for _key, pieces in sorted(groups.items(), key=lambda item: item[0])
    ]


def _merged(pieces: list[EndpointSecond]) -> EndpointSecond:
    histogram = LatencyHistogram.merged(LatencyHistogram.decode(p.histogram) for p in pieces)
    first = pieces[0]
    return EndpointSecond(
        second=first.second,
        method=first.method,
        name=first.name,
        requests=sum(p.requests for p in pieces),
        failures=sum(p.failures for p in pieces),
        bytes_received=sum(p.bytes_received for p in pieces),
        histogram=histogram.encode(),
        ok_status_counts=_summed(p.ok_status_counts for p in pieces),
        failed_status_counts=_summed(p.failed_status_counts for p in pieces),
        errors=_summed(p.errors for p in pieces),
        out_of_range=sum(p.out_of_range for p in pieces),
        region=first.region if all(p.region == first.region for p in pieces) else "",
        parts=_merged_parts(pieces),
        key_values=frozenset().union(*(p.key_values for p in pieces)),
    )


def merge_arrival_seconds(pieces: Iterable[ArrivalSecond]) -> list[ArrivalSecond]:
    """One ArrivalSecond per second (workers' pieces added), ordered by second.

    A second that came in one piece is returned as it came, its histogram untouched.
    """
    by_second: dict[int, list[ArrivalSecond]] = {}
    for piece in pieces:
        by_second.setdefault(piece.second, []).append(piece)
    merged: list[ArrivalSecond] = []
    for second, group in sorted(by_second.items()):
        if len(group) == 1:
            merged.append(group[0])
            continue
        lag = LatencyHistogram.merged(
            LatencyHistogram.decode(p.start_lag, p.out_of_range) for p in group
        )
        merged.append(
            ArrivalSecond(
                second=second,
                iterations=sum(p.iterations for p in group),
                dropped_iterations=sum(p.dropped_iterations for p in group),
                start_lag=lag.encode(),
                out_of_range=lag.out_of_range,
            )
        )
    return merged


def _merged_parts(pieces: list[EndpointSecond]) -> dict[Part, PartHistogram]:
    by_part: dict[Part, list[PartHistogram]] = {}
    for piece in pieces:
        for part, held in piece.parts.items():
            by_part.setdefault(part, []).append(held)
    return {part: _added(held) for part, held in by_part.items()}


def _added(held: list[PartHistogram]) -> PartHistogram:
    """One part's pieces as one: requests summed, histograms merged (one piece as it is)."""
    if len(held) == 1:
        return held[0]
    histogram = LatencyHistogram.merged(LatencyHistogram.decode(h.histogram) for h in held)
    return PartHistogram(requests=sum(h.requests for h in held), histogram=histogram.encode())


def merge_part_seconds(parts: Iterable[PartSecond]) -> list[PartSecond]:
    """One PartSecond per (second, method, name, part), pieces added.

    Ordered by second, then name, method and part, as merge_endpoint_seconds orders its own.
    """
    groups: dict[tuple[int, str, str, str], list[PartSecond]] = {}
    for piece in parts:
        key = (piece.second, piece.name, piece.method, piece.part.value)
        groups.setdefault(key, []).append(piece)
    merged: list[PartSecond] = []
    for _key, pieces in sorted(groups.items(), key=lambda item: item[0]):
        first = pieces[0]
        added = _added([PartHistogram(requests=p.requests, histogram=p.histogram) for p in pieces])
        merged.append(replace(first, requests=added.requests, histogram=added.histogram))
    return merged


def _summed(mappings: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for mapping in mappings:
        total.update(mapping)
    return dict(total)


def latest_user_samples(samples: Iterable[UsersSample]) -> list[UsersSample]:
    """One sample per second, ordered by second; of several, the last in `samples` wins."""
    by_second = {sample.second: sample for sample in samples}
    return [by_second[second] for second in sorted(by_second)]
