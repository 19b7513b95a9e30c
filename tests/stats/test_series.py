"""The findings' per-second series: pieces of a second added up, p95 per second, users carried."""

from __future__ import annotations

from loadgate.model import UsersSample
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.series import SeriesFold, users_per_second
from tests.builders import START_S, endpoint_second


def test_pieces_of_a_second_add_up_and_p95_is_of_their_merge() -> None:
    fold = SeriesFold()
    pieces = [
        endpoint_second(START_S, latencies_us=[1000] * 10, failed={"503": 2}, errors={"x": 2}),
        endpoint_second(START_S, latencies_us=[9000] * 10, ok={"200": 9, "429": 1}),
        endpoint_second(START_S + 1, latencies_us=[500]),
    ]
    for piece in pieces:
        fold.add(piece, BucketCounts.decode(piece.histogram))
    (items,) = fold.series(START_S, []).endpoints
    first = items.points[START_S]
    assert (first.requests, first.failures) == (20, 2)
    assert first.ok == {"200": 17, "429": 1} and first.failed == {"503": 2}
    assert first.errors == {"x": 2}
    assert first.p95_us is not None and 8990 <= first.p95_us <= 9010  # the merge's, not a piece's
    assert items.points[START_S + 1].p95_us == 500


def test_users_are_carried_forward_between_samples() -> None:
    samples = [UsersSample(second=10, users=2), UsersSample(second=13, users=5)]
    assert users_per_second(samples) == {10: 2, 11: 2, 12: 2, 13: 5}
    assert users_per_second([]) == {}
