"""HdrHistogram's V2 wire format read straight into its non-empty buckets.

hdrh's own decode allocates the layout's whole counts array (23,552 words for
1 µs–1 h at 3 digits) for every stored second, and every reader then scans it
for the few hundred buckets a second fills. This reads the encoding, base64
around a header and a zlib payload of zigzag LEB128 varints (a count, or a
negative run of empty buckets), into (bucket id, count) pairs, never building
the array: about 2.5x less CPU per stored second than hdrh's decode and the
scan after it (measured on bench/long_run.py's histograms, 4,800 of them).

The varints are read with bytes operations in C rather than a Python loop
over each byte: the rare varints of more than one byte (long runs of empty
buckets, counts above 63) are first rewritten as single bytes (a long run as
several runs of at most 64) or, for a count, a marker byte whose value is
patched in after. Bucket ids are hdrh's counts-array indices; the layout must
be ours (stats/histogram.py), since ids of another layout mean other values.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from itertools import accumulate, compress

from loadgate.stats.histogram import HIGHEST_US, LOWEST_US, SIGNIFICANT_DIGITS, SUB_BUCKET_BITS

# hdrh's cookies, with the word-size nibble (bits 4–7) masked out
_COMPRESSED_COOKIE = 0x1C849304
_ENCODING_COOKIE = 0x1C849303
_COOKIE_MASK = ~0xF0
_OUTER_HEADER = struct.Struct(">II")  # cookie, compressed length
_PAYLOAD_HEADER = struct.Struct(
    ">IIIIqqd"
)  # cookie, length, offset, digits, lowest, highest, ratio


def _counts_len() -> int:
    """Words in hdrh's counts array for our layout ((buckets + 1) × half a sub-bucket count)."""
    sub_bucket_count = 1 << SUB_BUCKET_BITS
    smallest_untrackable = sub_bucket_count  # LOWEST_US is 1: unit magnitude 0
    buckets = 1
    while smallest_untrackable <= HIGHEST_US:
        smallest_untrackable <<= 1
        buckets += 1
    return (buckets + 1) * (sub_bucket_count // 2)


COUNTS_LEN = _counts_len()
# A varint of 2 bytes or more: up to 8 with the top bit set, then 1 (a 9th: whatever its top bit).
_LONG_VARINT = re.compile(rb"[\x80-\xff]{8}[\x00-\xff]|[\x80-\xff]{1,7}[\x00-\x7f]")
_LONGEST_RUN = 64  # zigzag(-64) = 127: the longest run of empty buckets one byte holds
_MARKER = 0xFF  # a count of more than one byte, rewritten; its value comes from a side list
# Per single-byte varint (zigzag: even = a count, odd = a run of empty buckets):
# the buckets it moves over, and its count (0 for a run).
_STEPS = bytes(((v >> 1) + 1) if v & 1 else 1 for v in range(128)) + bytes([1]) * 128
_COUNTS = bytes(0 if v & 1 else v >> 1 for v in range(128)) + bytes(127) + bytes([_MARKER])


def decode_buckets(encoded: bytes) -> tuple[list[int], list[int]]:
    """(bucket ids, counts) of the non-empty buckets of an encoded histogram, ascending.

    The same buckets and counts as hdrh's HdrHistogram.decode gives (tests/stats
    compares them). ValueError when `encoded` is not a V2 encoding of our
    layout, or puts a count beyond its last bucket.
    """
    varints = _varints(encoded)
    long_counts: list[int] = []
    if not varints.isascii():
        varints = _rewrite_long(varints, long_counts)
    steps = varints.translate(_STEPS)
    counts_or_zero = varints.translate(_COUNTS)
    # A count's bucket is the sum of the steps before it; compress keeps the counts' sums.
    ids = list(compress(accumulate(steps, initial=0), counts_or_zero))
    counts = list(counts_or_zero.translate(None, b"\x00"))
    if long_counts:
        _patch_markers(counts, long_counts)
    if ids and ids[-1] >= COUNTS_LEN:
        raise ValueError(f"an HDR histogram has a count beyond its last bucket ({ids[-1]})")
    return ids, counts


def _varints(encoded: bytes) -> bytes:
    """The varint stream of an encoded histogram, its headers checked."""
    try:
        raw = base64.b64decode(encoded)
    except binascii.Error as exc:
        raise ValueError(f"an HDR histogram is not base64: {exc}") from exc
    if len(raw) < _OUTER_HEADER.size:
        raise ValueError("an HDR histogram is too short for its header")
    cookie, length = _OUTER_HEADER.unpack_from(raw)
    if cookie & _COOKIE_MASK != _COMPRESSED_COOKIE or length != len(raw) - _OUTER_HEADER.size:
        raise ValueError("an HDR histogram's header is not a V2 compressed one")
    try:
        payload = zlib.decompress(raw[_OUTER_HEADER.size :])
    except zlib.error as exc:
        raise ValueError(f"an HDR histogram's payload does not decompress: {exc}") from exc
    if len(payload) < _PAYLOAD_HEADER.size:
        raise ValueError("an HDR histogram's payload is too short for its header")
    cookie, _length, _offset, digits, lowest, highest, _ratio = _PAYLOAD_HEADER.unpack_from(payload)
    if cookie & _COOKIE_MASK != _ENCODING_COOKIE:
        raise ValueError("an HDR histogram's payload is not V2 encoded")
    if (digits, lowest, highest) != (SIGNIFICANT_DIGITS, LOWEST_US, HIGHEST_US):
        raise ValueError(
            f"an HDR histogram of {lowest}..{highest} at {digits} digits is not of loadgate's "
            f"layout ({LOWEST_US}..{HIGHEST_US} µs at {SIGNIFICANT_DIGITS} digits)"
        )
    return payload[_PAYLOAD_HEADER.size :]


def _rewrite_long(varints: bytes, long_counts: list[int]) -> bytes:
    """`varints` with every varint of more than one byte as single bytes (long counts: markers)."""

    def single_bytes(match: re.Match[bytes]) -> bytes:
        value = 0
        for position, byte in enumerate(match.group()):
            value |= (byte & 0x7F) << (7 * position)
        if not value & 1:
            if value >> 1 < 64:  # a short count written long: it fits a byte
                return bytes([value])
            long_counts.append(value >> 1)
            return bytes([_MARKER])
        # A run of empty buckets; past the last bucket, how far no longer matters.
        run = min((value >> 1) + 1, COUNTS_LEN + 1)
        whole, rest = divmod(run, _LONGEST_RUN)
        return bytes([2 * _LONGEST_RUN - 1]) * whole + (bytes([2 * rest - 1]) if rest else b"")

    rewritten = _LONG_VARINT.sub(single_bytes, varints)
    markers = bytes([_MARKER])
    # What is left of a byte with its top bit set is a varint cut short.
    if (
        rewritten.count(markers) != len(long_counts)
        or not rewritten.translate(None, markers).isascii()
    ):
        raise ValueError("an HDR histogram's counts end inside a varint")
    return rewritten


def _patch_markers(counts: list[int], long_counts: list[int]) -> None:
    """Put each long count in place of its marker, in order."""
    position = -1
    for count in long_counts:
        position = counts.index(_MARKER, position + 1)
        counts[position] = count
