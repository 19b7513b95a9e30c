"""Loading a Locust script as Locust does, with one clear ScriptError for each way it can fail."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust.util.load_locustfile import load_locustfile

from loadgate.errors import ScriptError


@dataclass(frozen=True, kw_only=True)
class LoadedScript:
    """A script's text and what Locust found in it."""

    path: Path
    text: str
    user_classes: tuple[type[Any], ...]
    shape: Any | None  # a LoadTestShape instance, as Locust makes it

    @property
    def shape_name(self) -> str | None:
        return None if self.shape is None else type(self.shape).__name__


def load_script(path: Path) -> LoadedScript:
    """Import the locustfile at `path` (its module-level code runs) and find its Users and shape."""
    text = _read(path)
    try:
        user_classes, shapes = load_locustfile(str(path))
    except SyntaxError as exc:
        line = f", line {exc.lineno}" if exc.lineno else ""
        raise ScriptError(f"{path}{line}: syntax error: {exc.msg}") from exc
    except SystemExit as exc:
        raise ScriptError(f"{path}: the script exited while loading (code {exc.code})") from exc
    except Exception as exc:
        raise ScriptError(f"{path}{_line_in(path, exc)}: {type(exc).__name__}: {exc}") from exc
    if not user_classes:
        raise ScriptError(
            f"{path} defines no User class: it needs a subclass of locust's HttpUser, "
            "FastHttpUser or User"
        )
    if not any(c.weight > 0 or c.fixed_count > 0 for c in user_classes.values()):
        raise ScriptError(f"{path}: every User class has weight 0 and no fixed_count")
    return LoadedScript(
        path=path,
        text=text,
        user_classes=tuple(user_classes.values()),
        shape=shapes[0] if shapes else None,
    )


def _read(path: Path) -> str:
    if not path.exists():
        raise ScriptError(f"the locustfile {path} does not exist")
    if not path.is_file():
        raise ScriptError(f"the locustfile {path} is not a file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScriptError(f"the locustfile {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise ScriptError(f"cannot read the locustfile {path}: {exc.strerror}") from exc


def _line_in(path: Path, exc: BaseException) -> str:
    """ ", line N" of the deepest frame of the traceback that is in the script, if any."""
    resolved = str(path.resolve())
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename and str(Path(frame.filename).resolve()) == resolved
    ]
    return f", line {lines[-1]}" if lines else ""
