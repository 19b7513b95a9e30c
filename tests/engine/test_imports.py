"""The engine's pure modules, and the commands that do not run load, never import Locust."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "loadgate.duration",
    "loadgate.plan",
    "loadgate.engine.collector",
    "loadgate.engine.config",
    "loadgate.engine.live",
    "loadgate.engine.tags",
    "loadgate.engine.locust_flags",
    "loadgate.engine.setting_sources",
    "loadgate.engine.writer",
    "loadgate.engine.shipping",
    "loadgate.engine.worker_merge",
    "loadgate.engine.stall",
    "loadgate.cli.run",
    "loadgate.cli.import_spill",
    "loadgate.store.spill",
    "loadgate.report.generator_view",
]


def test_pure_modules_do_not_import_locust_or_gevent() -> None:
    code = (
        f"import sys; import {', '.join(PURE)}; "
        "bad = [m for m in ('locust', 'gevent') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_does_not_import_locust() -> None:
    code = (
        "import sys; from loadgate.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "sys.exit(1 if 'locust' in sys.modules else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_plan_and_run_times_do_not_import_the_engine() -> None:
    # The CLI reads plans before deciding to run load: no engine module may come with them.
    code = (
        "import sys; import loadgate.plan, loadgate.duration; "
        "bad = sorted(m for m in sys.modules if m.startswith('loadgate.engine')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _import_order(args: list[str]) -> list[str]:
    """The modules a `loadgate` command imports, in order (python -X importtime)."""
    code = f"from loadgate.cli import main; main({args!r})"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    return [
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]


def test_loadgate_run_imports_locust_before_sqlalchemy() -> None:
    # A missing script fails after the command has imported what it needs.
    order = _import_order(["run", "no-such-script.py", "--db", "sqlite:///:memory:"])
    assert "locust" in order and "sqlalchemy" in order, order
    assert order.index("locust") < order.index("sqlalchemy")


def test_psycopg_waits_through_gevent_in_an_engine_process() -> None:
    # Imported after the patching, psycopg picks a wait function that yields to
    # the hub (wait_c, in C, would block every greenlet during a query).
    code = (
        "from loadgate.engine import session; import psycopg.waiting as waiting; "
        "print(waiting.wait.__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != "wait_c"
