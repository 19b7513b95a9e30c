"""Locust's own per-second request counts, kept to the window Locust reads from them.

Each of Locust's `StatsEntry` (one per endpoint, plus the total) counts
requests and failures per second (`num_reqs_per_sec`, `num_fail_per_sec`)
for its "current" figures (`current_rps`, `current_fail_per_sec`), which sum
the seconds from 12 before the entry's last request to 2 before it. A
worker's entries are reset at every report, but a master's (which adds its
workers' reports into them) and a single process's are never: both dicts
gain a key every second for every endpoint, the whole run long; bench/soak.py
--processes 1 --trace found them among what a master keeps growing. Trimming
them once a second to WINDOW_S keeps the master's and the generator's memory
flat and everything Locust computes from them the same. What it changes:
Locust's own JSON (`--json-stdout`, `--json-file`) lists these counts for
the last WINDOW_S seconds only; every second of the run is in the store.
"""

from __future__ import annotations

from typing import Any

# Locust's current_rps reads the 12 s before an entry's last request; a
# master's entries take workers' reports up to 3 s late: margin over both.
WINDOW_S = 20


def trim_entry(entry: Any, window_s: int = WINDOW_S) -> None:
    """Drop one StatsEntry's per-second counts older than window_s before its last request."""
    last_s = entry.last_request_timestamp
    if last_s is None:
        return
    oldest_kept_s = int(last_s) - window_s
    for counts in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
        for second in [s for s in counts if s < oldest_kept_s]:
            del counts[second]


def trim_stats(stats: Any, window_s: int = WINDOW_S) -> None:
    """Trim every entry of Locust's RequestStats (an Environment's `stats`), the total too."""
    for entry in [*stats.entries.values(), stats.total]:
        trim_entry(entry, window_s)
