"""`loadgate run` telling the process that started it which run it is: LOADGATE_RUN_ID_FILE.

The dashboard starts `loadgate run` as a subprocess and must know the run's
id exactly: two runs of one name started within a second (by two
dashboards on one store, or a dashboard and a terminal) cannot be told
apart by name and time. With LOADGATE_RUN_ID_FILE set, the id is written
to that file as soon as the run's row exists, before any request is sent.
"""

from __future__ import annotations

import os
from pathlib import Path

from loadgate.errors import ConfigError
from loadgate.model import NewRun
from loadgate.store import RunStore

RUN_ID_FILE_ENV = "LOADGATE_RUN_ID_FILE"


class _AnnouncingStore(RunStore):
    """A RunStore that writes the id of each run it creates to `run_id_file`."""

    run_id_file: Path | None = None

    def create_run(self, new: NewRun) -> int:
        run_id = super().create_run(new)
        if self.run_id_file is not None:
            write_run_id(self.run_id_file, run_id)
        return run_id


def write_run_id(path: Path, run_id: int) -> None:
    """`run_id` and a newline in `path`, whole or not at all (a reader polls for the file)."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(f"{run_id}\n", encoding="ascii")
        os.replace(partial, path)
    except OSError as exc:
        raise ConfigError(
            f"{RUN_ID_FILE_ENV}: cannot write the run id to {str(path)!r}: {exc.strerror}"
        ) from exc


def open_run_store(db_url: str | None) -> RunStore:
    """The run store at `db_url`; it writes the run's id to LOADGATE_RUN_ID_FILE, if set."""
    path = os.environ.get(RUN_ID_FILE_ENV)
    if not path:
        return RunStore.open(db_url)
    store = _AnnouncingStore.open(db_url)
    assert isinstance(store, _AnnouncingStore)
    store.run_id_file = Path(path)
    return store
