"""Pages of the dashboard: its templates (beside the report's, which it includes) and errors.

Every page is rendered with the request's CSRF token (for its forms) and
Jinja's autoescape: names, scripts and messages from runs are text, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from loadgate import __version__
from loadgate.report.html import template_environment
from loadgate.web.guard import csrf_token_of


@cache
def environment() -> jinja2.Environment:
    """The report's Jinja set-up, with the dashboard's templates found first."""
    return template_environment("loadgate.web")


def page(
    request: Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> HTMLResponse:
    """`template` rendered as a whole page of the dashboard."""
    document = (
        environment()
        .get_template(template)
        .render(
            {
                **context,
                "csrf_token": csrf_token_of(request),
                "version": __version__,
                "path": request.url.path,
            }
        )
    )
    return HTMLResponse(document, status_code=status)


def problem(request: Request, status: int, line: str) -> HTMLResponse:
    """A 4xx (or 503) page that says what was wrong in one line."""
    return page(request, "problem.html.j2", {"status": status, "line": line}, status=status)
