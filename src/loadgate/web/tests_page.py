"""Saved tests: the list and its form, a test's page (runs, trend), and starting one."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from loadgate.errors import TestNotFoundError
from loadgate.model import SavedTest
from loadgate.store import RunStore
from loadgate.store.listing import RunFilter
from loadgate.web.allow_list import check_target
from loadgate.web.guard import form_of
from loadgate.web.launcher import Launcher
from loadgate.web.rendering import page
from loadgate.web.runs_page import PAGE_SIZE, run_row
from loadgate.web.settings import DashboardSettings
from loadgate.web.test_form import read_test_form
from loadgate.web.trend import trend_of

FORM_DEFAULTS = {"users": "10", "spawn_rate": "2", "run_time": "1m"}


def _tests_page(
    request: Request, form: Mapping[str, str], problems: tuple[str, ...], status: int = 200
) -> Response:
    store: RunStore = request.app.state.store
    settings: DashboardSettings = request.app.state.settings
    context = {
        "tests": store.saved_tests(),
        "form": {**FORM_DEFAULTS, **form},
        "problems": problems,
        "uploads_allowed": settings.token is not None,
    }
    return page(request, "tests.html.j2", context, status=status)


def saved_tests_page(request: Request) -> Response:
    """GET /tests"""
    return _tests_page(request, {}, ())


def create_saved_test(request: Request) -> Response:
    """POST /tests: save the form's test; its problems (400) otherwise."""
    store: RunStore = request.app.state.store
    settings: DashboardSettings = request.app.state.settings
    form = form_of(request)
    result = read_test_form(
        form,
        uploads_allowed=settings.token is not None,
        allowed_hosts=tuple(settings.allowed_hosts),
    )
    if result.test is None:
        return _tests_page(request, form, result.problems, status=400)
    test_id = store.save_test(result.test)
    return RedirectResponse(f"/tests/{test_id}", status_code=303)


def requested_test(request: Request) -> SavedTest:
    store: RunStore = request.app.state.store
    text = str(request.path_params["test_ref"])
    if not text.isdigit():
        raise TestNotFoundError(f"no test {text!r}: a test is named by its id, a whole number")
    return store.saved_test(int(text))


def saved_test_page(request: Request) -> Response:
    """GET /tests/ID: its settings, its start button, its runs and their trend."""
    store: RunStore = request.app.state.store
    launcher: Launcher = request.app.state.launcher
    test = requested_test(request)
    listings = store.list_runs(PAGE_SIZE, RunFilter(name=test.name))
    trend = trend_of(store, listings, request.app.state.regression_cache)
    launch = launcher.launch_of_test(test.name)
    return page(
        request,
        "test.html.j2",
        {
            "test": test,
            "rows": [run_row(listing) for listing in listings],
            "trend": trend,
            "running_run_id": launch.run_id if launch is not None and launch.running() else None,
        },
    )


def start_saved_test(request: Request) -> Response:
    """POST /tests/ID/start: the host checked against the allow-list, then `loadgate run`."""
    settings: DashboardSettings = request.app.state.settings
    launcher: Launcher = request.app.state.launcher
    test = requested_test(request)
    check_target(test.host, tuple(settings.allowed_hosts))
    launch = launcher.start(test)
    return RedirectResponse(f"/runs/{launch.run_id}", status_code=303)
