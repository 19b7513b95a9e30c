"""Locust's own `--json` and `--json-file` output, so that tools reading Locust's JSON keep working.

The document is Locust's (its list of statistics entries, from Locust's own
statistics, which loadgate fills from its exact ones: engine.locust_stats), written by
Locust's own functions at the moment Locust's main() writes it: when the run
quits. loadgate's exact summary is `--json FILE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import locust
from locust import stats


def write_when_quitting(*, to_stdout: bool, file_name: str | None) -> None:
    """Print Locust's JSON to stdout and/or save it as `file_name`.json when the run quits."""
    if not to_stdout and file_name is None:
        return

    def on_quitting(environment: Any, **_kwargs: Any) -> None:
        functions: Any = stats  # untyped module
        if to_stdout:
            functions.print_stats_json(environment.stats)
        if file_name is not None:
            Path(file_name).absolute().parent.mkdir(parents=True, exist_ok=True)
            functions.save_stats_json(environment.stats, file_name)

    events: Any = locust.events
    events.quitting.add_listener(on_quitting)
