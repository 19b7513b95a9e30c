"""The Dockerfile: a Debian slim Python image running the installed `loadgate`, not as root."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest

from loadgate.engine.config import DEFAULT_MASTER_PORT
from tests.deploy.dockerfile import (
    DOCKERFILE,
    DOCKERIGNORE,
    REPO,
    Instruction,
    context_sources,
    exec_form,
    final_stage,
    ignored,
    image_uid,
    instructions,
    one,
)
from tests.e2e.conftest import loadgate_command

ALL = instructions(DOCKERFILE.read_text())
FINAL = final_stage(ALL)
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_the_base_is_debian_slim_with_the_projects_python() -> None:
    bases = [i.arguments for i in ALL if i.keyword == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:3\.11-slim-bookworm( AS \w+)?", base), base
    assert PROJECT["requires-python"] == ">=3.11"


def test_the_entrypoint_is_the_installed_console_script() -> None:
    assert exec_form(one(FINAL, "ENTRYPOINT")) == ["loadgate"]
    assert "loadgate" in PROJECT["scripts"]


def test_the_default_command_runs() -> None:
    """`docker run IMAGE` runs ENTRYPOINT + CMD: the same command, here, must succeed."""
    command = exec_form(one(FINAL, "CMD"))
    result = subprocess.run(
        [str(loadgate_command()), *command], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: loadgate" in result.stdout


def test_the_worker_port_is_exposed() -> None:
    exposed = [int(port.partition("/")[0]) for port in one(FINAL, "EXPOSE").arguments.split()]
    assert DEFAULT_MASTER_PORT in exposed


def test_it_runs_as_a_user_it_creates() -> None:
    uid = image_uid(FINAL)
    assert uid != 0
    created = " ".join(i.arguments for i in FINAL if i.keyword == "RUN")
    assert f"useradd --uid {uid} " in created
    # USER comes after the installation, which needs root.
    keywords = [i.keyword for i in FINAL]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_the_package_is_installed_with_pip_from_the_source() -> None:
    build = " ".join(i.arguments for i in ALL if i.keyword == "RUN")
    assert "pip wheel" in build and "pip install" in build
    sources = context_sources(ALL)
    # What `pip install .` needs: the metadata, the readme it names, the package.
    for needed in ("pyproject.toml", PROJECT["readme"], "src"):
        assert needed in sources, sources


@pytest.mark.parametrize(
    "path",
    ["pyproject.toml", "README.md", "src/loadgate/cli/run.py", "src/loadgate/gateway/default.toml"],
)
def test_dockerignore_sends_what_the_build_copies(path: str) -> None:
    assert (REPO / path).exists()
    assert not ignored(path, DOCKERIGNORE.read_text())


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", "tests/conftest.py", "src/loadgate/__pycache__/cli.cpython-311.pyc"],
)
def test_dockerignore_leaves_out_the_rest(path: str) -> None:
    assert ignored(path, DOCKERIGNORE.read_text())


def test_every_copied_source_is_sent() -> None:
    for source in context_sources(ALL):
        assert (REPO / source).exists(), source
        assert not ignored(source, DOCKERIGNORE.read_text()), source


def test_the_ignore_rules_are_read_as_docker_reads_them() -> None:
    rules = "*\n!src/\n**/__pycache__\n"
    assert ignored("tests", rules)
    assert not ignored("src/a/b.py", rules)
    assert ignored("src/a/__pycache__/b.pyc", rules)
    assert ignored("srcs/b.py", rules)
    assert not ignored("anything", "")


def test_continuation_lines_make_one_instruction() -> None:
    parsed = instructions("FROM x\n# note\nRUN a \\\n    && b\nUSER 1\n")
    assert parsed == [
        Instruction("FROM", "x"),
        Instruction("RUN", "a && b"),
        Instruction("USER", "1"),
    ]
