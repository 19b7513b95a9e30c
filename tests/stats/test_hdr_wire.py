"""The V2 wire format read into bucket counts: the same buckets and counts as hdrh's own decode."""

from __future__ import annotations

import base64
import random
import struct
import zlib

import pytest
from hdrh.histogram import HdrHistogram

from loadgate.stats import HIGHEST_US, LOWEST_US, LatencyHistogram
from loadgate.stats.bucket_counts import BucketCounts, added, bucket_highest_us, bucket_lowest_us
from loadgate.stats.hdr_wire import COUNTS_LEN, decode_buckets
from loadgate.stats.histogram import SIGNIFICANT_DIGITS

EDGE_VALUES_US = (0, 1, 2, 2047, 2048, 2049, 4095, 4096, 1_000_000, HIGHEST_US - 1, HIGHEST_US)
# 63 is the largest count of one varint byte; 2**55 needs all nine
EDGE_COUNTS = (1, 2, 63, 64, 65, 8191, 8192, 2**40, 2**55)
MOST_VALUES = 2**62  # a total hdrh's 64-bit words hold


def random_histogram(rng: random.Random) -> LatencyHistogram:
    """Values from every part of the range, edges included, with counts of every varint length."""
    histogram = LatencyHistogram()
    for _ in range(rng.choice((0, 1, 5, 50, 400))):
        value_us = rng.choice(
            (
                rng.choice(EDGE_VALUES_US),
                rng.randrange(0, 2048),
                int(rng.lognormvariate(9, 2.5)),
                rng.randrange(0, HIGHEST_US * 2),  # half of these are out of range
            )
        )
        count = rng.choice((1, 1, 3, rng.choice(EDGE_COUNTS), rng.randrange(1, 10_000)))
        if histogram.count + histogram.out_of_range + count < MOST_VALUES:
            histogram.record_us(value_us, count)
    return histogram


def wire(varints: bytes, *, lowest: int = LOWEST_US, highest: int = HIGHEST_US) -> bytes:
    """An encoded histogram around a varint stream written by hand (hdrh's V2 headers)."""
    header = struct.pack(">IIIIqqd", 0x1C849313, len(varints), 0, SIGNIFICANT_DIGITS,
                         lowest, highest, 1.0)  # fmt: skip
    compressed = zlib.compress(header + varints)
    return base64.b64encode(struct.pack(">II", 0x1C849314, len(compressed)) + compressed)


def hdrh_buckets(encoded: bytes) -> tuple[list[int], list[int]]:
    return LatencyHistogram.decode(encoded).recorded_counts()


def test_the_layout_is_hdrhs() -> None:
    hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    assert hdr.counts_len == COUNTS_LEN
    ids = list(range(COUNTS_LEN))
    lowest, highest = LatencyHistogram().bucket_edges_us(ids)
    assert [bucket_lowest_us(i) for i in ids] == list(lowest)
    assert [bucket_highest_us(i) for i in ids] == list(highest)


def test_random_histograms_decode_as_hdrh_decodes_them() -> None:
    rng = random.Random(20261201)
    long_varints = 0
    for _ in range(600):
        histogram = random_histogram(rng)
        encoded = histogram.encode()
        ids, counts = decode_buckets(encoded)
        assert (ids, counts) == hdrh_buckets(encoded)
        long_varints += any(count > 63 for count in counts)
        buckets = BucketCounts.decode(encoded, histogram.out_of_range)
        quantiles = (0.0, 0.001, 0.5, 0.9, 0.99, 0.999, 1.0)
        assert buckets.quantiles_us(quantiles) == list(histogram.quantiles_us(quantiles).values())
        assert buckets.count == histogram.count
        # Added into an empty histogram, they give the very same histogram back.
        rebuilt = LatencyHistogram()
        rebuilt.add_buckets(buckets.ids, buckets.counts, buckets.out_of_range)
        assert rebuilt.encode() == encoded
        assert (rebuilt.min_us, rebuilt.max_us, rebuilt.out_of_range) == (
            histogram.min_us, histogram.max_us, histogram.out_of_range,
        )  # fmt: skip
    assert long_varints > 100  # the multi-byte path was taken, not only the one-byte one


def test_added_bucket_counts_are_the_merged_histogram() -> None:
    rng = random.Random(5)
    for _ in range(100):
        histograms = [random_histogram(rng) for _ in range(rng.randrange(1, 9))]
        parts = [BucketCounts.decode(h.encode(), h.out_of_range) for h in histograms]
        total = added(parts)
        merged = LatencyHistogram.merged(histograms)
        assert (list(total.ids), list(total.counts)) == merged.recorded_counts()
        assert total.out_of_range == merged.out_of_range
        into = LatencyHistogram()
        for part in parts:
            into.add_buckets(part.ids, part.counts, part.out_of_range)
        assert into.encode() == merged.encode()


def test_an_empty_histogram_has_no_buckets() -> None:
    assert decode_buckets(LatencyHistogram().encode()) == ([], [])
    assert BucketCounts.decode(LatencyHistogram().encode()).quantiles_us((0.5, 1.0)) == [0, 0]


def test_varints_written_longer_than_needed_read_as_hdrh_reads_them() -> None:
    # count 5 in two bytes, a run of 3 empty buckets in three, count 0 in two, count 70
    varints = b"\x8a\x00" + b"\x85\x80\x00" + b"\x80\x00" + b"\x8c\x01"
    assert decode_buckets(wire(varints)) == hdrh_buckets(wire(varints)) == ([0, 5], [5, 70])


def test_a_run_past_the_last_bucket_at_the_end_is_read_as_hdrh_reads_it() -> None:
    # A count, then empty buckets to far beyond the layout: nothing follows, so nothing lands there.
    varints = b"\x02" + b"\xff\xff\x03"
    assert decode_buckets(wire(varints)) == hdrh_buckets(wire(varints)) == ([0], [1])


def test_a_count_beyond_the_last_bucket_is_refused_as_hdrh_refuses_it() -> None:
    run = 2 * COUNTS_LEN - 1  # zigzag of -COUNTS_LEN: every bucket empty
    varint = bytearray()
    while run > 0x7F:
        varint.append(run & 0x7F | 0x80)
        run >>= 7
    varint.append(run)
    encoded = wire(bytes(varint) + b"\x02")
    with pytest.raises(IndexError):
        hdrh_buckets(encoded)
    with pytest.raises(ValueError, match="beyond its last bucket"):
        decode_buckets(encoded)


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (b"not base64 at all!", "not base64"),
        (base64.b64encode(b"\x1c\x84"), "too short"),
        (base64.b64encode(b"\x00" * 12), "not a V2 compressed"),
        (wire(b"\x02\x81"), "inside a varint"),
        (wire(b"\x02\xff"), "inside a varint"),
        (wire(b"\x02", highest=1000), "not of loadgate's layout"),
    ],
)
def test_what_is_not_our_histogram_is_refused(encoded: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_buckets(encoded)
