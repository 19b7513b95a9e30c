"""Loading a Locust script as Locust does, with one clear ScriptError for each way it can fail."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from locust.util.directory import get_abspaths_in
from locust.util.load_locustfile import load_locustfile

from loadgate.errors import ConfigError, ScriptError


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


def resolve_locustfiles(spec: str) -> tuple[Path, ...]:
    """The files `-f spec` means, as Locust resolves them: a file, a comma list, or folders.

    A folder stands for every .py file under it whose name does not start with
    "_" (Locust's rule). A missing file is reported when it is loaded.
    """
    paths: list[Path] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        if item.startswith(("http://", "https://")):
            raise ConfigError(
                f"-f {item}: a locustfile URL is not supported; download the script first"
            )
        if Path(item).is_dir():
            found = sorted(Path(p) for p in cast(Any, get_abspaths_in)(item, extension=".py"))
            if not found:
                raise ScriptError(f"the folder {item} holds no locustfile (.py file)")
            paths.extend(found)
        else:
            paths.append(Path(item))
    if not paths:
        raise ConfigError("-f/--locustfile is empty: give a file, a comma list or a folder")
    return tuple(dict.fromkeys(paths))


def load_scripts(paths: Sequence[Path]) -> LoadedScript:
    """Import every locustfile and merge what they define, as Locust does with -f a.py,b.py.

    The merged script is named after the first file; its text is every file's,
    each under a `# loadgate: file PATH` line, so the stored run keeps them all.
    """
    if len(paths) == 1:
        return load_script(paths[0])
    users: dict[str, type[Any]] = {}
    shapes: list[tuple[Path, Any]] = []
    texts: list[str] = []
    for path in paths:
        loaded = load_script(path, require_users=False)
        texts.append(f"# loadgate: file {path}\n{loaded.text}")
        for user_class in loaded.user_classes:
            known = users.get(user_class.__name__)
            if known is not None and known is not user_class:
                raise ScriptError(
                    f"two User classes named {user_class.__name__}: in {known.__module__} "
                    f"and in {path}; rename one"
                )
            users[user_class.__name__] = user_class
        if loaded.shape is not None:
            shapes.append((path, loaded.shape))
    if len(shapes) > 1:
        where = ", ".join(str(path) for path, _ in shapes)
        raise ScriptError(f"more than one LoadTestShape ({where}): a run can follow only one")
    merged = LoadedScript(
        path=paths[0],
        text="\n".join(texts),
        user_classes=tuple(users.values()),
        shape=shapes[0][1] if shapes else None,
    )
    _check_users(merged.user_classes, ", ".join(str(p) for p in paths))
    return merged


def select_users(script: LoadedScript, names: Sequence[str]) -> LoadedScript:
    """Only the User classes named (Locust's trailing arguments); all of them when none are."""
    if not names:
        return script
    by_name = {c.__name__: c for c in script.user_classes}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ConfigError(
            f"unknown User class {', '.join(unknown)}: the script defines "
            f"{', '.join(sorted(by_name))}"
        )
    chosen = tuple(by_name[name] for name in dict.fromkeys(names))
    return LoadedScript(path=script.path, text=script.text, user_classes=chosen, shape=script.shape)


def load_script(path: Path, *, require_users: bool = True) -> LoadedScript:
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
    if require_users:
        _check_users(tuple(user_classes.values()), str(path))
    return LoadedScript(
        path=path,
        text=text,
        user_classes=tuple(user_classes.values()),
        shape=shapes[0] if shapes else None,
    )


def _check_users(user_classes: tuple[type[Any], ...], where: str) -> None:
    if not user_classes:
        raise ScriptError(
            f"{where} defines no User class: it needs a subclass of locust's HttpUser, "
            "FastHttpUser or User"
        )
    if not any(c.weight > 0 or c.fixed_count > 0 for c in user_classes):
        raise ScriptError(f"{where}: every User class has weight 0 and no fixed_count")


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
