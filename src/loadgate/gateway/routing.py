"""Longest-prefix routing over whole path segments, from a table built once."""

from __future__ import annotations

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
