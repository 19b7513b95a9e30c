"""--tags and --exclude-tags are checked against the script's tags, nested TaskSets included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from loadgate.engine.tags import declared_tags, validate_tags
from loadgate.errors import ConfigError


def tagged(*tags: str) -> Callable[..., Any]:
    def task(self: object) -> None:
        pass

    task.locust_tag_set = set(tags)  # type: ignore[attr-defined]
    return task


class Inner:
    tasks = [tagged("deep"), tagged()]  # noqa: RUF012


class Middle:
    tasks = [Inner, tagged("mid", "shared")]  # noqa: RUF012


class User:
    tasks = [Middle, tagged("top", "shared"), lambda self: None]  # noqa: RUF012


class Loop:
    tasks: ClassVar[list[Any]] = []


Loop.tasks.append(Loop)


def test_tags_are_found_through_nested_task_sets() -> None:
    assert declared_tags([User]) == {"deep", "mid", "shared", "top"}
    assert declared_tags([Loop]) == set()


def test_known_tags_pass() -> None:
    validate_tags([User], ["deep", "top"], ["shared"])


@pytest.mark.parametrize("flag", ["tags", "exclude_tags"])
def test_an_unknown_tag_is_named_with_the_known_ones(flag: str) -> None:
    tags, exclude = (["nope"], []) if flag == "tags" else ([], ["nope"])
    with pytest.raises(ConfigError, match=r"unknown tag 'nope' in .*: deep, mid, shared, top"):
        validate_tags([User], tags, exclude)


def test_a_script_without_tags_says_so() -> None:
    with pytest.raises(ConfigError, match="declares these tags: none"):
        validate_tags([Loop], ["x"], [])
