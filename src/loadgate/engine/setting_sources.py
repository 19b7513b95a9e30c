"""Where each setting of `loadgate run` came from: a default, a config file, a variable, a flag.

configargparse records the config files and variables it read; the command
line is told apart by parsing it alone (see _typed_dests).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadgate.engine.locust_args import ParsedCommand

DEFAULT_SOURCE = "default"
COMMAND_LINE = "command line"
# Options that exist only to steer parsing; not shown as settings.
_NOT_SETTINGS = {"help", "version", "config", "print_config"}


def sources_of(parser: Any, argv: Sequence[str]) -> dict[str, str]:
    """dest -> where its value came from, for every value not left at its default."""
    sources: dict[str, str] = {}
    for key, settings in parser.get_source_to_settings_dict().items():
        if key == "environment_variables":
            for variable, (action, _value) in settings.items():
                sources[action.dest] = f"env {variable}"
        elif key.startswith("config_file|"):
            label = config_file_label(key.split("|", 1)[1])
            for _key, (action, _value) in settings.items():
                if action is not None:
                    sources[action.dest] = label
    for dest in _typed_dests(parser, argv):
        sources[dest] = COMMAND_LINE
    if os.environ.get("LOCUST_USER_CLASSES", "").split():
        sources["user_classes"] = "env LOCUST_USER_CLASSES"
    return sources


def _typed_dests(parser: Any, argv: Sequence[str]) -> set[str]:
    """The dests the command line itself sets, however spelt (`-u5`, `--user 5`, `--users=5`).

    argparse fills in a default only where the namespace has no value yet, so
    the command line alone is parsed into a namespace preset with a marker:
    what no longer holds the marker was typed.
    """
    unset = object()
    accumulating = (argparse._AppendAction, argparse._ExtendAction)
    preset = {
        action.dest: None if isinstance(action, accumulating) else unset
        for action in parser._actions
        if action.dest != argparse.SUPPRESS
    }
    args = [token for token in argv if token not in ("-h", "--help")]
    parsed, _ = argparse.ArgumentParser.parse_known_args(parser, args, argparse.Namespace(**preset))
    typed = {
        dest
        for dest, value in vars(parsed).items()
        if value is not unset and not (preset.get(dest) is None and value is None)
    }
    if not getattr(parsed, "user_classes", None):
        typed.discard("user_classes")  # argparse sets an empty positional to its default
    return typed


def config_file_label(path: str) -> str:
    """How a config file is named to users: ~/.locust.conf, ./locust.conf, ./pyproject.toml."""
    resolved = Path(path).expanduser().resolve()
    for name, label in (
        (Path("~/.locust.conf").expanduser(), "~/.locust.conf"),
        (Path("locust.conf"), "./locust.conf"),
        (Path("pyproject.toml"), "./pyproject.toml [tool.locust]"),
    ):
        if resolved == name.resolve():
            return label
    return f"--config {path}"


def print_config_rows(parsed: ParsedCommand) -> list[tuple[str, str, str]]:
    """(option, effective value, source) for every setting, the scripts' own included."""
    rows: list[tuple[str, str, str]] = []
    for dest, value in sorted(vars(parsed.options).items()):
        if dest in _NOT_SETTINGS:
            continue
        flag = parsed.flags.get(dest, dest)
        if dest in parsed.hidden and not parsed.given(dest):
            continue  # web UI and distributed defaults say nothing about a headless run
        source = parsed.source(dest)
        if dest in parsed.custom:
            source += " (script argument)"
        rows.append((flag, _shown(dest, value), source))
    return sorted(rows, key=lambda row: row[0].lstrip("-"))


def _shown(dest: str, value: object) -> str:
    if dest == "db_url" and isinstance(value, str) and "@" in value and ":" in value:
        scheme, _, rest = value.partition("://")
        credentials, _, location = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{location}"
    return repr(value) if isinstance(value, str) else str(value)
