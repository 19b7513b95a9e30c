"""Choosing the client HttpUser scripts get: python-requests (Locust's) or the fast one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import locust.user.users
from locust import HttpUser

from loadgate.engine.fastclient.phases import install_phase_timing
from loadgate.engine.fastclient.refusal import WAY_BACK
from loadgate.engine.fastclient.session import FastSession
from loadgate.errors import ConfigError
from loadgate.http_client import CLIENT_CHOICES, DEFAULT_CLIENT


def use_client(client: str, user_classes: Sequence[type[Any]], *, timings: bool = False) -> None:
    """Make every HttpUser of this process build `self.client` as `client` says.

    `timings` (`--timings`): time the phases of geventhttpclient's requests
    (engine.fastclient.phases); refused for an HttpUser left on python-requests,
    whose phases cannot be measured.

    HttpUser.__init__ builds its HttpSession from the name in its module, and
    a script's own __init__ may use `self.client` right after calling it: so
    the name is what changes, before any user starts (one run per process).
    FastHttpUser and plain User classes are not touched.
    """
    if client not in CLIENT_CHOICES:
        raise ConfigError(f"--client must be one of {', '.join(CLIENT_CHOICES)}, not {client!r}")
    if timings:
        _check_timed(client, user_classes)
        install_phase_timing()
    if client == DEFAULT_CLIENT:
        return
    for user_class in user_classes:
        if issubclass(user_class, HttpUser) and user_class.pool_manager is not None:
            raise ConfigError(
                f"{user_class.__name__}.pool_manager is set: a urllib3 PoolManager is not "
                f"supported by --client fast; {WAY_BACK}"
            )
    users_module: Any = locust.user.users
    users_module.HttpSession = FastSession


def _check_timed(client: str, user_classes: Sequence[type[Any]]) -> None:
    if client != DEFAULT_CLIENT:
        return
    untimed = [c.__name__ for c in user_classes if issubclass(c, HttpUser)]
    if untimed:
        which = (
            f"{untimed[0]} is an HttpUser"
            if len(untimed) == 1
            else f"{', '.join(untimed)} are HttpUsers"
        )
        raise ConfigError(
            f"--timings measures the requests of --client fast and FastHttpUser only: "
            f"{which} on python-requests (--client {client}); add --client fast"
        )
