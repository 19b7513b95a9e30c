"""The dashboard's ASGI application: its routes, its gate, and errors as one-line pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from loadgate.errors import (
    InputError,
    LoadgateError,
    RunError,
    RunNotFoundError,
    StoreError,
    TestNotFoundError,
)
from loadgate.store import RunStore, default_db_url
from loadgate.web.assets import static_file
from loadgate.web.compare_page import compare_page
from loadgate.web.guard import Guard
from loadgate.web.launcher import Launcher
from loadgate.web.live import run_events, stop_run
from loadgate.web.live_feed import LiveFeeds
from loadgate.web.login import login_form, login_submit
from loadgate.web.page_cache import PageCache
from loadgate.web.regression_cache import RegressionCache
from loadgate.web.rendering import problem
from loadgate.web.run_page import run_download, run_page
from loadgate.web.runs_page import runs_page
from loadgate.web.scheduler import TICK_S, Scheduler
from loadgate.web.settings import DashboardSettings
from loadgate.web.tests_page import (
    create_saved_test,
    saved_test_page,
    saved_tests_page,
    start_saved_test,
)

log = logging.getLogger(__name__)


def _home(request: Request) -> Response:
    return RedirectResponse("/runs", status_code=303)


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem(request, 404, str(exc))


async def _bad_input(request: Request, exc: Exception) -> Response:
    return problem(request, 400, str(exc))


async def _store_down(request: Request, exc: Exception) -> Response:
    return problem(request, 503, str(exc))


async def _run_failed(request: Request, exc: Exception) -> Response:
    return problem(request, 502, str(exc))


async def _internal_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the dashboard's log (uvicorn's), never to the page.
    return problem(request, 500, "internal error: the dashboard's log has the details")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(request, exc.status_code, exc.detail)


def create_app(settings: DashboardSettings, store: RunStore) -> Starlette:
    """The dashboard over `store`; `settings` must have passed checked_settings.

    Runs it starts write to `settings.db_url` (the store's own URL, unmasked);
    they are stopped (SIGINT) when the app shuts down. While it runs, saved
    tests' schedules are checked every TICK_S.
    """
    launcher = Launcher(settings.db_url or default_db_url())
    scheduler = Scheduler(store, launcher, tuple(settings.allowed_hosts))

    async def run_schedules() -> None:
        while True:
            try:
                await anyio.to_thread.run_sync(scheduler.tick)
            except LoadgateError as exc:  # a store down for a while: the next tick retries
                log.warning("schedules not checked: %s", exc)
            await anyio.sleep(TICK_S)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run_schedules)
            yield
            tasks.cancel_scope.cancel()
        launcher.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", _home),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login_submit, methods=["POST"]),
            Route("/runs", runs_page),
            Route("/runs/{run_ref}", run_page),
            Route("/runs/{run_ref}/events", run_events),
            Route("/runs/{run_ref}/stop", stop_run, methods=["POST"]),
            Route("/runs/{run_ref}/{file}", run_download),
            Route("/tests", saved_tests_page, methods=["GET"]),
            Route("/tests", create_saved_test, methods=["POST"]),
            Route("/tests/{test_ref}", saved_test_page),
            Route("/tests/{test_ref}/start", start_saved_test, methods=["POST"]),
            Route("/compare", compare_page),
            Route("/static/{name}", static_file),
        ],
        middleware=[Middleware(Guard, token=settings.token)],
        exception_handlers={
            RunNotFoundError: _not_found,
            TestNotFoundError: _not_found,
            RunError: _run_failed,
            InputError: _bad_input,
            StoreError: _store_down,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.store = store
    app.state.settings = settings
    app.state.launcher = launcher
    app.state.page_cache = PageCache()
    app.state.regression_cache = RegressionCache()
    app.state.live_feeds = LiveFeeds(store)
    return app
