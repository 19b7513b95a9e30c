"""The `loadgate` command: parses, calls one service, renders, maps errors to exit codes.

Commands live in their own modules and are imported only when invoked, so that
`loadgate gateway` or `loadgate runs` never load Locust (and gevent's patches).
"""

from __future__ import annotations

import importlib

import click

from loadgate import __version__

# command name -> "module:attribute" of its click.Command
COMMANDS: dict[str, str] = {
    "gateway": "loadgate.cli.gateway:gateway",
    "runs": "loadgate.cli.runs:runs",
    "show": "loadgate.cli.runs:show",
    "compare": "loadgate.cli.compare:compare",
    "baseline": "loadgate.cli.compare:baseline",
    "report": "loadgate.cli.report:report",
    "run": "loadgate.cli.run:run",
    "import": "loadgate.cli.import_spill:import_command",
    "worker": "loadgate.cli.worker:worker",
    "dashboard": "loadgate.cli.dashboard:dashboard",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loadgate")
def main() -> None:
    """Load testing for HTTP APIs and API gateways, on your own machines."""
