"""Who may use the dashboard: token, login cookie, CSRF, Host, and the headers of every answer."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from loadgate.errors import ExitCode
from loadgate.store import RunStore
from loadgate.web import DashboardSettings
from loadgate.web.guard import CSRF_COOKIE, SESSION_COOKIE
from tests.e2e.conftest import assert_one_line_error, loadgate_command, run_loadgate
from tests.fixtures.ports import free_port, wait_for_port
from tests.web.conftest import StoredRuns, client_of

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture
def guarded(stored_runs: StoredRuns) -> Iterator[TestClient]:
    settings = DashboardSettings(token=TOKEN)
    with RunStore.open(stored_runs.db_url) as store, client_of(settings, store) as client:
        yield client


def _csrf(client: TestClient, path: str = "/login") -> str:
    """GET a page, as a browser would first, and return the CSRF cookie it set."""
    client.get(path)
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    return token


def test_binding_off_loopback_without_a_token_is_refused() -> None:
    result = run_loadgate("dashboard", "--host", "0.0.0.0", "--port", str(free_port()))
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "--token" in line and "0.0.0.0" in line


def test_a_short_token_is_refused() -> None:
    result = run_loadgate("dashboard", "--token", "short", "--port", str(free_port()))
    assert "at least 16 characters" in assert_one_line_error(result, ExitCode.BAD_INPUT)


def test_a_real_server_with_a_token_refuses_none_and_a_wrong_one(stored_runs: StoredRuns) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(loadgate_command()), "dashboard", "--port", str(port), "--db", stored_runs.db_url],
        env={"LOADGATE_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/runs"
        assert httpx.get(url).status_code == 401
        wrong = httpx.get(url, headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
        assert wrong.status_code == 401
        right = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert 'id="run-table"' in right.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_every_page_but_login_needs_the_token(guarded: TestClient) -> None:
    for path in ("/runs", "/static/report.css", "/runs?status=bogus", "/nowhere"):
        response = guarded.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert guarded.get("/login").status_code == 200


def test_a_browser_without_the_cookie_is_sent_to_the_login_form(guarded: TestClient) -> None:
    response = guarded.get("/runs?status=completed", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fruns%3Fstatus%3Dcompleted"


def test_the_login_form_sets_an_httponly_strict_cookie(guarded: TestClient) -> None:
    csrf = _csrf(guarded)
    wrong = guarded.post("/login", data={"token": "nope", "csrf_token": csrf, "next": "/runs"})
    assert wrong.status_code == 401
    assert "that token is wrong" in wrong.text
    assert SESSION_COOKIE not in guarded.cookies
    right = guarded.post("/login", data={"token": TOKEN, "csrf_token": csrf, "next": "/runs"})
    assert right.status_code == 303
    assert right.headers["location"] == "/runs"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert guarded.get("/runs").status_code == 200


def test_login_never_redirects_off_site(guarded: TestClient) -> None:
    csrf = _csrf(guarded)
    for target in ("https://evil.example/", "//evil.example/x"):
        response = guarded.post("/login", data={"token": TOKEN, "csrf_token": csrf, "next": target})
        assert response.headers["location"] == "/"


def test_a_state_changing_request_without_the_csrf_token_is_refused(guarded: TestClient) -> None:
    csrf = _csrf(guarded)
    missing = guarded.post("/login", data={"token": TOKEN})
    assert missing.status_code == 403
    assert "CSRF" in missing.text
    forged = guarded.post("/login", data={"token": TOKEN, "csrf_token": csrf + "x"})
    assert forged.status_code == 403
    other_site = guarded.post(
        "/login",
        data={"token": TOKEN, "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert SESSION_COOKIE not in guarded.cookies


def test_the_csrf_header_works_too(guarded: TestClient) -> None:
    csrf = _csrf(guarded)
    response = guarded.post("/login", data={"token": TOKEN}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 303


def test_without_a_token_only_loopback_host_names_are_answered(dashboard: TestClient) -> None:
    assert dashboard.get("/runs").status_code == 200
    assert dashboard.get("/runs", headers={"Host": "localhost:8089"}).status_code == 200
    rebound = dashboard.get("/runs", headers={"Host": "attacker.example:8089"})
    assert rebound.status_code == 403


def test_every_answer_carries_the_security_headers(dashboard: TestClient) -> None:
    for path in ("/runs", "/runs?status=bogus", "/static/plotly.min.js", "/nowhere"):
        headers = dashboard.get(path).headers
        csp = headers["content-security-policy"]
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert script_src.strip() == "script-src 'self'", path
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
