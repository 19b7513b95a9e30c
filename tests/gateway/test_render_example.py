"""examples/gateways/render.py on input it cannot use: one line naming it, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.real_gateways import RENDER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "expected the JSON line of `loadgate gateway --upstreams-only --json`"),
        ('{"upstreams": {"catalog": ["127.0.0.1:80"]}}', "'127.0.0.1:80' is not http://HOST:PORT"),
        ('{"upstreams": {"catalog": []}}', "no addresses for catalog"),
    ],
)
def test_a_bad_upstreams_document_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    upstreams = tmp_path / "upstreams.json"
    upstreams.write_text(text)
    result = subprocess.run(
        [sys.executable, str(RENDER), "nginx", str(upstreams), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"render.py: error: {upstreams}: ") and expected in line, line
    assert not (tmp_path / "out").exists()
