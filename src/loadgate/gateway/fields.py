"""Typed reads of TOML or JSON tables whose errors name the key path and the expected value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from loadgate.gateway.errors import GatewayConfigError

_MISSING: Any = object()


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


class Table:
    """One table of a config document; every read is checked and remembered.

    `finish()` then rejects keys nobody read, so a typo in a key name is an error
    that names the key, not a silently ignored setting.
    """

    def __init__(self, data: Mapping[str, Any], path: str, source: str = "config") -> None:
        self._data = data
        self._path = path
        self._source = source
        self._read: set[str] = set()

    def names(self) -> list[str]:
        return list(self._data)

    def has(self, key: str) -> bool:
        return key in self._data

    def key_path(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def fail(self, key: str, expected: str, value: object = _MISSING) -> GatewayConfigError:
        got = "" if value is _MISSING else f", got {_describe(value)}"
        return GatewayConfigError(f"{self._source}: {self.key_path(key)}: expected {expected}{got}")

    def _get(self, key: str, default: Any, expected: str) -> Any:
        self._read.add(key)
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise self.fail(key, expected + " (the key is required)")
        return default

    def integer(
        self, key: str, default: int = _MISSING, *, low: int | None = None, high: int | None = None
    ) -> int:
        expected = _range_text("an integer", low, high)
        value = self._get(key, default, expected)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, expected, value)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(key, expected, value)
        return value

    def number(
        self,
        key: str,
        default: float = _MISSING,
        *,
        low: float | None = None,
        high: float | None = None,
        above: float | None = None,
    ) -> float:
        expected = _range_text("a number", low, high, above)
        value = self._get(key, default, expected)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(key, expected, value)
        too_low = (low is not None and value < low) or (above is not None and value <= above)
        if too_low or (high is not None and value > high) or math.isinf(value):
            raise self.fail(key, expected, value)
        return float(value)

    def string(
        self,
        key: str,
        default: str = _MISSING,
        *,
        choices: tuple[str, ...] = (),
        empty: bool = True,
    ) -> str:
        expected = "one of " + ", ".join(f'"{c}"' for c in choices) if choices else "a string"
        if not empty and not choices:
            expected = "a non-empty string"
        value = self._get(key, default, expected)
        if not isinstance(value, str) or (choices and value not in choices):
            raise self.fail(key, expected, value)
        if not empty and not value:
            raise self.fail(key, expected, value)
        return value

    def boolean(self, key: str, default: bool = _MISSING) -> bool:
        value = self._get(key, default, "true or false")
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def strings(self, key: str, default: tuple[str, ...] = _MISSING) -> tuple[str, ...]:
        expected = "a list of strings"
        value = self._get(key, default, expected)
        if isinstance(value, tuple):
            return value
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, expected, value)
        return tuple(value)

    def integers(self, key: str, default: tuple[int, ...] = _MISSING) -> tuple[int, ...]:
        expected = "a list of integers"
        value = self._get(key, default, expected)
        if isinstance(value, tuple):
            return value
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            raise self.fail(key, expected, value)
        return tuple(value)

    def table(self, key: str, *, required: bool = False) -> Table:
        """A sub-table (empty when absent and not required)."""
        value = self._get(key, _MISSING if required else {}, "a table")
        if not isinstance(value, Mapping):
            raise self.fail(key, "a table", value)
        return Table(value, self.key_path(key), self._source)

    def tables(self, key: str) -> list[tuple[str, Table]]:
        """A table of named tables, such as [upstreams.catalog] and [upstreams.search]."""
        outer = self.table(key)
        named: list[tuple[str, Table]] = []
        for name in outer.names():
            named.append((name, outer.table(name)))
        outer.finish()
        return named

    def finish(self) -> None:
        """Reject the keys that no read asked for."""
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            raise GatewayConfigError(
                f"{self._source}: {self.key_path(unknown[0])}: unknown key (known keys: {known})"
            )


def _range_text(
    kind: str, low: float | None, high: float | None, above: float | None = None
) -> str:
    if above is not None and high is not None:
        return f"{kind} above {_bound(above)} and at most {_bound(high)}"
    if above is not None:
        return f"{kind} above {_bound(above)}"
    if low is not None and high is not None:
        return f"{kind} from {_bound(low)} to {_bound(high)}"
    if low is not None:
        return f"{kind} of at least {_bound(low)}"
    if high is not None:
        return f"{kind} of at most {_bound(high)}"
    return kind


def _bound(value: float) -> str:
    # Whole numbers in full: `:g` alone would print 1048576 as 1.04858e+06.
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
