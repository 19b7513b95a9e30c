"""`loadgate worker`: one Locust worker process that runs a master's users and ships their seconds.

The worker never opens the run store: what it measures goes to the master in
Locust's worker reports (loadgate.engine.shipping). Without a script of its
own it asks the master for the master's (Locust's "locustfile" message), so
one copy of the script drives every machine.

Importing this module imports Locust (gevent's monkey-patching): do it first.
"""

from __future__ import annotations

# Locust first: it monkey-patches the process when imported.
from loadgate.engine.runner import LocustRun, Worker, raise_open_files_limit  # isort: skip

import contextlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust.argument_parser import download_locustfile_from_master

from loadgate.engine.collector import Collector
from loadgate.engine.config import RunConfig
from loadgate.engine.fastclient import use_client
from loadgate.engine.locustfile import load_script
from loadgate.engine.options import parse_locust_options
from loadgate.errors import RunError
from loadgate.http_client import DEFAULT_CLIENT


@dataclass(frozen=True, kw_only=True)
class WorkerConfig:
    """What `loadgate worker` was asked to do."""

    master_host: str
    master_port: int
    region: str
    script_path: Path | None = None  # None: the master's script
    client: str = DEFAULT_CLIENT


def run_worker(config: WorkerConfig) -> None:
    """Connect, run users as the master says, return when the master tells it to quit."""
    raise_open_files_limit()
    with tempfile.TemporaryDirectory(prefix="loadgate-worker-") as folder:
        path = config.script_path or fetch_script(config, Path(folder))
        script = load_script(path)
        use_client(config.client, script.user_classes)
        options = parse_locust_options(RunConfig(script_path=path, name=path.stem))
        worker = LocustRun(
            script,
            options,
            None,
            Collector(),
            Worker(config.master_host, config.master_port, config.region),
        )
        worker.run_until_quit()


def fetch_script(config: WorkerConfig, folder: Path) -> Path:
    """The master's script, written into `folder`."""
    where = f"{config.master_host}:{config.master_port}"
    errors = io.StringIO()
    try:
        # Locust's own download: it writes its complaints to stderr and exits.
        with contextlib.redirect_stderr(errors):
            # Annotated as str by Locust; it is the list of the master's files.
            sources: Any = download_locustfile_from_master(config.master_host, config.master_port)
    except SystemExit as exc:
        detail = errors.getvalue().strip().splitlines()
        raise RunError(
            f"no script from the master at {where}: {detail[-1] if detail else exc.code}"
        ) from exc
    files = [source for source in sources if isinstance(source, dict) and "contents" in source]
    if len(files) != 1:
        raise RunError(f"the master at {where} sent {len(files)} scripts, expected one")
    path = folder / Path(str(files[0]["filename"])).name
    path.write_text(str(files[0]["contents"]), encoding="utf-8")
    return path
