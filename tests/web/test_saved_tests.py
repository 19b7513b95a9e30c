"""Saved tests through the form: saved as given, bad input named field by field, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from loadgate.store import RunStore
from loadgate.web import DashboardSettings
from loadgate.web.guard import CSRF_COOKIE
from tests.web.conftest import SCRIPT, client_of

GOOD = {
    "name": "checkout",
    "script_path": SCRIPT,
    "users": "4",
    "spawn_rate": "2",
    "run_time": "20s",
    "thresholds": "p95 < 300ms\r\nerror_rate < 1%",
    "baseline": "checkout",
}
TOKEN = "saved-tests-token-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as opened:
        yield opened


def _post(client: TestClient, form: dict[str, str]) -> object:
    client.get("/tests")
    return client.post("/tests", data={**form, "csrf_token": client.cookies[CSRF_COOKIE]})


def _problems(html: str) -> list[str]:
    return re.findall(r'<li class="problem">([^<]*)</li>', html)


def test_a_saved_test_is_stored_as_given(store: RunStore) -> None:
    with client_of(DashboardSettings(), store) as client:
        response = _post(client, GOOD)
        assert response.status_code == 303  # type: ignore[attr-defined]
        page = client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    [test] = store.saved_tests()
    assert (test.name, test.script_path, test.script_text) == ("checkout", SCRIPT, "")
    assert (test.users, test.spawn_rate, test.run_time) == (4, 2.0, "20s")
    assert test.thresholds == ("p95 < 300ms", "error_rate < 1%")
    assert "Test checkout" in page and 'id="start-form"' in page


def test_bad_input_is_every_problem_at_once(store: RunStore) -> None:
    bad = {**GOOD, "name": "", "script_path": "missing.py", "users": "many",
           "run_time": "soon", "thresholds": "p95 <"}  # fmt: skip
    with client_of(DashboardSettings(), store) as client:
        response = _post(client, bad)
    assert response.status_code == 400  # type: ignore[attr-defined]
    problems = _problems(response.text)  # type: ignore[attr-defined]
    assert len(problems) == 5, problems
    for expected in ("name:", "no file &#39;missing.py&#39;", "users:", "run_time:", "threshold"):
        assert any(expected in p for p in problems), expected
    assert store.saved_tests() == []


def test_bad_stages_a_bad_cron_and_a_name_taken_are_refused(store: RunStore) -> None:
    with client_of(DashboardSettings(), store) as client:
        _post(client, GOOD)
        taken = _post(client, GOOD)
        stages = _post(client, {**GOOD, "name": "ramp", "stages": "30s:ten"})
        cron = _post(client, {**GOOD, "name": "nightly", "cron": "at night"})
    assert taken.status_code == 400  # type: ignore[attr-defined]
    assert "exists already" in taken.text  # type: ignore[attr-defined]
    assert stages.status_code == 400  # type: ignore[attr-defined]
    # Named as the form's field, not as `loadgate run`'s flag.
    [stages_problem] = _problems(stages.text)  # type: ignore[attr-defined]
    assert stages_problem.startswith("stages: &#39;30s:ten&#39;"), stages_problem
    assert "--stages" not in stages_problem
    assert cron.status_code == 400  # type: ignore[attr-defined]
    assert any(p.startswith("cron:") for p in _problems(cron.text))  # type: ignore[attr-defined]
    assert [t.name for t in store.saved_tests()] == ["checkout"]


def test_only_a_dashboard_with_a_token_takes_a_scripts_text(store: RunStore) -> None:
    upload = {**GOOD, "script_path": "", "script_text": "from locust import HttpUser\n"}
    with client_of(DashboardSettings(), store) as client:
        refused = _post(client, upload)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "needs a dashboard started with --token" in refused.text  # type: ignore[attr-defined]
    with client_of(DashboardSettings(token=TOKEN), store) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        accepted = client.post("/tests", data=upload)
    assert accepted.status_code == 303
    [test] = store.saved_tests()
    assert test.script_text == "from locust import HttpUser\n"


def test_an_unknown_test_is_a_404_with_one_line(store: RunStore) -> None:
    with client_of(DashboardSettings(), store) as client:
        for path in ("/tests/41", "/tests/x"):
            response = client.get(path)
            assert response.status_code == 404
            assert re.search(r'id="problem-line">no (saved )?test', response.text)
