"""Locust's own statistics kept bounded on long runs: per-second counts, distinct errors.

Locust's statistics (`environment.stats`) are kept beside ours (filled from
the collector once a second: loadgate.engine.locust_stats), and two of their
parts grow with the run wherever they are never reset: on a master, which
adds its workers' reports into them, and in a single process (a worker's are
reset at every report).

- Per-second counts. Each `StatsEntry` (one per endpoint, plus the total)
  counts requests and failures per second (`num_reqs_per_sec`,
  `num_fail_per_sec`) for its "current" figures (`current_rps`,
  `current_fail_per_sec`), which sum the seconds from 12 before the last
  request to 2 before it: a key a second for every endpoint, the whole run
  long (bench/soak.py --processes 1 --trace found them in what a master
  grows). Trimmed to WINDOW_S, everything Locust computes stays the same;
  Locust's own JSON (`--json-stdout`, `--json-file`) then lists them for the
  last WINDOW_S seconds only (every second of the run is in the store).
- Distinct errors. `stats.errors` has an entry per (method, name, message),
  and a message that names the request (a URL, an id) makes one per request.
  Past MAX_ERRORS entries, the newest are folded into one OTHER_ERRORS
  entry per (method, name), their occurrences added; loadgate's own error
  counts are bounded the same way (collector.MAX_ERROR_MESSAGES).

`bound_stats` runs once a second on the run's ticker (a master's or a single
process's), on the hub, as Locust's own listeners do.
"""

from __future__ import annotations

from typing import Any

from locust.stats import StatsError

# Locust's current_rps reads the 12 s before an entry's last request; a
# master's entries take workers' reports up to 3 s late: margin over both.
WINDOW_S = 20
MAX_ERRORS = 1000
OTHER_ERRORS = "(other errors: more distinct messages than loadgate keeps for Locust's statistics)"


def trim_entry(entry: Any, window_s: int = WINDOW_S) -> None:
    """Drop one StatsEntry's per-second counts older than window_s before its last request."""
    last_s = entry.last_request_timestamp
    if last_s is None:
        return
    oldest_kept_s = int(last_s) - window_s
    for counts in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
        for second in [s for s in counts if s < oldest_kept_s]:
            del counts[second]


def cap_errors(errors: dict[str, StatsError], max_errors: int = MAX_ERRORS) -> None:
    """Fold the entries past the first max_errors (the newest) into one per (method, name)."""
    for key in list(errors)[max_errors:]:
        error = errors[key]
        if error.error == OTHER_ERRORS:
            continue
        del errors[key]
        other_key = StatsError.create_key(error.method, error.name, OTHER_ERRORS)
        other = errors.get(other_key)
        if other is None:
            other = errors[other_key] = StatsError(error.method, error.name, OTHER_ERRORS)
        other.occurrences += error.occurrences
        if error.first_seen is not None:
            other.first_seen = min(other.first_seen or error.first_seen, error.first_seen)
        if error.last_seen is not None:
            other.last_seen = max(other.last_seen or error.last_seen, error.last_seen)


def bound_stats(stats: Any) -> None:
    """Bound Locust's RequestStats (an Environment's `stats`): every entry, the total, errors."""
    for entry in [*stats.entries.values(), stats.total]:
        trim_entry(entry)
    cap_errors(stats.errors)
