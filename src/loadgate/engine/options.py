"""Locust's parsed options for our run, so that scripts and plugins that read them work."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from locust.argument_parser import get_parser

from loadgate.engine.config import RunConfig
from loadgate.errors import ConfigError


def locust_arguments(config: RunConfig) -> list[str]:
    """Locust's command line for the same run (headless, no web UI, no stats printing)."""
    args = [
        "--locustfile",
        str(config.script_path),
        "--headless",
        "--only-summary",
        "--users",
        str(config.users_or_default),
        "--spawn-rate",
        str(config.spawn_rate_or_default),
    ]
    if config.run_time_s is not None:
        args += ["--run-time", f"{config.run_time_s}s"]
    if config.host:
        args += ["--host", config.host]
    # `--tags a b` is nargs="*": keep them last so nothing else is read as a tag.
    if config.exclude_tags:
        args += ["--exclude-tags", *config.exclude_tags]
    if config.tags:
        args += ["--tags", *config.tags]
    return args


def parse_locust_options(config: RunConfig) -> Any:
    """The Namespace Locust's own main() would build; call it after loading the script.

    After loading, because a script may add its own options through the
    `init_command_line_parser` event (they keep their defaults, or their
    LOCUST_* environment variables). Locust's config files (locust.conf,
    pyproject.toml) are not read: the flags of `loadgate run` say everything.
    """
    if config.locust_options is not None:
        return config.locust_options
    # Not locust.argument_parser.parse_options: it prints a deprecation notice on stdout.
    parser = get_parser(default_config_files=[])
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return parser.parse_args(args=locust_arguments(config))
    except SystemExit as exc:
        lines = [line for line in errors.getvalue().splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit code {exc.code}"
        raise ConfigError(f"Locust could not parse the options of this run: {detail}") from exc
