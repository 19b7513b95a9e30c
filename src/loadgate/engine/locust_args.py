"""Locust's own command-line parser, extended with loadgate's options; where each value came from.

Locust's parser (configargparse) already knows Locust's precedence: defaults,
then ~/.locust.conf, ./locust.conf, ./pyproject.toml [tool.locust], --config
FILE (a later file wins), then LOCUST_* variables, then the command line. Using
it, rather than copying its rules, keeps `loadgate run` in step with the
installed Locust and gives scripts' `init_command_line_parser` arguments the
same precedence. loadgate's own options are added to it, so config files and
LOADGATE_* variables can set them too.

Parsing is two passes, as in Locust's main(): the first finds the locustfiles
(-f may come from a config file), the caller imports them (which registers
their argument listeners), the second parses everything.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import locust
from locust import argument_parser
from locust.argument_parser import LocustArgumentParser, get_empty_argument_parser

from loadgate import __version__
from loadgate.duration import parse_duration
from loadgate.engine.locust_flags import REFUSED, SUGGESTIONS
from loadgate.engine.setting_sources import COMMAND_LINE, DEFAULT_SOURCE, sources_of
from loadgate.errors import ConfigError
from loadgate.http_client import CLIENT_CHOICES, DEFAULT_CLIENT


def _untyped(thing: object) -> Any:
    """Locust's functions and events have no type hints: one Any, rather than an ignore per call."""
    return thing


class _RaisingParser(LocustArgumentParser):
    """Locust's parser, but a parse error is a ConfigError rather than a printed exit(2)."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


@dataclass(frozen=True, kw_only=True)
class ParsedCommand:
    """The options of one `loadgate run` command line, as Locust's main() would see them.

    `sources`: dest -> where the value came from (DEFAULT_SOURCE, COMMAND_LINE,
    "env LOCUST_USERS", "./locust.conf", "--config FILE", ...).
    `custom`: the dests the scripts (or plugins) added.
    """

    options: Any  # configargparse.Namespace; scripts read it as environment.parsed_options
    sources: dict[str, str]
    flags: dict[str, str]  # dest -> the option string shown to users
    custom: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()  # dests --help does not show (web UI, renamed flags)

    def source(self, dest: str) -> str:
        return self.sources.get(dest, DEFAULT_SOURCE)

    def given(self, dest: str) -> bool:
        return self.source(dest) != DEFAULT_SOURCE


def build_parser(*, script_options: bool) -> Any:
    """Locust's parser with loadgate's options; with the scripts' own when `script_options`."""
    parser = get_empty_argument_parser(add_help=True)
    parser.__class__ = _RaisingParser
    _untyped(argument_parser).setup_parser_arguments(parser)
    _add_loadgate_options(parser)
    _adapt_locust_options(parser)
    if script_options:
        # Listeners registered by the imported scripts (and plugins) add their arguments.
        _untyped(locust.events).init_command_line_parser.fire(parser=parser)
    return parser


def _add_loadgate_options(parser: Any) -> None:
    # Locust's --json (print to stdout) becomes ours, which also takes an optional FILE.
    parser.conflict_handler = "resolve"
    group = parser.add_argument_group("loadgate options (also LOADGATE_* or config-file keys)")
    add = group.add_argument
    add(
        "--name",
        metavar="NAME",
        env_var="LOADGATE_NAME",
        help="Name of the run [the script's file name without .py].",
    )
    add(
        "--db",
        dest="db_url",
        metavar="URL",
        env_var="LOADGATE_DB",
        help="Run store: sqlite:///path or postgresql://... "
        "[a SQLite file in the user's data folder].",
    )
    add(
        "--stages",
        metavar="STAGES",
        env_var="LOADGATE_STAGES",
        help='Users over time instead of -u/-r/-t: "30s:10,1m:50,30s:0" ramps linearly to '
        "each count (DURATION:USERS[@SPAWN_RATE]).",
    )
    add(
        "--client",
        choices=CLIENT_CHOICES,
        default=DEFAULT_CLIENT,
        env_var="LOADGATE_CLIENT",
        help="The HTTP client of HttpUser scripts: requests (python-requests, as in Locust) or "
        "fast (geventhttpclient with the requests API scripts use; see README) [requests].",
    )
    add(
        "--timings",
        action="store_true",
        env_var="LOADGATE_TIMINGS",
        help="Record each request's connect, TLS handshake, time to first byte and download "
        "times (with --client fast or FastHttpUser) and show them per endpoint.",
    )
    add(
        "--arrival-rate",
        metavar="RATE",
        env_var="LOADGATE_ARRIVAL_RATE",
        help="Open model: start iterations (one task each) at this rate, such as 200/s or "
        "600/m, whatever the target's latency; -u users are started up front.",
    )
    add(
        "--arrival-stages",
        metavar="STAGES",
        env_var="LOADGATE_ARRIVAL_STAGES",
        help='Open model with a ramping rate: "30s:50/s,1m:200/s,30s:0/s" ramps linearly to '
        "each rate (DURATION:RATE); the run lasts as long as the stages.",
    )
    add(
        "--max-users",
        type=int,
        metavar="N",
        env_var="LOADGATE_MAX_USERS",
        help="Open model: the pool of users grows as needed up to N; an iteration that "
        "finds every user busy then is dropped [max(1000, -u)].",
    )
    add(
        "--plan",
        dest="plan_path",
        metavar="FILE.toml",
        env_var="LOADGATE_PLAN",
        help="Run settings, thresholds and baseline from a plan file (flags, LOCUST_* and "
        "LOADGATE_* override it; it overrides config files).",
    )
    add(
        "--threshold",
        dest="threshold_exprs",
        action="append",
        default=[],
        metavar="EXPR",
        help="Pass/fail criterion, e.g. 'p95 < 300ms' or 'GET /v1/products: p99 < 500ms' "
        "(repeatable; exit 99 when one fails).",
    )
    add(
        "--abort-on-fail",
        action="store_true",
        env_var="LOADGATE_ABORT_ON_FAIL",
        help="Stop the run as soon as a threshold fails over its window (10 s by default).",
    )
    add(
        "--baseline",
        dest="baseline_name",
        metavar="NAME",
        env_var="LOADGATE_BASELINE",
        help="Compare with the baseline run of NAME (exit 98 on a regression).",
    )
    add(
        "--json",
        nargs="?",
        const=True,
        default=False,
        metavar="FILE",
        help="Alone, Locust's flag: print Locust's JSON statistics to stdout (the tables go to "
        "stderr). With FILE: also write loadgate's JSON summary (exact latencies) to FILE.",
    )
    add(
        "--report",
        dest="report_path",
        metavar="FILE.html",
        env_var="LOADGATE_REPORT",
        help="Also write the HTML report to FILE.html (the same as --html).",
    )
    add(
        "--junit",
        dest="junit_path",
        metavar="FILE.xml",
        env_var="LOADGATE_JUNIT",
        help="Also write threshold verdicts as JUnit XML.",
    )
    add(
        "-q",
        "--quiet",
        action="store_true",
        env_var="LOADGATE_QUIET",
        help="No live view while running (--only-summary does the same).",
    )
    add(
        "--scrape",
        dest="scrape_urls",
        action="append",
        default=[],
        metavar="URL",
        help="Also scrape this Prometheus text endpoint once a second during the run and chart "
        "it under the client's charts (repeatable; the built-in gateway's /metrics is scraped "
        "by default).",
    )
    add(
        "--no-scrape",
        action="store_true",
        env_var="LOADGATE_NO_SCRAPE",
        help="Scrape nothing, not even the built-in gateway's /metrics.",
    )
    add(
        "--scrape-series",
        metavar="REGEX",
        env_var="LOADGATE_SCRAPE_SERIES",
        help="Which scraped series the HTML report charts: a regular expression searched in "
        "each series name [the gateway's requests, upstream attempts and errors, breaker "
        "state, latency].",
    )
    add(
        "--expect-rate-limit",
        metavar="LIMIT",
        env_var="LOADGATE_EXPECT_RATE_LIMIT",
        help='The rate limit the target should hold, judged by the rate_limit finding: "20/s", '
        '"GET /v1/search: 20/s", or "20/s per X-API-Key" (per key: the run counts that '
        "header's values).",
    )
    add("--print-config", action="store_true",
        help="Print every effective setting and where it came from, then exit.")  # fmt: skip
    parser.conflict_handler = "error"


def _run_time(text: str) -> int:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


# Locust flags whose meaning in `loadgate run` differs from Locust's own help text.
_HELP = {
    "html_file": "Write loadgate's HTML report to this file; {u}, {r} and {t} in the name "
    "become users, spawn rate and run time (as in Locust).",
    "json_file": "Save Locust's JSON statistics to <filename>.json, as Locust does "
    "(loadgate's own summary: --json FILE).",
    "headless": "Accepted; loadgate run is always headless.",
    "print_stats": "Accepted, no effect: the live view shows the stats.",
    "skip_log_setup": "Accepted, no effect.",
}


def _adapt_locust_options(parser: Any) -> None:
    for action in parser._actions:
        if action.dest == "locustfile":
            action.help = (
                "The locustfile: a .py file, a comma-separated list of them, or a folder "
                "(its .py files, not those starting with _); the same as LOCUSTFILE. "
                "[locustfile.py]"
            )
        elif action.dest == "run_time":
            action.type = _run_time  # our messages, and 0s refused
        elif action.dest in ("tags", "exclude_tags"):
            # `-T a -T b` keeps both (Locust keeps the last); `-T a b` as in Locust.
            action.__class__ = argparse._ExtendAction
        elif action.dest == "version":
            where = Path(__file__).parents[1]
            action.version = f"loadgate {__version__} (Locust {locust.__version__}) from {where}"
        elif action.dest in _HELP:
            action.help = _HELP[action.dest]
        if any(flag in REFUSED for flag in action.option_strings):
            action.help = argparse.SUPPRESS
    # Groups left with nothing to show (master, worker) would only confuse --help.
    parser._action_groups = [
        group
        for group in parser._action_groups
        if any(action.help != argparse.SUPPRESS for action in group._group_actions)
    ]
    for group in parser._action_groups:
        if group.title == "Web UI options":
            group.title = "Headless (loadgate run has no web UI)"
    parser.description = (
        "Usage: loadgate run [options] [LOCUSTFILE ...] [UserClass ...]\n\n"
        "Locust's command line for a headless run (LOCUSTFILE is the same as -f), "
        "plus loadgate's options.\nSettings come from, lowest first: defaults, ~/.locust.conf, "
        "./locust.conf, ./pyproject.toml [tool.locust], --config FILE, --plan FILE, "
        "LOCUST_*/LOADGATE_* variables, the command line."
    )
    parser.epilog = (
        "Examples:\n\n    loadgate run -f locustfile.py -H http://127.0.0.1:8080 -u 50 -r 5 -t 5m\n"
        "    loadgate run checkout.py -t 1m --threshold 'p95 < 300ms' --html report.html UserA\n"
        "    loadgate run --print-config   # every setting and where it came from"
    )


def option_strings(parser: Any) -> dict[str, str]:
    """dest -> the longest option string (what a user types)."""
    return {
        action.dest: max(action.option_strings, key=len)
        for action in parser._actions
        if action.option_strings
    }


def split_locustfiles(argv: Sequence[str], parser: Any) -> tuple[list[str], list[str]]:
    """The positional LOCUSTFILE arguments (`x.py`, a folder) apart from the rest.

    Locust's positionals are User class names, which never end in .py nor name
    a folder, so a script path among them can only be loadgate's LOCUSTFILE.
    An option value is never taken: `--html out.py` stays `--html`'s.
    """
    takes_value = {
        flag for action in parser._actions if action.nargs != 0 for flag in action.option_strings
    }
    flags = {flag for action in parser._actions for flag in action.option_strings}
    scripts: list[str] = []
    rest: list[str] = []
    previous = ""
    for token in argv:
        # An unknown option (a script's own) may take this token as its value.
        after_unknown_option = previous.startswith("-") and "=" not in previous
        after_unknown_option = after_unknown_option and previous not in flags
        if token.startswith("-") or previous in takes_value:
            rest.append(token)
        elif token.endswith(".py") or (Path(token).is_dir() and not after_unknown_option):
            scripts.append(token)
        else:
            rest.append(token)
        previous = token
    return scripts, _join_dashed_values(rest, parser)


def _join_dashed_values(argv: list[str], parser: Any) -> list[str]:
    """`-t -3s` as `-t=-3s`, so that the value reaches its option (and its message)."""
    single = {
        flag
        for action in parser._actions
        if action.nargs is None and action.option_strings
        for flag in action.option_strings
    }
    joined: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if (
            token in single
            and following[:2] not in ("", "--")
            and following[:1] == "-"
            and (following[1:2].isdigit())
        ):
            joined.append(f"{token}={following}")
            index += 2
            continue
        joined.append(token)
        index += 1
    return joined


def first_pass(argv: Sequence[str]) -> tuple[Any, dict[str, str]]:
    """The options known before any script is imported (-f, --plan, ...); unknown ones wait."""
    parser = build_parser(script_options=False)
    options, _unknown = parser.parse_known_args(args=list(argv), ignore_help_args=True)
    return options, sources_of(parser, argv)


def second_pass(argv: Sequence[str], user_class_names: Sequence[str]) -> ParsedCommand:
    """Everything, the scripts' own arguments included; --help prints and exits here."""
    parser = build_parser(script_options=True)
    base = {action.dest for action in build_parser(script_options=False)._actions}
    options, unknown = parser.parse_known_args(args=list(argv))
    if unknown:
        _unknown_option(unknown, parser, argv)
    _json_or_user_class(options, user_class_names)
    sources = sources_of(parser, argv)
    flags = option_strings(parser)
    warnings = _refused(sources, flags)
    custom = tuple(a.dest for a in parser._actions if a.dest not in base)
    return ParsedCommand(
        options=options,
        sources=sources,
        flags=flags,
        custom=custom,
        warnings=tuple(warnings),
        hidden=frozenset(a.dest for a in parser._actions if a.help == argparse.SUPPRESS),
    )


def help_text() -> str:
    """--help when the scripts could not be loaded: Locust's and loadgate's options."""
    return str(build_parser(script_options=True).format_help())


def _unknown_option(unknown: Sequence[str], parser: Any, argv: Sequence[str]) -> NoReturn:
    first = next((token for token in unknown if token.startswith("-")), unknown[0])
    name = first.split("=", 1)[0]
    typed = any(token.split("=", 1)[0] == name for token in argv)
    where = "" if typed else " (from a config file: its keys are the long flags without --)"
    if name in SUGGESTIONS:
        raise ConfigError(f"unknown option {name}: {SUGGESTIONS[name]}")
    if not name.startswith("-"):
        raise ConfigError(
            f"unexpected argument {first!r}: User class names go last, after every option "
            "(scripts are LOCUSTFILE.py, a folder, or -f)"
        )
    known = [flag for action in parser._actions for flag in action.option_strings
             if action.help != argparse.SUPPRESS]  # fmt: skip
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f": did you mean {close[0]}?" if close else ": see `loadgate run --help`"
    raise ConfigError(f"unknown option {name}{where}{hint}")


def _json_or_user_class(options: Any, user_class_names: Sequence[str]) -> None:
    """`--json UserA` in a Locust command line: Locust's flag, then a User class, not a file."""
    value = options.json
    if isinstance(value, str) and value in user_class_names and not value.endswith(".json"):
        options.json = True
        options.user_classes = [value, *options.user_classes]


def _refused(sources: Mapping[str, str], flags: Mapping[str, str]) -> list[str]:
    warnings: list[str] = []
    for dest, source in sources.items():
        flag = flags.get(dest, "")
        if flag not in REFUSED:
            continue
        if source == COMMAND_LINE:
            raise ConfigError(f"{flag} is not supported: {REFUSED[flag]}")
        warnings.append(f"{flag} from {source} ignored: {REFUSED[flag]}")
    return warnings


def print_task_ratio(user_classes: Sequence[type], num_users: int | None, *, json: bool) -> None:
    """Locust's --show-task-ratio (or -json) tables, printed as Locust prints them."""
    from locust.user import inspectuser as typed_inspectuser

    inspectuser = _untyped(typed_inspectuser)
    if json:
        inspectuser.print_task_ratio_json(list(user_classes), num_users)
        return
    print("\n Task ratio per User class\n" + "-" * 80)
    inspectuser.print_task_ratio(list(user_classes), num_users, False)
    print("\n Total task ratio\n" + "-" * 80)
    inspectuser.print_task_ratio(list(user_classes), num_users, True)
