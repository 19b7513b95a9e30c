"""The saved-test form: its fields read, every problem found at once, each naming its field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from loadgate.analysis.thresholds import parse_thresholds
from loadgate.duration import parse_duration
from loadgate.errors import ConfigError
from loadgate.model import SavedTest
from loadgate.stages import parse_stages
from loadgate.web.allow_list import check_target
from loadgate.web.schedule import check_cron

MAX_NAME_CHARS = 200
UPLOADED_PATH = "(uploaded)"
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class FormResult:
    """The test the form describes, or the problems that keep it from being one."""

    test: SavedTest | None
    problems: tuple[str, ...]


def _number(form: Mapping[str, str], field: str, kind: type[int] | type[float]) -> float:
    text = form.get(field, "").strip()
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{field}: must be a number above 0, not {text!r}") from None
    if not value > 0:
        raise ConfigError(f"{field}: must be above 0, not {text!r}")
    return value


def _script(form: Mapping[str, str], uploads_allowed: bool) -> tuple[str, str]:
    """(script_path, script_text): a file on this machine, or an uploaded script."""
    path = form.get("script_path", "").strip()
    text = form.get("script_text", "").strip()
    if path and text:
        raise ConfigError("script: give a path on the server or the script's text, not both")
    if text:
        if not uploads_allowed:
            raise ConfigError(
                "script: uploading a script needs a dashboard started with --token "
                "(anonymous clients may not post code); give a path on the server"
            )
        return UPLOADED_PATH, text + "\n"
    if not path:
        raise ConfigError("script: give the path of a locustfile on the dashboard's machine")
    if not Path(path).is_file():
        raise ConfigError(f"script: no file {path!r} on the dashboard's machine")
    return path, ""


class _Problems(list[str]):
    """The form's problems so far."""

    def check(self, make: Callable[[], T]) -> T | None:
        """make()'s value; None, with the problem noted, if it raises a ConfigError."""
        try:
            return make()
        except ConfigError as exc:
            self.append(str(exc))
            return None


def read_test_form(
    form: Mapping[str, str], *, uploads_allowed: bool, allowed_hosts: tuple[str, ...]
) -> FormResult:
    """The saved test the form describes; every field's problem, at once, otherwise."""
    problems = _Problems()
    name = form.get("name", "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        problems.append(f"name: give one of 1 to {MAX_NAME_CHARS} characters")
    script_path, script_text = problems.check(lambda: _script(form, uploads_allowed)) or ("", "")
    host = form.get("host", "").strip()
    problems.check(lambda: check_target(host, allowed_hosts))
    stages = form.get("stages", "").strip()
    run_time = form.get("run_time", "").strip()
    users, spawn_rate = 1, 1.0
    if stages:
        problems.check(lambda: parse_stages(stages, name="stages:"))
    else:
        users = int(problems.check(lambda: _number(form, "users", int)) or 1)
        spawn_rate = problems.check(lambda: _number(form, "spawn_rate", float)) or 1.0
        problems.check(lambda: parse_duration(run_time, name="run_time:"))
    thresholds = tuple(t.strip() for t in form.get("thresholds", "").splitlines() if t.strip())
    problems.check(lambda: parse_thresholds(thresholds))
    cron = " ".join(form.get("cron", "").split())
    if cron:
        problems.check(lambda: check_cron(cron))
    if problems:
        return FormResult(test=None, problems=tuple(problems))
    test = SavedTest(
        name=name,
        script_path=script_path,
        script_text=script_text,
        host=host,
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        stages=stages,
        thresholds=thresholds,
        baseline=form.get("baseline", "").strip(),
        cron=cron,
    )
    return FormResult(test=test, problems=())
