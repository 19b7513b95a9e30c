"""The run summary in the terminal: header, per-endpoint table, statuses, errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadgate.analysis.finding import Finding, Severity
from loadgate.analysis.status_classes import StatusBreakdown, status_breakdown
from loadgate.analysis.thresholds_eval import Verdict
from loadgate.model import RunStatus
from loadgate.stats.summary import EndpointSummary, RunSummary

MAX_ERRORS_SHOWN = 10
WIDE_COLUMNS = 160
STATUS_STYLES = {
    RunStatus.COMPLETED: "green",
    RunStatus.ABORTED: "yellow",
    RunStatus.FAILED: "red",
    RunStatus.RUNNING: "cyan",
    RunStatus.LOST: "magenta",
}


def summary_console() -> Console:
    """stdout, wide enough for the tables even when it is not a terminal.

    Not a terminal (a log, a pipe, CI): rich would assume 80 columns and cut numbers.
    """
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, WIDE_COLUMNS))


def format_ms(value_ms: float) -> str:
    """Enough decimals to show sub-millisecond times, fewer for long ones."""
    if value_ms < 100:
        return f"{value_ms:.3f}"
    if value_ms < 10_000:
        return f"{value_ms:.1f}"
    return f"{value_ms:.0f}"


def format_duration(duration_s: float) -> str:
    minutes, seconds = divmod(duration_s, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02.0f}s"
    if minutes:
        return f"{minutes}m{seconds:04.1f}s"
    return f"{seconds:.1f}s"


def _header(summary: RunSummary) -> Text:
    run = summary.run
    text = Text()
    text.append(f"run {run.run_id} ", style="bold")
    text.append(f"{run.name} ")
    text.append(run.status.value, style=STATUS_STYLES[run.status])
    if run.status_reason:
        text.append(f" ({run.status_reason})")
    text.append(
        f"\n{run.script_path} → {run.host}\n"
        f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC · "
        f"{format_duration(summary.duration_s)} · up to {summary.users_max} users"
    )
    return text


def plain(text: str) -> Text:
    """Text from users and targets (names, messages) as it is: never parsed as rich markup."""
    return Text(text)


def _endpoint_row(endpoint: EndpointSummary, table: Table, style: str = "") -> None:
    table.add_row(
        plain(endpoint.method),
        plain(endpoint.name),
        f"{endpoint.requests:,}",
        f"{endpoint.failures:,}",
        f"{endpoint.rps:.1f}",
        format_ms(endpoint.p50_ms),
        format_ms(endpoint.p95_ms),
        format_ms(endpoint.p99_ms),
        format_ms(endpoint.p999_ms),
        format_ms(endpoint.max_ms),
        style=style,
    )


def endpoint_table(summary: RunSummary) -> Table:
    table = Table(title="Latency (ms) per endpoint", title_justify="left", show_lines=False)
    for heading in ("Type", "Name"):
        table.add_column(heading, no_wrap=True)
    for heading in ("Requests", "Fails", "req/s", "p50", "p95", "p99", "p99.9", "max"):
        table.add_column(heading, justify="right")
    for endpoint in summary.endpoints:
        _endpoint_row(endpoint, table)
    table.add_section()
    _endpoint_row(summary.total, table, style="bold")
    return table


def _counts(counts: Mapping[str, int]) -> str:
    return "  ".join(f"{status}×{count:,}" for status, count in counts.items()) or "-"


def status_table(summary: RunSummary) -> Table:
    table = Table(title="Responses by status", title_justify="left")
    table.add_column("Type", no_wrap=True)
    table.add_column("Name", no_wrap=True)
    table.add_column("Expected", style="green")
    table.add_column("Unexpected", style="red")
    for endpoint in (*summary.endpoints, summary.total):
        breakdown: StatusBreakdown = status_breakdown(
            endpoint.ok_status_counts, endpoint.failed_status_counts
        )
        table.add_row(
            plain(endpoint.method),
            plain(endpoint.name),
            _counts(breakdown.expected),
            _counts(breakdown.unexpected),
            style="bold" if endpoint is summary.total else "",
        )
    return table


def error_table(summary: RunSummary) -> Table:
    table = Table(title="Errors", title_justify="left")
    table.add_column("Count", justify="right")
    table.add_column("Type", no_wrap=True)
    table.add_column("Name")
    table.add_column("Message")
    for error in summary.errors[:MAX_ERRORS_SHOWN]:
        table.add_row(
            f"{error.count:,}", plain(error.method), plain(error.name), plain(error.message)
        )
    hidden = len(summary.errors) - MAX_ERRORS_SHOWN
    if hidden > 0:
        table.caption = f"{hidden} more distinct errors in the JSON summary"
    return table


def print_summary(summary: RunSummary, console: Console) -> None:
    """Print the whole summary of one run."""
    console.print(_header(summary))
    if not summary.total.requests:
        console.print("no requests were made")
        return
    console.print(endpoint_table(summary))
    console.print(status_table(summary))
    if summary.errors:
        console.print(error_table(summary))
    if summary.total.out_of_range:
        console.print(
            f"[yellow]{summary.total.out_of_range} latencies were outside the histogram's "
            "range (1 µs to 1 h) and are counted but not in the percentiles[/]"
        )


SEVERITY_STYLES = {Severity.INFO: "cyan", Severity.WARNING: "yellow", Severity.CRITICAL: "red"}


def finding_table(findings: Sequence[Finding]) -> Table:
    table = Table(title="Findings", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("When (s)", no_wrap=True, justify="right")
    table.add_column("Endpoint")
    table.add_column("Finding")
    for finding in findings:
        table.add_row(
            Text(finding.severity.value, SEVERITY_STYLES[finding.severity]),
            f"{finding.from_s}–{finding.to_s}",
            plain(finding.endpoint or "all"),
            plain(finding.sentence),
        )
    return table


def print_findings(findings: Sequence[Finding], console: Console) -> None:
    """The findings table, or one line saying there are none."""
    if findings:
        console.print(finding_table(findings))
    else:
        console.print("Findings: none")


def verdict_table(verdicts: Sequence[Verdict]) -> Table:
    passed = sum(v.passed for v in verdicts)
    table = Table(title=f"Thresholds: {passed} of {len(verdicts)} passed", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("Threshold")
    table.add_column("Measured", justify="right")
    table.add_column("Bound", justify="right")
    for verdict in verdicts:
        mark = Text("✓ pass", "green") if verdict.passed else Text("✗ FAIL", "red")
        table.add_row(mark, plain(verdict.label), plain(verdict.measured), plain(verdict.bound))
    return table


def print_verdicts(verdicts: Sequence[Verdict], console: Console) -> None:
    if verdicts:
        console.print(verdict_table(verdicts))
