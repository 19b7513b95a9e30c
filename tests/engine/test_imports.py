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
    "loadgate.cli.run",
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
