"""The dashboard's ASGI application: its routes, its gate, and errors as one-line pages."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from loadgate.errors import InputError, RunNotFoundError, StoreError
from loadgate.store import RunStore
from loadgate.web.assets import static_file
from loadgate.web.compare_page import compare_page
from loadgate.web.guard import Guard
from loadgate.web.login import login_form, login_submit
from loadgate.web.rendering import problem
from loadgate.web.run_page import run_download, run_page
from loadgate.web.runs_page import runs_page
from loadgate.web.settings import DashboardSettings


def _home(request: Request) -> Response:
    return RedirectResponse("/runs", status_code=303)


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem(request, 404, str(exc))


async def _bad_input(request: Request, exc: Exception) -> Response:
    return problem(request, 400, str(exc))


async def _store_down(request: Request, exc: Exception) -> Response:
    return problem(request, 503, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(request, exc.status_code, exc.detail)


def create_app(settings: DashboardSettings, store: RunStore) -> Starlette:
    """The dashboard over `store`; `settings` must have passed checked_settings."""
    app = Starlette(
        routes=[
            Route("/", _home),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login_submit, methods=["POST"]),
            Route("/runs", runs_page),
            Route("/runs/{run_ref}", run_page),
            Route("/runs/{run_ref}/{file}", run_download),
            Route("/compare", compare_page),
            Route("/static/{name}", static_file),
        ],
        middleware=[Middleware(Guard, token=settings.token)],
        exception_handlers={
            RunNotFoundError: _not_found,
            InputError: _bad_input,
            StoreError: _store_down,
            HTTPException: _http_error,
        },
    )
    app.state.store = store
    app.state.settings = settings
    return app
