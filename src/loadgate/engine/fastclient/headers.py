"""Header maps as requests gives them to scripts (CaseInsensitiveDict), with quick lookups.

requests' CaseInsensitiveDict takes `in`, `get` and `items` from the Mapping
mixin: each goes through `__getitem__`, and a missing name costs a raised
and caught KeyError. The fast client asks such questions of every request
and response (is there a Set-Cookie, a Location, a Content-Type?), so this
subclass answers them from the lower-cased store in one step. It is still a
CaseInsensitiveDict: scripts see the same type and behaviour.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from requests.structures import CaseInsensitiveDict


class Headers(CaseInsensitiveDict[str]):
    """A CaseInsensitiveDict whose `in` and `get` do one dictionary lookup."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    def get(self, name: str, default: Any = None) -> Any:
        found = self._store.get(name.lower())
        return default if found is None else found[1]

    @classmethod
    def of_store(cls, store: dict[str, tuple[str, str]]) -> Headers:
        """Headers from (name, value) pairs already keyed by lower-cased name.

        Skips CaseInsensitiveDict's `__init__`, whose empty `update` alone
        took about 1.5 µs, on every request the fast client sends.
        """
        headers = cls.__new__(cls)
        headers._store = OrderedDict(store)
        return headers

    def pairs(self) -> list[tuple[str, str]]:
        """(name as given, value) for every header, in order."""
        return list(self._store.values())


def pairs_of(headers: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    return headers.pairs() if isinstance(headers, Headers) else headers.items()
