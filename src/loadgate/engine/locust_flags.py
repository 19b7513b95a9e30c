"""Which of Locust's flags `loadgate run` refuses or only accepts, and why: one table.

Every Locust flag not named here works as it does under `locust --headless`.
README's run section draws the same table for users.
"""

from __future__ import annotations

from collections.abc import Mapping

_WEB_UI = (
    "loadgate run is headless: Locust's web UI is not served "
    "(write an HTML report with --html FILE, or later with `loadgate report`)"
)
_WORKER = "a worker is `loadgate worker --master-host HOST [--master-port PORT] [SCRIPT]`"

# Long option string -> why `loadgate run` refuses it. On the command line such
# a flag is an error; from a config file or LOCUST_* variable it is ignored with
# a warning, so a locust.conf written for the web UI still works headless.
REFUSED: Mapping[str, str] = {
    "--web-host": _WEB_UI,
    "--web-port": _WEB_UI,
    "--web-login": _WEB_UI,
    "--web-base-path": _WEB_UI,
    "--tls-cert": _WEB_UI,
    "--tls-key": _WEB_UI,
    "--class-picker": _WEB_UI,
    "--autostart": _WEB_UI,
    "--autoquit": _WEB_UI,
    "--headful": _WEB_UI,
    "--worker": _WORKER,
    "--master-host": _WORKER,
    "--master-port": _WORKER,
    "--otel": "OpenTelemetry instrumentation is not offered: loadgate measures requests itself",
}

# Flags that do not exist anywhere but that people type, and where to go instead.
SUGGESTIONS: Mapping[str, str] = {
    "--dashboard": "the web dashboard is not part of `loadgate run`",
    "--users-per-second": "-r/--spawn-rate",
    "--duration": "-t/--run-time",
    "--out": "--json FILE, --html FILE, --csv PREFIX or --junit FILE",
}
