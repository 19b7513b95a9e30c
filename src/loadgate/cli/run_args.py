"""`loadgate run`'s command line, Locust's own, turned into one run (or an answer: --list, --help).

Imported only by `loadgate run`, after the engine: parsing needs Locust's parser,
and the scripts must be imported before the second pass so that their own
arguments (init_command_line_parser) are known.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from loadgate.analysis.rate_limit import ExpectedRateLimit, parse_rate_limit
from loadgate.arrival_rate import (
    DEFAULT_MAX_USERS,
    ArrivalPlan,
    parse_arrival_stages,
    parse_rate,
)
from loadgate.cli.run_outputs import RunOutputs
from loadgate.engine.config import DEFAULT_EXPECT_WORKERS_MAX_WAIT_S, MasterConfig, RunConfig
from loadgate.engine.locust_args import (
    ParsedCommand,
    build_parser,
    first_pass,
    help_text,
    second_pass,
    split_locustfiles,
)
from loadgate.engine.locustfile import (
    LoadedScript,
    load_scripts,
    resolve_locustfiles,
    select_users,
)
from loadgate.engine.setting_sources import COMMAND_LINE, DEFAULT_SOURCE, print_config_rows
from loadgate.errors import ConfigError, ScriptError
from loadgate.plan import Plan, ScrapeSettings, load_plan, merge_thresholds
from loadgate.scrape.settings import checked_pattern, checked_url
from loadgate.stages import parse_stages

DEFAULT_LOCUSTFILE = "locustfile.py"


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """A run the command line asks for, its script already imported."""

    config: RunConfig
    outputs: RunOutputs
    script: LoadedScript
    db_url: str | None
    quiet: bool
    warnings: tuple[str, ...]
    # Locust's own JSON: `--json` alone prints it, `--json-file NAME` saves NAME.json.
    locust_json_stdout: bool = False
    locust_json_file: str | None = None


def tag_list(values: Sequence[str] | None) -> tuple[str, ...]:
    """`-T a -T b`, `-T a b` and `-T a,b` all mean the tags a and b."""
    return tuple(tag.strip() for value in values or () for tag in value.split(",") if tag.strip())


def checked_host(host: str | None) -> str | None:
    if host is None:
        return None
    parts = urlsplit(host.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"the host must be a base URL like http://127.0.0.1:8080 or https://api.example.com, "
            f"not {host!r}"
        )
    return host.strip().rstrip("/")


def checked_processes(processes: int | None) -> int | None:
    """Locust's --processes: -1 (one per core) or at least 1; None or 0: one process."""
    if not processes:
        return None
    if processes < -1:
        raise ConfigError(
            f"--processes must be -1 (one per core) or at least 1, but is {processes}"
        )
    return processes


def master_config(options: Any) -> MasterConfig | None:
    """Locust's --master and its options (--expect-workers-max-wait 0 means our bound)."""
    if not options.master:
        return None
    if options.processes:
        raise ConfigError(
            "--master and --processes cannot be combined: --processes starts its own master"
        )
    max_wait_s = float(options.expect_workers_max_wait or DEFAULT_EXPECT_WORKERS_MAX_WAIT_S)
    return MasterConfig(
        bind_host=options.master_bind_host,
        bind_port=options.master_bind_port,
        expect_workers=options.expect_workers,
        max_wait_s=max_wait_s,
    )


def arrival_plan(options: Any) -> ArrivalPlan | None:
    """--arrival-rate or --arrival-stages with --max-users: the open model, or None."""
    rate, stages = options.arrival_rate, options.arrival_stages
    if rate is None and stages is None:
        if options.max_users is not None:
            raise ConfigError("--max-users needs --arrival-rate or --arrival-stages")
        return None
    if rate is not None and stages is not None:
        raise ConfigError("give --arrival-rate or --arrival-stages, not both")
    if options.stages:
        raise ConfigError(
            "--stages (users over time, the closed model) cannot be combined with "
            "--arrival-rate or --arrival-stages (iterations per second, the open model)"
        )
    if stages is not None and options.run_time is not None:
        raise ConfigError("--arrival-stages sets the run time: leave out -t/--run-time")
    users = options.num_users or 0
    max_users = (
        options.max_users if options.max_users is not None else max(DEFAULT_MAX_USERS, users)
    )
    if max_users < 1 or max_users < users:
        raise ConfigError(
            f"--max-users must be at least 1 and at least -u/--users ({users}), not {max_users}"
        )
    if rate is not None:
        return ArrivalPlan(rate_per_s=parse_rate(rate), max_users=max_users)
    return ArrivalPlan(stages=parse_arrival_stages(stages), max_users=max_users)


def parse_run(argv: Sequence[str]) -> RunRequest | None:
    """The run `argv` asks for; None when it was answered here (--list, --print-config, ...)."""
    wants_help = "-h" in argv or "--help" in argv
    args = _with_locustfiles(argv)
    first, sources = first_pass(args)
    plan = load_plan(Path(first.plan_path)) if first.plan_path else None
    try:
        spec = _locustfile_spec(first.locustfile, sources.get("locustfile", DEFAULT_SOURCE), plan)
        script = load_scripts(resolve_locustfiles(spec))
    except (ScriptError, ConfigError):
        if wants_help:
            click.echo(help_text())
            return None
        raise
    parsed = second_pass(args, [c.__name__ for c in script.user_classes])
    options = parsed.options
    options.headless = True  # whatever a config file says: loadgate run has no web UI
    if plan is not None:
        _apply_plan(parsed, plan)
    if options.print_config:
        _print_config(parsed)
        return None
    if options.list_commands:
        click.echo("Available Users:")
        for user_class in script.user_classes:
            click.echo(f"    {user_class.__name__}")
        return None
    script = select_users(script, options.user_classes or ())
    if options.show_task_ratio or options.show_task_ratio_json:
        from loadgate.engine.locust_args import print_task_ratio

        print_task_ratio(script.user_classes, options.num_users, json=options.show_task_ratio_json)
        return None
    _check_user_configs(options.config_users or [], script)
    if options.stats_history_enabled and options.csv_prefix is None:
        raise ConfigError("--csv-full-history needs --csv PREFIX")
    _setup_logging(parsed)
    return _request(parsed, plan, script, spec)


def _check_user_configs(config_lists: list[list[dict[str, Any]]], script: LoadedScript) -> None:
    """--config-users may only name the User classes that run: checked before any load."""
    names = {c.__name__ for c in script.user_classes}
    for config in (config for configs in config_lists for config in configs):
        if config["user_class_name"] not in names:
            raise ConfigError(
                f"--config-users names the User class {config['user_class_name']!r}, which is "
                f"not running (these are: {', '.join(sorted(names))})"
            )


def _with_locustfiles(argv: Sequence[str]) -> list[str]:
    """`loadgate run a.py b.py -u 5` as `-f a.py,b.py -u 5`."""
    scripts, rest = split_locustfiles(argv, build_parser(script_options=False))
    if not scripts:
        return rest
    if any(token in ("-f", "--locustfile") or token.startswith("--locustfile=") for token in rest):
        raise ConfigError("give the locustfile once: as LOCUSTFILE or with -f, not both")
    return ["-f", ",".join(scripts), *rest]


def _locustfile_spec(given: str, source: str, plan: Plan | None) -> str:
    if plan is not None and plan.run.script is not None and _below_plan(source):
        return str(plan.run.script)
    if source == DEFAULT_SOURCE and not Path(given).exists():
        raise ConfigError(
            f"give a LOCUSTFILE (or -f FILE), or a --plan whose [run] section names a script: "
            f"there is no {DEFAULT_LOCUSTFILE} here"
        )
    return given


def _below_plan(source: str) -> bool:
    """Defaults and config files give way to a plan file; LOCUST_* and flags do not."""
    return source != COMMAND_LINE and not source.startswith("env ")


def _apply_plan(parsed: ParsedCommand, plan: Plan) -> None:
    from loadgate.duration import parse_duration

    run = plan.run
    values: dict[str, object] = {
        "num_users": run.users,
        "spawn_rate": run.spawn_rate,
        "run_time": parse_duration(run.run_time) if run.run_time is not None else None,
        "host": run.host,
        "stages": run.stages,
        "client": run.client,
        "timings": run.timings,
        "arrival_rate": run.arrival_rate,
        "arrival_stages": run.arrival_stages,
        "max_users": run.max_users,
        "name": run.name,
        "tags": list(run.tags) if run.tags else None,
        "exclude_tags": list(run.exclude_tags) if run.exclude_tags else None,
        "baseline_name": plan.baseline,
        "locustfile": str(run.script) if run.script is not None else None,
        "scrape_series": plan.scrape.series,
        "expect_rate_limit": plan.expect_rate_limit,
    }
    for dest, value in values.items():
        if value is not None and _below_plan(parsed.source(dest)):
            setattr(parsed.options, dest, value)
            parsed.sources[dest] = f"plan {plan.path}"


def _print_config(parsed: ParsedCommand) -> None:
    rows = print_config_rows(parsed)
    width = max(len(flag) for flag, _, _ in rows)
    value_width = min(40, max(len(value) for _, value, _ in rows))
    for flag, value, source in rows:
        click.echo(f"{flag:<{width}}  {value:<{value_width}}  {source}")
    for warning in parsed.warnings:
        click.echo(f"loadgate: warning: {warning}", err=True)


def _setup_logging(parsed: ParsedCommand) -> None:
    """--loglevel and --logfile, when given; otherwise the run's own set-up (warnings on stderr)."""
    options = parsed.options
    if not (parsed.given("loglevel") or parsed.given("logfile")):
        return
    handler: logging.Handler
    if options.logfile:
        handler = logging.FileHandler(options.logfile)
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s/%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s/%(name)s: %(message)s"))
    # The run's own basicConfig() leaves a root logger with handlers alone.
    logging.basicConfig(level=options.loglevel, handlers=[handler])


def _html_path(options: Any) -> Path | None:
    """--html FILE (Locust's) or --report FILE; Locust's {u}, {r}, {t} are filled in."""
    path = options.report_path or options.html_file
    if path is None:
        return None
    for term, value in (("{u}", options.num_users), ("{r}", options.spawn_rate),
                        ("{t}", options.run_time)):  # fmt: skip
        if value is not None:
            number = float(value)
            path = path.replace(term, str(int(number)) if number.is_integer() else str(value))
    return Path(path)


def _json_path(options: Any) -> Path | None:
    """loadgate's JSON summary, `--json FILE` (`--json` alone and --json-file are Locust's)."""
    return Path(options.json) if isinstance(options.json, str) else None


def _scrape_settings(options: Any, plan: Plan | None) -> dict[str, Any]:
    """RunConfig's scrape fields: the plan's [scrape], then --scrape, --no-scrape and co."""
    urls = [checked_url(url) for url in options.scrape_urls]
    if options.no_scrape and urls:
        raise ConfigError("--no-scrape and --scrape cannot be combined: give one or the other")
    scrape = plan.scrape if plan is not None else ScrapeSettings()
    if options.no_scrape:
        return {"scrape_urls": (), "scrape_builtin": False, "scrape_series": None}
    series = options.scrape_series  # the plan's, unless given otherwise (_apply_plan)
    return {
        "scrape_urls": tuple(dict.fromkeys([*scrape.urls, *urls])),
        "scrape_builtin": scrape.builtin,
        "scrape_series": checked_pattern(series) if series is not None else None,
    }


def _request(
    parsed: ParsedCommand, plan: Plan | None, script: LoadedScript, spec: str
) -> RunRequest:
    options = parsed.options
    thresholds = merge_thresholds(
        plan, options.threshold_exprs, abort_on_fail=options.abort_on_fail
    )
    items = [item.strip() for item in spec.split(",") if item.strip()]
    default_name = Path(items[0]).name if Path(items[0]).is_dir() else script.path.stem
    if options.num_users is not None and options.num_users < 0:
        raise ConfigError(f"-u/--users must be 0 or more, not {options.num_users}")
    tags, exclude_tags = tag_list(options.tags), tag_list(options.exclude_tags)
    host = checked_host(options.host)
    arrival = arrival_plan(options)
    rate_limit = _expected_rate_limit(options.expect_rate_limit)
    config = RunConfig(
        script_path=script.path,
        name=(options.name or default_name).strip() or default_name,
        users=options.num_users,
        spawn_rate_per_s=options.spawn_rate,
        run_time_s=options.run_time
        if arrival is None or arrival.duration_s is None
        else arrival.duration_s,
        host=host,
        tags=tags,
        exclude_tags=exclude_tags,
        thresholds=tuple(threshold.text for threshold in thresholds),
        expect_rate_limit=rate_limit.text if rate_limit is not None else None,
        rate_limit_key_header=rate_limit.key_header if rate_limit is not None else None,
        **_scrape_settings(options, plan),
        locust_options=options,
        custom_arguments={dest: getattr(options, dest, None) for dest in parsed.custom},
        processes=checked_processes(options.processes),
        stages=parse_stages(options.stages) if options.stages else (),
        master=master_config(options),
        client=options.client,
        timings=bool(options.timings),
        arrival=arrival,
    )
    # What Locust's main() would have made of them, for scripts that read parsed_options.
    options.num_users = config.users_or_default
    options.spawn_rate = config.spawn_rate_or_default
    options.host = host
    options.tags = list(tags) or None
    options.exclude_tags = list(exclude_tags) or None
    options.headless = True
    options.locustfile = spec
    outputs = RunOutputs(
        json_path=_json_path(options),
        report_path=_html_path(options),
        junit_path=Path(options.junit_path) if options.junit_path else None,
        csv_prefix=Path(options.csv_prefix) if options.csv_prefix else None,
        thresholds=thresholds,
        baseline_name=options.baseline_name,
        tables_to_stderr=options.json is True,
        exit_code_on_error=options.exit_code_on_error,
    )
    return RunRequest(
        config=config,
        outputs=outputs,
        script=script,
        db_url=options.db_url,
        quiet=bool(options.quiet or options.only_summary or options.json is True),
        warnings=parsed.warnings,
        locust_json_stdout=options.json is True,
        locust_json_file=options.json_file,
    )


def _expected_rate_limit(text: str | None) -> ExpectedRateLimit | None:
    """--expect-rate-limit (or the plan's); a per-key limit names the header to count."""
    if text is None or not text.strip():
        return None
    try:
        return parse_rate_limit(text)
    except ConfigError as exc:
        raise ConfigError(f"--expect-rate-limit: {exc}") from exc
