"""Ended runs' pages are rendered once, running ones never kept; a changed run misses."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from loadgate.model import RunInfo, RunStatus
from loadgate.web.page_cache import PageCache, page_key
from tests.builders import STARTED_AT, run_info


def _ended(run_id: int = 1) -> RunInfo:
    return run_info(run_id=run_id, duration_s=30.0)


def test_an_ended_runs_page_is_rendered_once() -> None:
    cache = PageCache()
    renders: list[int] = []

    def render() -> str:
        renders.append(1)
        return f"page {len(renders)}"

    key = page_key(_ended())
    assert cache.get_or_render(key, render) == "page 1"
    assert cache.get_or_render(key, render) == "page 1"
    assert len(renders) == 1


def test_what_changes_a_run_changes_its_key() -> None:
    ended = _ended()
    keys = {
        page_key(ended),
        page_key(replace(ended, is_baseline=True)),
        page_key(replace(ended, status=RunStatus.ABORTED)),
        page_key(replace(ended, heartbeat_at=STARTED_AT + timedelta(hours=1))),
        page_key(replace(ended, ended_at=STARTED_AT + timedelta(seconds=31))),
    }
    assert len(keys) == 5


def test_running_and_lost_runs_are_never_kept() -> None:
    running = replace(_ended(), status=RunStatus.RUNNING, ended_at=None)
    assert page_key(running) is None
    assert page_key(replace(running, status=RunStatus.LOST)) is None
    cache = PageCache()
    pages = iter(["first", "second"])
    assert cache.get_or_render(None, lambda: next(pages)) == "first"
    assert cache.get_or_render(None, lambda: next(pages)) == "second"


def test_the_cache_keeps_the_most_recent_pages_only() -> None:
    cache = PageCache(max_pages=2)
    for run_id in (1, 2, 3):
        cache.get_or_render(page_key(_ended(run_id)), lambda: "old")
    cache.get_or_render(page_key(_ended(3)), lambda: "new")  # kept: still "old"
    assert cache.get_or_render(page_key(_ended(3)), lambda: "new") == "old"
    assert cache.get_or_render(page_key(_ended(1)), lambda: "new") == "new"  # evicted
