"""The login form: a browser gives the token once and gets the session cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from loadgate.web.guard import SESSION_COOKIE, form_of, safe_next_path, same_text, session_value
from loadgate.web.rendering import page
from loadgate.web.settings import DashboardSettings

SESSION_MAX_AGE_S = 7 * 24 * 3600


def login_form(request: Request) -> Response:
    """GET /login"""
    next_path = safe_next_path(request.query_params.get("next", "/"))
    return page(request, "login.html.j2", {"next_path": next_path, "error": ""})


def login_submit(request: Request) -> Response:
    """POST /login: the token right sets the session cookie; wrong, the form again (401)."""
    settings: DashboardSettings = request.app.state.settings
    form = form_of(request)
    next_path = safe_next_path(form.get("next", "/"))
    if settings.token is None:
        return RedirectResponse(next_path, status_code=303)
    if not same_text(form.get("token", ""), settings.token):
        context = {"next_path": next_path, "error": "that token is wrong"}
        return page(request, "login.html.j2", context, status=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_value(settings.token),
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
    )
    return response
