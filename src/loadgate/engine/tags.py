"""Checking --tags and --exclude-tags against the tags a script declares, nested TaskSets too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loadgate.errors import ConfigError


def declared_tags(user_classes: Iterable[type]) -> set[str]:
    """Every tag set with @tag on a task or TaskSet reachable from these User classes.

    Duck-typed like Locust's own filter (a task holder has `tasks`, a tagged
    task has `locust_tag_set`), so it needs no Locust import.
    """
    tags: set[str] = set()
    seen: set[int] = set()
    holders: list[object] = list(user_classes)
    while holders:
        holder = holders.pop()
        if id(holder) in seen:  # a TaskSet may be reachable twice, or from itself
            continue
        seen.add(id(holder))
        tags.update(getattr(holder, "locust_tag_set", ()))
        for task in getattr(holder, "tasks", None) or ():
            if hasattr(task, "tasks"):
                holders.append(task)
            else:
                tags.update(getattr(task, "locust_tag_set", ()))
    return tags


def validate_tags(
    user_classes: Iterable[type], tags: Sequence[str], exclude_tags: Sequence[str]
) -> None:
    """ConfigError naming the first unknown tag and the tags the script has."""
    known = declared_tags(user_classes)
    for flag, given in (("--tags", tags), ("--exclude-tags", exclude_tags)):
        for tag in given:
            if tag not in known:
                choices = ", ".join(sorted(known)) if known else "none"
                raise ConfigError(
                    f"unknown tag {tag!r} in {flag}: the script declares these tags: {choices}"
                )
