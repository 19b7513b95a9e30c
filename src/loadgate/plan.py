"""The plan file (`loadgate run --plan loadgate.toml`): run settings, thresholds and a baseline.

    [run]
    script = "locustfile.py"        # relative to the plan file
    users = 50
    spawn_rate = 10
    run_time = "5m"                 # as -t: 30s, 5m, 1h30m, or whole seconds
    stages = "30s:10,1m:50,30s:0"   # as --stages (instead of users, spawn_rate, run_time)
    arrival_rate = "200/s"          # as --arrival-rate (the open model)
    arrival_stages = "30s:50/s,1m:200/s"  # as --arrival-stages (instead of arrival_rate)
    max_users = 500                 # as --max-users
    host = "http://127.0.0.1:8080"
    name = "checkout"
    tags = ["browse"]
    exclude_tags = ["slow"]
    client = "fast"                 # as --client: "requests" (the default) or "fast"
    timings = true                  # as --timings

    [thresholds]
    abort_on_fail = false           # as --abort-on-fail
    checks = [
        "p95 < 300ms",
        "error_rate < 1% abort@30s",
        { expr = "status_5xx == 0", abort = true, window = "10s" },
    ]

    [thresholds.endpoints]
    "GET /v1/products" = ["p99 < 500ms"]
    "GET /v1/products/:id" = ["p99 < 500ms", { expr = "error_rate < 1%", abort = true }]

    [compare]
    baseline = "nightly"

    [findings]
    expect_rate_limit = "GET /v1/search: 20/s"   # as show/report --expect-rate-limit
    # or "20/s per X-API-Key": per key (the run then counts that header's values)

    [scrape]
    urls = ["http://127.0.0.1:9901/stats/prometheus"]   # as --scrape
    series = "upstream_rq|breaker"  # as --scrape-series
    builtin = false                 # do not scrape the built-in gateway (--no-scrape: nothing)

Every section and key is optional. Every problem of a file is reported at
once, each naming its key and what was expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from loadgate.analysis.rate_limit import parse_rate_limit
from loadgate.analysis.thresholds import (
    DEFAULT_WINDOW_S,
    Threshold,
    mark_abortable,
    parse_threshold,
    parse_thresholds,
    parse_window_s,
)
from loadgate.arrival_rate import parse_arrival_stages, parse_rate
from loadgate.duration import parse_duration
from loadgate.errors import ConfigError
from loadgate.http_client import CLIENT_CHOICES
from loadgate.scrape.settings import checked_pattern, checked_url
from loadgate.stages import parse_stages

SECTIONS = ("run", "thresholds", "compare", "findings", "scrape")
RUN_KEYS = (
    "script", "users", "spawn_rate", "run_time", "stages", "host", "name", "tags", "exclude_tags",
    "client", "arrival_rate", "arrival_stages", "max_users", "timings",
)  # fmt: skip
THRESHOLD_KEYS = ("checks", "endpoints", "abort_on_fail")
CHECK_KEYS = ("expr", "abort", "window")
COMPARE_KEYS = ("baseline",)
FINDINGS_KEYS = ("expect_rate_limit",)
SCRAPE_KEYS = ("urls", "series", "builtin")

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """What to run; None (or, for tags, None) means "not given here"."""

    script: Path | None = None
    users: int | None = None
    spawn_rate: float | None = None
    run_time: str | None = None
    stages: str | None = None
    arrival_rate: str | None = None
    arrival_stages: str | None = None
    max_users: int | None = None
    host: str | None = None
    name: str | None = None
    tags: tuple[str, ...] | None = None
    exclude_tags: tuple[str, ...] | None = None
    client: str | None = None
    timings: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ScrapeSettings:
    """The [scrape] section: URLs to scrape, the series to chart, the built-in gateway's too."""

    urls: tuple[str, ...] = ()
    series: str | None = None
    builtin: bool = True


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A parsed plan file."""

    path: Path
    run: RunSettings
    thresholds: tuple[Threshold, ...] = ()
    abort_on_fail: bool = False
    baseline: str | None = None
    expect_rate_limit: str | None = None
    scrape: ScrapeSettings = ScrapeSettings()


class _Problems:
    """Every problem of one plan, each as 'key: what was expected'."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, expected: str, value: object) -> None:
        self.lines.append(f"{key}: expected {expected}, got {value!r}")

    def table(self, key: str, value: object, known: Sequence[str]) -> Mapping[str, Any]:
        """`value` as a table with only `known` keys; unknown ones are problems."""
        if not isinstance(value, Mapping):
            self.add(key, "a table", value)
            return {}
        for name in value:
            if name not in known:
                where = f"{key}.{name}" if key else name
                self.lines.append(f"unknown key {where!r}: expected one of {', '.join(known)}")
        return value


def _whole(problems: _Problems, key: str, value: object) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        problems.add(key, "a whole number, 0 or more", value)
        return None
    return value


def _positive(problems: _Problems, key: str, value: object) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        problems.add(key, "a number above 0", value)
        return None
    return float(value)


def _text(problems: _Problems, key: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(key, "a non-empty string", value)
        return None
    return value.strip()


def _flag(problems: _Problems, key: str, value: object) -> bool | None:
    if not isinstance(value, bool):
        problems.add(key, "true or false", value)
        return None
    return value


def _tags(problems: _Problems, key: str, value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        problems.add(key, 'a list of tag names, such as ["browse", "checkout"]', value)
        return None
    return tuple(t.strip() for t in value)


def _script(problems: _Problems, key: str, value: object, plan_dir: Path) -> Path | None:
    text = _text(problems, key, value)
    if text is None:
        return None
    script = (plan_dir / text).resolve()
    if not script.exists():
        problems.lines.append(
            f"{key}: expected a locustfile relative to the plan file, got {value!r} "
            f"(no such file: {script})"
        )
        return None
    return script


def _run_time(problems: _Problems, key: str, value: object) -> str | None:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str):
        try:
            parse_duration(text)
            return text.strip()
        except ConfigError:
            pass
    problems.add(key, "a run time such as 30s, 5m or 1h30m", value)
    return None


def _parsed_text(
    parse: Callable[[str, str], object], example: str, *, names_key: bool = False
) -> Callable[[_Problems, str, object], str | None]:
    """A check of a text setting that `parse(text, key)` understands; `example` when not text.

    `names_key`: parse's complaint already names the key, so it is kept as it is.
    """

    def check(problems: _Problems, key: str, value: object) -> str | None:
        if not isinstance(value, str):
            problems.add(key, example, value)
            return None
        try:
            parse(value, key)
        except ConfigError as exc:
            problems.lines.append(str(exc) if names_key else f"{key}: {exc}")
            return None
        return value.strip()

    return check


_stages = _parsed_text(lambda text, _key: parse_stages(text), 'stages such as "30s:10,1m:50,30s:0"')
_arrival_rate = _parsed_text(
    lambda text, key: parse_rate(text, flag=key),
    'a rate such as "200/s" or "600/m"',
    names_key=True,
)
_arrival_stages = _parsed_text(
    lambda text, _key: parse_arrival_stages(text), 'arrival stages such as "30s:50/s,1m:200/s"'
)


def _client(problems: _Problems, key: str, value: object) -> str | None:
    if value not in CLIENT_CHOICES:
        problems.add(key, " or ".join(f'"{choice}"' for choice in CLIENT_CHOICES), value)
        return None
    return str(value)


def _host(problems: _Problems, key: str, value: object) -> str | None:
    text = _text(problems, key, value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(key, "a base URL such as http://127.0.0.1:8080", value)
        return None
    return text.rstrip("/")


def _run_settings(problems: _Problems, table: Mapping[str, Any], plan_dir: Path) -> RunSettings:
    def given(name: str, check: Callable[[_Problems, str, object], T | None]) -> T | None:
        return check(problems, f"run.{name}", table[name]) if name in table else None

    def script(problems: _Problems, key: str, value: object) -> Path | None:
        return _script(problems, key, value, plan_dir)

    return RunSettings(
        script=given("script", script),
        users=given("users", _whole),
        spawn_rate=given("spawn_rate", _positive),
        run_time=given("run_time", _run_time),
        stages=given("stages", _stages),
        arrival_rate=given("arrival_rate", _arrival_rate),
        arrival_stages=given("arrival_stages", _arrival_stages),
        max_users=given("max_users", _whole),
        host=given("host", _host),
        name=given("name", _text),
        tags=given("tags", _tags),
        exclude_tags=given("exclude_tags", _tags),
        client=given("client", _client),
        timings=given("timings", _flag),
    )


def _window_s(problems: _Problems, key: str, value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    window_s = parse_window_s(value) if isinstance(value, str) else None
    if window_s is None:
        problems.add(key, "a window such as 10s or 1m", value)
    return window_s


def _check(problems: _Problems, key: str, entry: object, endpoint: str | None) -> Threshold | None:
    """One entry of a checks list: an expression, or {expr = "...", abort = ..., window = ...}."""
    if isinstance(entry, str):
        entry = {"expr": entry}
    if not isinstance(entry, Mapping):
        problems.add(key, 'an expression such as "p95 < 300ms" or a table {expr = "..."}', entry)
        return None
    table = problems.table(key, entry, CHECK_KEYS)
    if "expr" not in table:
        problems.lines.append(f'{key}: expected an expression in expr, such as "p95 < 300ms"')
        return None
    expr = _text(problems, f"{key}.expr", table["expr"])
    abort = _flag(problems, f"{key}.abort", table["abort"]) if "abort" in table else None
    window_s = _window_s(problems, f"{key}.window", table["window"]) if "window" in table else None
    if expr is None:
        return None
    try:
        threshold = parse_threshold(expr, endpoint=endpoint)
    except ConfigError as exc:
        problems.lines.append(f"{key}: {exc}")
        return None
    aborts = threshold.abort if abort is None else abort
    if aborts and not threshold.can_abort:
        problems.lines.append(
            f"{key}.abort: {threshold.metric.name} {threshold.op.value} cannot abort a run: "
            "it is only known at the end of the run"
        )
        return None
    if "window" in table and not aborts:
        problems.lines.append(f"{key}.window: a window applies only with abort = true")
        return None
    return replace(threshold, abort=aborts, window_s=window_s or threshold.window_s)


def _checks(problems: _Problems, key: str, value: object, endpoint: str | None) -> list[Threshold]:
    if not isinstance(value, list):
        problems.add(key, 'a list of checks, such as ["p95 < 300ms"]', value)
        return []
    parsed = [_check(problems, f"{key}[{i}]", entry, endpoint) for i, entry in enumerate(value)]
    return [t for t in parsed if t is not None]


def _thresholds(problems: _Problems, table: Mapping[str, Any]) -> tuple[Threshold, ...]:
    thresholds = _checks(problems, "thresholds.checks", table.get("checks", []), None)
    endpoints = table.get("endpoints", {})
    if not isinstance(endpoints, Mapping):
        problems.add("thresholds.endpoints", 'a table such as {"GET /v1/x" = [...]}', endpoints)
        return tuple(thresholds)
    for endpoint, checks in endpoints.items():
        # TOML's own spelling of the key, so it can be found in the file.
        key = f'thresholds.endpoints."{endpoint}"' if endpoint.strip() else "thresholds.endpoints"
        if not endpoint.strip():
            problems.lines.append(f"{key}: expected an endpoint name, got {endpoint!r}")
            continue
        thresholds += _checks(problems, key, checks, endpoint.strip())
    return tuple(thresholds)


def _rate_limit(problems: _Problems, table: Mapping[str, Any]) -> str | None:
    if "expect_rate_limit" not in table:
        return None
    text = _text(problems, "findings.expect_rate_limit", table["expect_rate_limit"])
    if text is None:
        return None
    try:
        parse_rate_limit(text)
    except ConfigError as exc:
        problems.lines.append(f"findings.expect_rate_limit: {exc}")
        return None
    return text


def _checked(problems: _Problems, key: str, check: Callable[[str, str], str], value: object) -> str:
    """`value` as `check` accepts it, or '' with the problem noted."""
    text = _text(problems, key, value)
    if text is None:
        return ""
    try:
        return check(text, key)
    except ConfigError as exc:
        problems.lines.append(str(exc))
        return ""


def _scrape(problems: _Problems, table: Mapping[str, Any]) -> ScrapeSettings:
    urls = table.get("urls", [])
    if not isinstance(urls, list):
        problems.add("scrape.urls", 'a list of URLs, such as ["http://127.0.0.1/metrics"]', urls)
        urls = []
    checked = [_checked(problems, f"scrape.urls[{i}]", checked_url, u) for i, u in enumerate(urls)]
    series = (
        _checked(problems, "scrape.series", checked_pattern, table["series"])
        if "series" in table
        else None
    )
    builtin = _flag(problems, "scrape.builtin", table["builtin"]) if "builtin" in table else None
    return ScrapeSettings(
        urls=tuple(url for url in checked if url),
        series=series or None,
        builtin=True if builtin is None else builtin,
    )


def parse_plan(data: Mapping[str, Any], *, path: Path) -> Plan:
    """A plan from a parsed TOML document; one ConfigError listing every problem."""
    problems = _Problems()
    top = problems.table("", data, SECTIONS)
    run_table = problems.table("run", top.get("run", {}), RUN_KEYS)
    threshold_table = problems.table("thresholds", top.get("thresholds", {}), THRESHOLD_KEYS)
    compare_table = problems.table("compare", top.get("compare", {}), COMPARE_KEYS)
    findings_table = problems.table("findings", top.get("findings", {}), FINDINGS_KEYS)
    scrape_table = problems.table("scrape", top.get("scrape", {}), SCRAPE_KEYS)
    run = _run_settings(problems, run_table, path.parent)
    thresholds = _thresholds(problems, threshold_table)
    abort_on_fail = (
        _flag(problems, "thresholds.abort_on_fail", threshold_table["abort_on_fail"])
        if "abort_on_fail" in threshold_table
        else None
    )
    baseline = (
        _text(problems, "compare.baseline", compare_table["baseline"])
        if "baseline" in compare_table
        else None
    )
    expect_rate_limit = _rate_limit(problems, findings_table)
    scrape = _scrape(problems, scrape_table)
    if problems.lines:
        if len(problems.lines) == 1:
            raise ConfigError(f"invalid plan {path}: {problems.lines[0]}")
        raise ConfigError(f"invalid plan {path}:\n  " + "\n  ".join(problems.lines))
    return Plan(
        path=path,
        run=run,
        thresholds=thresholds,
        abort_on_fail=bool(abort_on_fail),
        baseline=baseline,
        expect_rate_limit=expect_rate_limit,
        scrape=scrape,
    )


def load_plan(path: Path | str) -> Plan:
    """Read and check a plan file; ConfigError when it is missing, not TOML, or wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"cannot read the plan {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the plan {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the plan {path} is not valid TOML: {exc}") from exc
    return parse_plan(data, path=path)


def merge_thresholds(
    plan: Plan | None, expressions: Iterable[str], *, abort_on_fail: bool = False
) -> tuple[Threshold, ...]:
    """The plan's thresholds, then those of --threshold; every abortable one aborts when
    --abort-on-fail (or the plan's abort_on_fail) is on, over a window of DEFAULT_WINDOW_S
    unless it names its own."""
    thresholds = (plan.thresholds if plan else ()) + parse_thresholds(expressions)
    if abort_on_fail or (plan is not None and plan.abort_on_fail):
        return mark_abortable(thresholds, DEFAULT_WINDOW_S)
    return thresholds
