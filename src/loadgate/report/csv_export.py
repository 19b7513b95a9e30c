"""Locust-compatible CSV files (`--csv PREFIX`), with exact percentiles from our histograms.

PREFIX_stats.csv, PREFIX_stats_history.csv and PREFIX_failures.csv have
Locust 2.47's columns, row order and "Aggregated" total row, so spreadsheets
and scripts written for Locust keep working. What differs is on purpose:

- latencies are exact milliseconds from the HDR histograms (three decimals,
  whole microseconds), not Locust's two-significant-digit buckets;
- the history has one row per second of the run, from the stored seconds:
  Requests/s and Failures/s are what finished in that very second (Locust
  shows a 10-second moving average); the percentile and "Total" columns are
  cumulative since the start, as Locust's are.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, groupby
from operator import attrgetter
from pathlib import Path

from loadgate.analysis.thresholds_latency import LatencyBuckets
from loadgate.errors import ConfigError
from loadgate.model import EndpointSecond, UsersSample
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.summary import US_PER_MS, EndpointSummary, RunSummary

AGGREGATED_NAME = "Aggregated"  # Locust's name for the total row
PERCENTILES = (0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)
PERCENTILE_COLUMNS = (
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
)
STATS_COLUMNS = (
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
)
HISTORY_COLUMNS = (
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
)
FAILURES_COLUMNS = ("Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen")
NOT_AVAILABLE = "N/A"  # Locust's percentile cell for an entry without requests


def _ms_cell(value_us: float) -> str:
    """Microseconds as milliseconds, exact to the microsecond: 1234 -> '1.234', 5000 -> '5'."""
    return f"{value_us / US_PER_MS:.3f}".rstrip("0").rstrip(".")


def _percentile_cells(latency: LatencyHistogram | LatencyBuckets) -> list[str]:
    """Locust's percentile columns: N/A for an entry without requests."""
    if not latency.count:
        return [NOT_AVAILABLE] * len(PERCENTILES)
    quantiles = latency.quantiles_us(PERCENTILES)
    return [_ms_cell(quantiles[q]) for q in PERCENTILES]


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _utc(second: int) -> str:
    # Locust's own timestamp format (locust.util.date.format_utc_timestamp).
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stats_row(endpoint: EndpointSummary, duration_s: float, *, total: bool = False) -> list[str]:
    """One row of _stats.csv; `total` gives Locust's Aggregated row."""
    requests = endpoint.requests
    histogram = endpoint.histogram
    return [
        "" if total else endpoint.method,
        AGGREGATED_NAME if total else endpoint.name,
        str(requests),
        str(endpoint.failures),
        _ms_cell(histogram.quantile_us(0.5)),
        _ms_cell(endpoint.mean_ms * US_PER_MS),
        _ms_cell(histogram.min_us),
        _ms_cell(histogram.max_us),
        _number(endpoint.bytes_received / requests if requests else 0.0),
        _number(endpoint.rps),
        _number(endpoint.failures / duration_s if duration_s > 0 else 0.0),
        *_percentile_cells(histogram),
    ]


@dataclass
class _Running:
    """One history entry's totals so far (mutable while the history is written)."""

    method: str
    name: str
    requests: int = 0
    failures: int = 0
    bytes_received: int = 0
    latency: LatencyBuckets = field(default_factory=LatencyBuckets)

    def add(self, second: EndpointSecond, buckets: LatencyBuckets) -> None:
        self.requests += second.requests
        self.failures += second.failures
        self.bytes_received += second.bytes_received
        self.latency.merge(buckets)

    def row(self, second: int, users: int, in_second: tuple[int, int]) -> list[str]:
        latency = self.latency
        requests_now, failures_now = in_second
        return [
            str(second),
            str(users),
            self.method,
            self.name,
            f"{float(requests_now):2f}",  # Locust's own format for these two columns
            f"{float(failures_now):2f}",
            *_percentile_cells(latency),
            str(self.requests),
            str(self.failures),
            _ms_cell(latency.quantile_us(0.5)),
            _ms_cell(latency.mean_us),
            _ms_cell(latency.min_us),
            _ms_cell(latency.max_us),
            _number(self.bytes_received / self.requests if self.requests else 0.0),
        ]


def _ascending(seconds: Iterable[EndpointSecond]) -> Iterator[EndpointSecond]:
    """A list is sorted here (tests build them in any order); a stream comes from the store,
    ordered by second."""
    if isinstance(seconds, Sequence):
        return iter(sorted(seconds, key=lambda s: s.second))
    return iter(seconds)


def history_rows(
    seconds: Iterable[EndpointSecond],
    users: Sequence[UsersSample] = (),
    *,
    full_history: bool = False,
) -> Iterable[list[str]]:
    """The rows of _stats_history.csv: per second, each endpoint (if full) then Aggregated.

    Streams: a stream of seconds (ordered by second, as the store gives them)
    is read one second at a time, whatever the run's length.
    """
    groups = groupby(_ascending(seconds), key=attrgetter("second"))
    first = next(groups, None)
    users_at = {u.second: u.users for u in users}
    marks = list(users_at) + ([first[0]] if first is not None else [])
    if not marks:
        return
    history = _History(full_history)
    level, cursor = 0, min(marks)
    for second, parts in chain([first] if first is not None else [], groups):
        for idle in range(cursor, second):
            level = users_at.get(idle, level)
            yield from history.rows(idle, level, [])
        level = users_at.get(second, level)
        yield from history.rows(second, level, list(parts))
        cursor = second + 1
    for idle in range(cursor, max(users_at, default=cursor - 1) + 1):
        level = users_at.get(idle, level)
        yield from history.rows(idle, level, [])


class _History:
    """The running totals of every history entry, and the rows of one second at a time."""

    def __init__(self, full_history: bool) -> None:
        self.full_history = full_history
        self.total = _Running(method="", name=AGGREGATED_NAME)
        self.entries: dict[tuple[str, str], _Running] = {}

    def rows(self, second: int, users: int, parts: Sequence[EndpointSecond]) -> list[list[str]]:
        now: Counter[tuple[str, str]] = Counter()
        failed_now: Counter[tuple[str, str]] = Counter()
        for part in parts:
            key = (part.name, part.method)  # Locust sorts its entries by (name, method)
            buckets = LatencyBuckets.decode(part.histogram)
            entry = self.entries.setdefault(key, _Running(method=part.method, name=part.name))
            entry.add(part, buckets)
            self.total.add(part, buckets)
            now[key] += part.requests
            failed_now[key] += part.failures
        rows = []
        if self.full_history:
            for key in sorted(self.entries):
                rows.append(self.entries[key].row(second, users, (now[key], failed_now[key])))
        total_now = (sum(now.values()), sum(failed_now.values()))
        rows.append(self.total.row(second, users, total_now))
        return rows


def failure_rows(seconds: Iterable[EndpointSecond]) -> list[list[str]]:
    """The rows of _failures.csv: each distinct error of each endpoint, most frequent first."""
    occurrences: Counter[tuple[str, str, str]] = Counter()
    first_seen: dict[tuple[str, str, str], int] = {}
    last_seen: dict[tuple[str, str, str], int] = {}
    for second in seconds:
        for message, count in second.errors.items():
            key = (second.method, second.name, message)
            occurrences[key] += count
            first_seen[key] = min(first_seen.get(key, second.second), second.second)
            last_seen[key] = max(last_seen.get(key, second.second), second.second)
    return [
        [method, name, message, str(count), _utc(first_seen[key]), _utc(last_seen[key])]
        for key, count in sorted(occurrences.items(), key=lambda kv: (-kv[1], kv[0]))
        for method, name, message in [key]
    ]


def stats_rows(summary: RunSummary) -> list[list[str]]:
    """The rows of _stats.csv: one per endpoint, then Locust's Aggregated row."""
    rows = [stats_row(e, summary.duration_s) for e in summary.endpoints]
    rows.append(stats_row(summary.total, summary.duration_s, total=True))
    return rows


def stats_csv(summary: RunSummary) -> str:
    """_stats.csv's text (the dashboard's download), byte for byte what write_csv writes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(STATS_COLUMNS)
    writer.writerows(stats_rows(summary))
    return buffer.getvalue()


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="" with csv's default \r\n terminator: the same bytes as Locust's files.
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise ConfigError(f"cannot write the CSV file {path}: {exc.strerror}") from exc


def write_csv(
    prefix: Path | str,
    summary: RunSummary,
    seconds: Iterable[EndpointSecond],
    users: Sequence[UsersSample] = (),
    *,
    full_history: bool = False,
) -> list[Path]:
    """Write PREFIX_stats.csv, PREFIX_stats_history.csv and PREFIX_failures.csv.

    `seconds` and `users` are the run's stored data (the summary's source);
    `seconds` is read twice, each time in one pass (a list, or a re-iterable
    stream from the store ordered by second);
    `full_history` adds every endpoint's rows to the history, like Locust's
    --csv-full-history. Missing folders of the prefix are created. Returns
    the paths written.
    """
    base = str(prefix)
    stats = Path(f"{base}_stats.csv")
    history = Path(f"{base}_stats_history.csv")
    failures = Path(f"{base}_failures.csv")
    _write(stats, STATS_COLUMNS, stats_rows(summary))
    _write(history, HISTORY_COLUMNS, history_rows(seconds, users, full_history=full_history))
    _write(failures, FAILURES_COLUMNS, failure_rows(seconds))
    return [stats, history, failures]
