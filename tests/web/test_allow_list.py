"""The allow-list: targets resolved, every address checked, refused before any process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.errors import ConfigError
from loadgate.model import SavedTest
from loadgate.store import RunStore
from loadgate.web import DashboardSettings
from loadgate.web.allow_list import check_target
from loadgate.web.guard import CSRF_COOKIE
from tests.web.conftest import SCRIPT, client_of

OUTSIDE = "http://10.255.0.1:9"


@pytest.mark.parametrize(
    "url",
    ["", "http://127.0.0.1:8080", "http://localhost:1", "https://[::1]:443", "http://127.9.9.9"],
)
def test_the_loopback_is_always_allowed(url: str) -> None:
    check_target(url, ())


def test_an_address_outside_is_refused_unless_listed() -> None:
    with pytest.raises(ConfigError, match=r"resolves to 10\.255\.0\.1, outside"):
        check_target(OUTSIDE, ())
    with pytest.raises(ConfigError, match="outside"):
        check_target(OUTSIDE, ("10.255.1.0/24", "192.0.2.7"))
    check_target(OUTSIDE, ("10.255.0.0/16",))
    check_target(OUTSIDE, ("10.255.0.1",))


def test_a_name_is_checked_by_every_address_it_resolves_to() -> None:
    # localhost resolves to loopback addresses only: allowed; listed by name, too.
    check_target("http://localhost:8080", ())
    check_target(OUTSIDE, ("localhost", "10.255.0.1"))


def test_a_target_that_is_not_an_http_url_is_refused() -> None:
    for url in ("ftp://127.0.0.1/", "127.0.0.1:8080", "http://"):
        with pytest.raises(ConfigError, match="must be a URL like"):
            check_target(url, ())


def test_starting_a_test_aimed_outside_is_refused_before_any_process(tmp_path: Path) -> None:
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        # Saved directly: the form would refuse it already; the start must check again.
        test_id = store.save_test(
            SavedTest(
                name="outside", script_path=SCRIPT, script_text="", host=OUTSIDE,
                users=1, spawn_rate=1, run_time="5s",
            )
        )  # fmt: skip
        with client_of(DashboardSettings(), store) as client:
            client.get("/tests")
            csrf = client.cookies[CSRF_COOKIE]
            response = client.post(f"/tests/{test_id}/start", data={"csrf_token": csrf})
            assert response.status_code == 400
            assert "10.255.0.1, outside the hosts" in response.text
            assert client.app.state.launcher.launch_of_test("outside") is None  # type: ignore[attr-defined]
        assert store.list_runs() == []
