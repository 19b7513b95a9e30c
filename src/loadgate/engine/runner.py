"""One Locust load test as a library: the Environment, the local runner, and Locust's own events."""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Callable
from typing import Any, cast

import gevent
import locust
from locust.env import Environment

from loadgate.engine.collector import Collector
from loadgate.engine.locustfile import LoadedScript
from loadgate.errors import ConfigError, ScriptError

# What Locust's main() asks of the OS: each user holds sockets.
MIN_OPEN_FILES = 10_000


def raise_open_files_limit() -> None:
    """Raise the soft limit on open files towards MIN_OPEN_FILES, as Locust does (best effort)."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < MIN_OPEN_FILES:
            target = MIN_OPEN_FILES if hard == resource.RLIM_INFINITY else min(MIN_OPEN_FILES, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class LocustRun:
    """A local runner with the script's users and shape, our collector listening.

    The Environment gets `locust.events`, so listeners the script declared at
    import fire, and Locust's parsed options, so code that reads them works.
    Locust's own `request` listener (environment.stats) stays on: see
    loadgate.engine.collector for why.
    """

    def __init__(
        self, script: LoadedScript, options: Any, host: str | None, collector: Collector
    ) -> None:
        try:
            self.environment = Environment(
                user_classes=list(script.user_classes),
                shape_class=script.shape,
                events=locust.events,
                host=host,
                parsed_options=options,
                locustfile=script.path.name,
                parsed_locustfiles=[str(script.path)],
                stop_timeout=float(getattr(options, "stop_timeout", 0.0) or 0.0),
                reset_stats=bool(getattr(options, "reset_stats", False)),
                # Locust annotates these as instances; they are the classes.
                available_user_classes=cast(Any, {c.__name__: c for c in script.user_classes}),
                available_user_tasks={c.__name__: c.tasks for c in script.user_classes},
            )
        except ValueError as exc:  # no user with a weight, duplicate class names
            raise ScriptError(f"{script.path}: {exc}") from exc
        self._apply_user_configs(getattr(options, "config_users", None) or [])
        self._options = options
        # Locust's event hooks are untyped: one Any, rather than an ignore per call.
        self._events: Any = cast(Any, self.environment.events)
        self.runner = self.environment.create_local_runner()
        self._events.request.add_listener(collector.on_request)
        if getattr(options, "equal_weights", False):
            # As Locust's main(): after the script's own init listeners.
            self._events.init.add_listener(
                lambda environment, **_: environment.assign_equal_weights()
            )
        self._events.init.fire(environment=self.environment, runner=self.runner, web_ui=None)

    def _apply_user_configs(self, config_lists: list[list[dict[str, Any]]]) -> None:
        """Locust's --config-users: class attributes set from JSON, as Locust's main() does."""
        environment: Any = self.environment
        for user_config in (config for configs in config_lists for config in configs):
            try:
                environment.update_user_class(user_config)
            except KeyError as exc:
                known = ", ".join(sorted(environment.available_user_classes))
                raise ConfigError(
                    f"--config-users names the User class {exc}, which is not running "
                    f"(these are: {known})"
                ) from exc

    @property
    def has_shape(self) -> bool:
        return self.environment.shape_class is not None

    @property
    def user_count(self) -> int:
        return int(self.runner.user_count)

    def start(self) -> None:
        """Start spawning (or the shape); returns at once."""
        if self.has_shape:
            self.runner.start_shape()
        else:
            self.runner.start(self._options.num_users, self._options.spawn_rate)

    def when_stopped_by_itself(self, callback: Callable[[], None]) -> None:
        """Call `callback` if the runner quits on its own (a shape's end, StopTest)."""

        def wait() -> None:
            # The runner's group holds its long-lived greenlets: it empties on quit().
            self.runner.greenlet.join()
            callback()

        gevent.spawn(wait)

    def stop(self) -> None:
        """Stop every user (at once, unless the script set a stop timeout) and the runner."""
        self.runner.quit()

    def fire_quitting(self) -> None:
        """Locust's last events before exit, for scripts that listen to them."""
        self._events.quitting.fire(environment=self.environment, reverse=True)

    @property
    def process_exit_code(self) -> int | None:
        """What the script asked the process to exit with (environment.process_exit_code)."""
        code = self.environment.process_exit_code
        return None if code is None else int(code)

    @property
    def unhandled_errors(self) -> int:
        """Exceptions raised by tasks (not failed requests), and greenlets that died of one."""
        from locust import log

        return len(self.runner.exceptions) + int(bool(log.unhandled_greenlet_exception))

    def fire_quit(self, exit_code: int) -> None:
        self._events.quit.fire(exit_code=exit_code)
