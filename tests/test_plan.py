"""The plan file: a good one read whole, every bad key and type named, all problems at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.analysis import DEFAULT_WINDOW_S
from loadgate.errors import ConfigError, ExitCode
from loadgate.plan import Plan, RunSettings, load_plan, merge_thresholds

GOOD = """
[run]
script = "scripts/locustfile.py"
users = 50
spawn_rate = 2.5
run_time = "5m"
host = "http://127.0.0.1:8080/"
name = "checkout"
tags = ["browse", "search"]
exclude_tags = ["slow"]

[thresholds]
checks = [
    "p95 < 300ms",
    "error_rate < 1% abort@30s",
    { expr = "status_5xx == 0", abort = true, window = "1m" },
    { expr = "rps > 10", abort = true },
    { expr = "p99 < 1s abort", abort = false },
]

[thresholds.endpoints]
"GET /v1/products" = ["p99 < 500ms"]
"GET /v1/products/:id" = ["p99 < 500ms", { expr = "error_rate < 1%", window = 20, abort = true }]

[compare]
baseline = "nightly"
"""


def write(tmp_path: Path, text: str, name: str = "loadgate.toml") -> Path:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    (tmp_path / "scripts" / "locustfile.py").write_text("")
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_plan(path)
    assert caught.value.exit_code is ExitCode.BAD_INPUT
    message = str(caught.value)
    if "\n" not in message:
        prefix = f"invalid plan {path}: "
        assert message.startswith(prefix)
        return [message.removeprefix(prefix)]
    header, *lines = message.splitlines()
    assert header == f"invalid plan {path}:"
    return [line.removeprefix("  ") for line in lines]


def test_a_good_plan(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, GOOD))
    assert plan.run == RunSettings(
        script=(tmp_path / "scripts" / "locustfile.py").resolve(),
        users=50,
        spawn_rate=2.5,
        run_time="5m",
        host="http://127.0.0.1:8080",
        name="checkout",
        tags=("browse", "search"),
        exclude_tags=("slow",),
    )
    assert plan.baseline == "nightly"
    assert plan.abort_on_fail is False
    assert [(t.text, t.endpoint, t.abort, t.window_s) for t in plan.thresholds] == [
        ("p95 < 300ms", None, False, DEFAULT_WINDOW_S),
        ("error_rate < 1% abort@30s", None, True, 30),
        ("status_5xx == 0", None, True, 60),
        ("rps > 10", None, True, DEFAULT_WINDOW_S),
        ("p99 < 1s abort", None, False, DEFAULT_WINDOW_S),
        ("GET /v1/products: p99 < 500ms", "GET /v1/products", False, DEFAULT_WINDOW_S),
        ("GET /v1/products/:id: p99 < 500ms", "GET /v1/products/:id", False, DEFAULT_WINDOW_S),
        ("GET /v1/products/:id: error_rate < 1%", "GET /v1/products/:id", True, 20),
    ]


def test_an_empty_plan_is_valid(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, ""))
    assert plan == Plan(path=tmp_path / "loadgate.toml", run=RunSettings())


def test_the_script_is_relative_to_the_plan_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '[run]\nscript = "scripts/locustfile.py"\n')
    monkeypatch.chdir("/")
    assert load_plan(path).run.script == (tmp_path / "scripts" / "locustfile.py").resolve()


def test_run_time_as_whole_seconds(tmp_path: Path) -> None:
    assert load_plan(write(tmp_path, "[run]\nrun_time = 90\n")).run.run_time == "90"


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        (
            'colour = "blue"',
            "unknown key 'colour': expected one of run, thresholds, compare, findings, scrape",
        ),
        ('run = "fast"', "run: expected a table, got 'fast'"),
        (
            "[run]\nusers_count = 3",
            "unknown key 'run.users_count': expected one of script, users, spawn_rate, "
            "run_time, stages, host, name, tags, exclude_tags, client, arrival_rate, "
            "arrival_stages, max_users, timings",
        ),
        (
            '[run]\narrival_rate = "fast"',
            "run.arrival_rate must be a rate such as 200/s or 600/m, not 'fast'",
        ),
        (
            "[run]\narrival_rate = 200",
            'run.arrival_rate: expected a rate such as "200/s" or "600/m", got 200',
        ),
        (
            '[run]\narrival_stages = "10s:5"',
            "run.arrival_stages: --arrival-stages '10s:5': '10s:5': the rate must be a rate "
            "such as 200/s or 600/m, not '5' (example: \"30s:50/s,1m:200/s,30s:0/s\")",
        ),
        ("[run]\nmax_users = -3", "run.max_users: expected a whole number, 0 or more, got -3"),
        ('[run]\nusers = "ten"', "run.users: expected a whole number, 0 or more, got 'ten'"),
        ("[run]\nusers = -1", "run.users: expected a whole number, 0 or more, got -1"),
        ("[run]\nusers = 2.5", "run.users: expected a whole number, 0 or more, got 2.5"),
        ("[run]\nusers = true", "run.users: expected a whole number, 0 or more, got True"),
        ("[run]\nspawn_rate = 0", "run.spawn_rate: expected a number above 0, got 0"),
        ('[run]\nspawn_rate = "1/s"', "run.spawn_rate: expected a number above 0, got '1/s'"),
        (
            '[run]\nrun_time = "5 minutes"',
            "run.run_time: expected a run time such as 30s, 5m or 1h30m, got '5 minutes'",
        ),
        (
            "[run]\nrun_time = 0",
            "run.run_time: expected a run time such as 30s, 5m or 1h30m, got 0",
        ),
        (
            '[run]\nhost = "localhost:8080"',
            "run.host: expected a base URL such as http://127.0.0.1:8080, got 'localhost:8080'",
        ),
        ("[run]\nhost = 8080", "run.host: expected a non-empty string, got 8080"),
        ('[run]\nname = " "', "run.name: expected a non-empty string, got ' '"),
        (
            '[run]\ntags = "browse"',
            'run.tags: expected a list of tag names, such as ["browse", "checkout"], '
            "got 'browse'",
        ),
        (
            "[run]\nexclude_tags = [1]",
            'run.exclude_tags: expected a list of tag names, such as ["browse", "checkout"], '
            "got [1]",
        ),
        ("[run]\nscript = 3", "run.script: expected a non-empty string, got 3"),
        (
            "[thresholds]\nlimits = []",
            "unknown key 'thresholds.limits': expected one of checks, endpoints, abort_on_fail",
        ),
        (
            '[thresholds]\nchecks = "p95 < 300ms"',
            'thresholds.checks: expected a list of checks, such as ["p95 < 300ms"], '
            "got 'p95 < 300ms'",
        ),
        (
            '[thresholds]\nchecks = ["p95 < fast"]',
            "thresholds.checks[0]: bad threshold 'p95 < fast': expected a number with an "
            "optional unit (ms, s, us, %) after '<'",
        ),
        (
            "[thresholds]\nchecks = [42]",
            'thresholds.checks[0]: expected an expression such as "p95 < 300ms" or a table '
            '{expr = "..."}, got 42',
        ),
        (
            "[thresholds]\nchecks = [{ abort = true }]",
            'thresholds.checks[0]: expected an expression in expr, such as "p95 < 300ms"',
        ),
        (
            "[thresholds]\nchecks = [{ expr = 1 }]",
            "thresholds.checks[0].expr: expected a non-empty string, got 1",
        ),
        (
            '[thresholds]\nchecks = [{ expr = "p95 < 1s", abort = "yes" }]',
            "thresholds.checks[0].abort: expected true or false, got 'yes'",
        ),
        (
            '[thresholds]\nchecks = [{ expr = "p95 < 1s", abort = true, window = "ten" }]',
            "thresholds.checks[0].window: expected a window such as 10s or 1m, got 'ten'",
        ),
        (
            '[thresholds]\nchecks = [{ expr = "p95 < 1s", abort = true, window = 0 }]',
            "thresholds.checks[0].window: expected a window such as 10s or 1m, got 0",
        ),
        (
            '[thresholds]\nchecks = [{ expr = "p95 < 1s", window = "10s" }]',
            "thresholds.checks[0].window: a window applies only with abort = true",
        ),
        (
            '[thresholds]\nchecks = [{ expr = "requests > 5", abort = true }]',
            "thresholds.checks[0].abort: requests > cannot abort a run: it is only known at the "
            "end of the run",
        ),
        (
            '[thresholds]\nchecks = [{ expr = "p95 < 1s", when = "always" }]',
            "unknown key 'thresholds.checks[0].when': expected one of expr, abort, window",
        ),
        (
            "[thresholds]\nabort_on_fail = 1",
            "thresholds.abort_on_fail: expected true or false, got 1",
        ),
        (
            '[thresholds]\nendpoints = ["GET /x"]',
            'thresholds.endpoints: expected a table such as {"GET /v1/x" = [...]}, '
            "got ['GET /x']",
        ),
        (
            '[thresholds.endpoints]\n"GET /x" = "p95 < 1s"',
            'thresholds.endpoints."GET /x": expected a list of checks, such as ["p95 < 300ms"], '
            "got 'p95 < 1s'",
        ),
        (
            '[thresholds.endpoints]\n"GET /x" = ["GET /y: p95 < 1s"]',
            "thresholds.endpoints.\"GET /x\"[0]: bad threshold 'GET /y: p95 < 1s': names its own "
            "endpoint, but it is a check of 'GET /x'",
        ),
        (
            '[thresholds.endpoints]\n"GET /x" = ["users_max > 3"]',
            "thresholds.endpoints.\"GET /x\"[0]: bad threshold 'GET /x: users_max > 3': "
            "users_max is a metric of the whole run: expected no endpoint",
        ),
        (
            '[thresholds.endpoints]\n" " = ["p95 < 1s"]',
            "thresholds.endpoints: expected an endpoint name, got ' '",
        ),
        ("[compare]\nbaseline = 3", "compare.baseline: expected a non-empty string, got 3"),
        (
            '[compare]\nbase = "x"',
            "unknown key 'compare.base': expected one of baseline",
        ),
    ],
)
def test_each_bad_key_or_type_is_named(tmp_path: Path, toml: str, problem: str) -> None:
    assert problems_of(tmp_path, toml) == [problem]


def test_a_missing_script_names_the_path_it_looked_for(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, '[run]\nscript = "nope.py"')
    assert problem == (
        "run.script: expected a locustfile relative to the plan file, got 'nope.py' "
        f"(no such file: {(tmp_path / 'nope.py').resolve()})"
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
colour = "blue"
[run]
users = "ten"
spawn_rate = 0
host = "localhost"
[thresholds]
checks = ["p95 < fast", "error_rate < 1%", { expr = "p95 < 1s", window = "10s" }]
[thresholds.endpoints]
"GET /x" = ["p99 <<< 3"]
[compare]
baseline = ""
""",
    )
    assert [p.split(":")[0] for p in problems] == [
        "unknown key 'colour'",
        "run.users",
        "run.spawn_rate",
        "run.host",
        "thresholds.checks[0]",
        "thresholds.checks[2].window",
        'thresholds.endpoints."GET /x"[0]',
        "compare.baseline",
    ]


def test_unreadable_plans(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the plan .*nope\.toml: no such file"):
        load_plan(tmp_path / "nope.toml")
    broken = write(tmp_path, "[run\nusers = 1\n", "broken.toml")
    with pytest.raises(ConfigError) as caught:
        load_plan(broken)
    assert str(caught.value).startswith(f"the plan {broken} is not valid TOML: ")
    assert "line 1" in str(caught.value)


def test_threshold_flags_add_to_the_plan_and_abort_on_fail_marks_them(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, '[thresholds]\nchecks = ["p95 < 300ms", "requests > 9"]\n'))
    merged = merge_thresholds(plan, ["error_rate < 1% abort@30s", "rps > 1"])
    assert [(t.text, t.abort, t.window_s) for t in merged] == [
        ("p95 < 300ms", False, DEFAULT_WINDOW_S),
        ("requests > 9", False, DEFAULT_WINDOW_S),
        ("error_rate < 1% abort@30s", True, 30),
        ("rps > 1", False, DEFAULT_WINDOW_S),
    ]
    marked = merge_thresholds(plan, ["error_rate < 1% abort@30s"], abort_on_fail=True)
    assert [(t.text, t.abort, t.window_s) for t in marked] == [
        ("p95 < 300ms", True, DEFAULT_WINDOW_S),
        ("requests > 9", False, DEFAULT_WINDOW_S),  # a lower bound on a count cannot abort
        ("error_rate < 1% abort@30s", True, 30),
    ]
    assert merge_thresholds(None, []) == ()
    with pytest.raises(ConfigError, match="bad threshold 'p95 < fast'"):
        merge_thresholds(plan, ["p95 < fast"])


def test_the_plans_abort_on_fail(tmp_path: Path) -> None:
    plan = load_plan(
        write(tmp_path, '[thresholds]\nabort_on_fail = true\nchecks = ["p95 < 300ms"]\n')
    )
    assert plan.abort_on_fail is True
    assert [t.abort for t in merge_thresholds(plan, [])] == [True]


def test_the_expected_rate_limit_is_checked_and_kept(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, '[findings]\nexpect_rate_limit = "GET /v1/search: 20/s"\n'))
    assert plan.expect_rate_limit == "GET /v1/search: 20/s"
    with pytest.raises(ConfigError, match=r"findings\.expect_rate_limit: bad rate limit 'lots'"):
        load_plan(write(tmp_path, '[findings]\nexpect_rate_limit = "lots"\n'))
    keyed = load_plan(write(tmp_path, '[findings]\nexpect_rate_limit = "20/s per X-API-Key"\n'))
    assert keyed.expect_rate_limit == "20/s per X-API-Key"
    with pytest.raises(ConfigError, match=r"findings\.expect_rate_limit: .* a request header's"):
        load_plan(write(tmp_path, '[findings]\nexpect_rate_limit = "20/s per X Y"\n'))


def test_stages_come_from_the_plan_and_bad_ones_are_named(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, '[run]\nstages = "30s:10, 1m:50@5"'))
    assert plan.run.stages == "30s:10, 1m:50@5"
    (problem,) = problems_of(tmp_path, '[run]\nstages = "30s:ten"')
    assert problem.startswith("run.stages: --stages '30s:ten'")


def test_the_scrape_section_is_checked_and_kept(tmp_path: Path) -> None:
    plan = load_plan(
        write(
            tmp_path,
            '[scrape]\nurls = ["http://127.0.0.1:9901/stats/prometheus"]\n'
            'series = "upstream_rq|breaker"\nbuiltin = false\n',
        )
    )
    assert plan.scrape.urls == ("http://127.0.0.1:9901/stats/prometheus",)
    assert plan.scrape.series == "upstream_rq|breaker"
    assert plan.scrape.builtin is False
    assert load_plan(write(tmp_path, "")).scrape.builtin is True
    problems = problems_of(
        tmp_path,
        '[scrape]\nurls = ["ftp://x/metrics"]\nseries = "(open"\nbuiltin = "no"\nevery = 2\n',
    )
    assert len(problems) == 4, problems
    assert problems[0].startswith("unknown key 'scrape.every'")
    assert any(p.startswith("scrape.urls[0] takes the URL") for p in problems)
    assert any(p.startswith("scrape.series takes a regular expression") for p in problems)
    assert any(p.startswith("scrape.builtin: expected true or false") for p in problems)


def test_the_client_comes_from_the_plan_and_a_bad_one_is_named(tmp_path: Path) -> None:
    assert load_plan(write(tmp_path, '[run]\nclient = "fast"')).run.client == "fast"
    assert load_plan(write(tmp_path, "")).run.client is None
    assert problems_of(tmp_path, '[run]\nclient = "quick"') == [
        'run.client: expected "fast" or "requests", got \'quick\''
    ]


def test_timings_come_from_the_plan_and_a_bad_value_is_named(tmp_path: Path) -> None:
    assert load_plan(write(tmp_path, "[run]\ntimings = true")).run.timings is True
    assert load_plan(write(tmp_path, "")).run.timings is None
    assert problems_of(tmp_path, '[run]\ntimings = "yes"') == [
        "run.timings: expected true or false, got 'yes'"
    ]
