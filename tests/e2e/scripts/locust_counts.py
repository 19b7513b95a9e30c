"""Imported by the test scripts: when the run quits, write Locust's own counts per endpoint.

The path comes from LOCUST_COUNTS_FILE; the test compares them with loadgate's.
"""

import json
import os
from pathlib import Path

from locust import events


@events.quitting.add_listener
def write_locust_counts(environment, **_kwargs):
    path = os.environ.get("LOCUST_COUNTS_FILE")
    if not path:
        return
    counts = {
        f"{entry.method} {entry.name}": {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            # Locust's own, rounded, percentiles: for comparison in reports only.
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
        for entry in environment.stats.entries.values()
    }
    Path(path).write_text(json.dumps(counts))
