"""Parts of endpoint-seconds (cache hits, upstream time): stored, read back and merged."""

from __future__ import annotations

from dataclasses import replace

from loadgate.model import Part
from loadgate.stats import LatencyHistogram
from loadgate.store import RunStore
from loadgate.store.merging import merge_endpoint_seconds
from tests.builders import START_S, endpoint_second, new_run

HIT, MISS, UPSTREAM = Part.CACHE_HIT, Part.CACHE_MISS, Part.UPSTREAM


def test_parts_are_stored_apart_and_pieces_merged(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    # Two pieces of the same second (two workers, in two regions), and a later second.
    store.append(run_id, [
        endpoint_second(START_S, parts={HIT: [100, 200], MISS: [5000]}, region="eu"),
        endpoint_second(START_S, name="/plain"),
    ])  # fmt: skip
    store.append(run_id, [
        endpoint_second(START_S, parts={HIT: [300], UPSTREAM: [4000]}, region="us"),
        endpoint_second(START_S + 1, parts={MISS: [6000, 7000]}),
    ])  # fmt: skip

    parts = list(store.iter_part_seconds(run_id))

    assert [(p.second - START_S, p.name, p.part, p.requests) for p in parts] == [
        (0, "/items", HIT, 3),
        (0, "/items", MISS, 1),
        (0, "/items", UPSTREAM, 1),
        (1, "/items", MISS, 2),
    ]
    hits = LatencyHistogram.decode(parts[0].histogram)
    assert (hits.count, hits.min_us) == (3, 100)
    assert 299 <= hits.max_us <= 301
    # The seconds themselves are read as before, parts or not.
    assert store.summary(run_id).total.requests == 3 * 4
    assert list(store.iter_part_seconds(run_id, from_second=START_S + 1)) == parts[3:]


def test_a_run_without_parts_has_none(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, [endpoint_second(START_S)])
    assert list(store.iter_part_seconds(run_id)) == []


def test_workers_pieces_merge_with_their_parts() -> None:
    merged = merge_endpoint_seconds([
        endpoint_second(START_S, parts={HIT: [100], UPSTREAM: [4000]}),
        endpoint_second(START_S, parts={HIT: [200, 300]}),
        endpoint_second(START_S),
    ])  # fmt: skip
    assert len(merged) == 1
    parts = merged[0].parts
    assert {part: held.requests for part, held in parts.items()} == {HIT: 3, UPSTREAM: 1}
    assert LatencyHistogram.decode(parts[HIT].histogram).count == 3


def test_the_rate_limit_counts_are_stored_and_keys_of_pieces_united(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    unhinted = endpoint_second(START_S, parts={Part.UNHINTED_429: [1500, 2500]})
    # Two workers' pieces of one second: "b" was sent from both, and counts once.
    keyed = [
        replace(endpoint_second(START_S + 1), key_values=frozenset({"a", "b"})),
        replace(endpoint_second(START_S + 1), key_values=frozenset({"b", "c"})),
    ]
    merged = merge_endpoint_seconds(keyed)
    assert [m.key_values for m in merged] == [{"a", "b", "c"}]
    store.append(run_id, [unhinted, *merged])

    parts = list(store.iter_part_seconds(run_id))

    assert [(p.second - START_S, p.part, p.requests) for p in parts] == [
        (0, Part.UNHINTED_429, 2),
        (1, Part.KEYS, 3),
    ]
    assert LatencyHistogram.decode(parts[1].histogram).count == 0
    assert max(len(part.value) for part in Part) <= 20  # endpoint_second_parts.part: String(20)


def test_the_timing_phases_are_stored_and_read_back(store: RunStore) -> None:
    # `--timings`: connect and TLS only for the request that opened a connection.
    run_id = store.create_run(new_run())
    phases = {Part.CONNECT: [150], Part.TLS: [2000], Part.TTFB: [900, 950, 990],
              Part.DOWNLOAD: [0, 10, 20]}  # fmt: skip
    store.append(run_id, [endpoint_second(START_S, parts=phases)])

    parts = list(store.iter_part_seconds(run_id))

    assert {p.part: p.requests for p in parts} == {
        Part.CONNECT: 1, Part.TLS: 1, Part.TTFB: 3, Part.DOWNLOAD: 3
    }  # fmt: skip
    tls = next(p for p in parts if p.part is Part.TLS)
    assert LatencyHistogram.decode(tls.histogram).min_us == 2000
