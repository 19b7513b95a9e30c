"""What one `loadgate run` was asked to do: a frozen value the CLI builds and the engine reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgate.arrival_rate import ArrivalPlan
from loadgate.http_client import DEFAULT_CLIENT
from loadgate.stages import Stage

# Locust's defaults for a master.
DEFAULT_MASTER_PORT = 5557
DEFAULT_MASTER_BIND_HOST = "*"  # every interface, as ZeroMQ spells it
# Locust waits for --expect-workers forever by default; we never do.
DEFAULT_EXPECT_WORKERS_MAX_WAIT_S = 60.0

# Locust's headless defaults, for the same flags.
DEFAULT_USERS = 1
DEFAULT_SPAWN_RATE_PER_S = 1.0


@dataclass(frozen=True, kw_only=True)
class MasterConfig:
    """`--master`: workers connect from other processes or machines (`loadgate worker`)."""

    bind_host: str = DEFAULT_MASTER_BIND_HOST
    bind_port: int = DEFAULT_MASTER_PORT
    expect_workers: int = 1
    max_wait_s: float = DEFAULT_EXPECT_WORKERS_MAX_WAIT_S


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """One run's settings, as the user gave them (None: not given).

    `host` None means: the script's own `host`, else the built-in gateway.
    `run_time_s` None means: until the shape ends, or until Ctrl-C.
    """

    script_path: Path
    name: str
    users: int | None = None
    spawn_rate_per_s: float | None = None
    run_time_s: int | None = None
    host: str | None = None
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    # Threshold expressions, stored with the run so that it can be judged again later.
    thresholds: tuple[str, ...] = ()
    # The rate limit the findings compare the accepted rate with ('50/s'), stored likewise.
    expect_rate_limit: str | None = None
    # Its `per HEADER`: the request header whose distinct values the collector counts.
    rate_limit_key_header: str | None = None
    # Locust's --processes: that many local worker processes under a master (-1: one per core).
    processes: int | None = None
    # --stages: users over time, as a load shape built from the flag.
    stages: tuple[Stage, ...] = ()
    master: MasterConfig | None = None
    # Prometheus text endpoints of the target, scraped once a second during the run.
    scrape_urls: tuple[str, ...] = ()
    # Also scrape the built-in gateway's /metrics when loadgate starts it (--no-scrape: off).
    scrape_builtin: bool = True
    # Which scraped series the HTML report charts (a regular expression), stored with the run.
    scrape_series: str | None = None
    client: str = DEFAULT_CLIENT
    # --timings: connect, TLS, time to first byte and download of each request (fast clients).
    timings: bool = False
    # --arrival-rate / --arrival-stages: the open model (None: Locust's closed model).
    arrival: ArrivalPlan | None = None
    # Locust's parsed options, when the command line was parsed by Locust's parser
    # (loadgate.engine.locust_args); None: built from the fields above.
    locust_options: Any = None
    # What the script's own init_command_line_parser arguments were set to, stored with the run.
    custom_arguments: Mapping[str, object] = field(default_factory=dict)

    @property
    def users_or_default(self) -> int:
        return DEFAULT_USERS if self.users is None else self.users

    @property
    def spawn_rate_or_default(self) -> float:
        return DEFAULT_SPAWN_RATE_PER_S if self.spawn_rate_per_s is None else self.spawn_rate_per_s
