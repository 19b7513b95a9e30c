"""Longest-prefix routing over whole path segments, and the normalised paths it matches."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class PrefixRouter(Generic[T]):
    """Maps a path to the value of the longest prefix that ends on a segment boundary.

    "/v1/products" matches "/v1/products" and "/v1/products/1042" but not
    "/v1/productsX". Lookup walks up the path one segment at a time through a
    dict, so it costs a few dict probes whatever the number of routes.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._table: dict[str, T] = dict(entries)

    def match(self, path: str) -> T | None:
        table = self._table
        candidate = path.rstrip("/") or "/"
        while True:
            value = table.get(candidate)
            if value is not None:
                return value
            cut = candidate.rfind("/")
            if cut <= 0:
                return table.get("/")
            candidate = candidate[:cut]


UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Normalised forms kept of paths that needed work; past this many, start again.
MAX_CACHED_PATHS = 4096


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in UNRESERVED else "%" + match.group(1).upper()


def normalize_path(path: str) -> str | None:
    """The path routes are matched on and that is forwarded, or None when it is unusable.

    RFC 3986 §6.2.2 in its order: escapes of unreserved characters decoded
    (others upper-cased; an encoded "/" stays a character, never a separator),
    then dot segments removed (§5.2.4), and duplicate slashes collapsed. A ".."
    that would climb above the root, or a broken escape, gives None (a 400):
    RFC 3986 would quietly drop the "..", but a client sending one is probing.
    """
    if not path.startswith("/"):
        return path  # "*" or absolute-form: no route matches it anyway
    if "%" in path:
        if _BROKEN_ESCAPE.search(path):
            return None
        path = _ESCAPE.sub(_unescape_unreserved, path)
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not segments:
                return None
            segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    # "/a/b/" and "/a/b/.." name a directory: keep its trailing slash.
    trailing = bool(segments) and path.endswith(("/", "/.", "/.."))
    return "/" + "/".join(segments) + ("/" if trailing else "")


class PathNormalizer:
    """`normalize_path` with a fast path and a bounded memo, for the per-request hot path.

    Almost every real path has no "%", "//" or "/." and is returned as it is,
    after three substring scans; the rest is computed once per distinct path.
    """

    def __init__(self, max_entries: int = MAX_CACHED_PATHS) -> None:
        self._memo: dict[str, str | None] = {}
        self._max_entries = max_entries

    def __call__(self, path: str) -> str | None:
        if "%" not in path and "//" not in path and "/." not in path:
            return path
        memo = self._memo
        if path in memo:
            return memo[path]
        if len(memo) >= self._max_entries:
            memo.clear()
        normal = memo[path] = normalize_path(path)
        return normal
