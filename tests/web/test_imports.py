"""The dashboard never loads Locust or gevent (gevent's patches would break asyncio)."""

from __future__ import annotations

import subprocess
import sys


def test_the_dashboard_does_not_import_locust_or_gevent() -> None:
    code = (
        "import sys; import loadgate.web, loadgate.cli.dashboard; "
        "from loadgate.web.app import create_app; "
        "bad = [m for m in ('locust', 'gevent') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
