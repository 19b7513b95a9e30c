"""Threshold verdicts as JUnit XML, the test report format CI servers read.

One <testsuite> per run, one <testcase> per threshold: classname is the
endpoint (or "Total"), name the expression, so a CI server tracks each
threshold's history across builds. A broken threshold is a <failure> whose
message carries the measured value and the bound; a run that was aborted or
failed adds an <error> test case, so a CI job shows why the run stopped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from loadgate.analysis.thresholds_eval import Verdict
from loadgate.errors import ConfigError
from loadgate.model import RunInfo, RunStatus
from loadgate.stats.summary import TOTAL_NAME

RUN_CLASSNAME = "loadgate"
# XML 1.0 cannot carry most control characters, even escaped; error texts may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC; a naive one is taken as such. JUnit's timestamp has no zone."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def _seconds(value_s: float) -> str:
    return f"{max(0.0, value_s):.3f}"


def _failure_message(verdict: Verdict) -> str:
    if verdict.measured_value is None:
        return verdict.measured
    return f"{verdict.metric} was {verdict.measured}, bound {verdict.bound}"


def _testcase(suite: ET.Element, verdict: Verdict) -> None:
    threshold = verdict.threshold
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_clean(threshold.endpoint or TOTAL_NAME),
        name=_clean(threshold.expression),
        time=_seconds(0.0),
    )
    if not verdict.passed:
        failure = ET.SubElement(
            case, "failure", message=_clean(_failure_message(verdict)), type="threshold"
        )
        failure.text = _clean(verdict.message)


def _run_testcase(suite: ET.Element, run: RunInfo) -> bool:
    """An <error> test case for a run that did not complete; True when there is one."""
    if run.status not in (RunStatus.ABORTED, RunStatus.FAILED):
        return False
    case = ET.SubElement(
        suite, "testcase", classname=RUN_CLASSNAME, name="run completed", time=_seconds(0.0)
    )
    reason = run.status_reason or "no reason recorded"
    error = ET.SubElement(
        case, "error", message=_clean(f"run {run.status.value}: {reason}"), type=run.status.value
    )
    error.text = _clean(f"run {run.run_id} ({run.name}) {run.status.value}: {reason}")
    return True


def _properties(suite: ET.Element, run: RunInfo) -> None:
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", str(run.run_id)),
        ("run_name", run.name),
        ("script", run.script_path),
        ("host", run.host),
        ("status", run.status.value),
        ("status_reason", run.status_reason),
    ):
        ET.SubElement(properties, "property", name=name, value=_clean(value))


def junit_xml(run: RunInfo, verdicts: Sequence[Verdict]) -> bytes:
    """The JUnit XML document of one run's verdicts."""
    failures = sum(not v.passed for v in verdicts)
    root = ET.Element("testsuites", name="loadgate")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_clean(run.name) or f"run {run.run_id}",
        id=str(run.run_id),
        timestamp=_utc(run.started_at).strftime("%Y-%m-%dT%H:%M:%S"),
        time=_seconds(run.duration_s),
    )
    _properties(suite, run)
    for verdict in verdicts:
        _testcase(suite, verdict)
    errors = int(_run_testcase(suite, run))
    # Every verdict's numbers, passed ones too: CI servers show a suite's output.
    out = ET.SubElement(suite, "system-out")
    out.text = _clean("\n".join(v.message for v in verdicts) + "\n") if verdicts else ""
    tests = len(verdicts) + errors
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("skipped", "0")
    root.set("time", _seconds(run.duration_s))
    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"


def write_junit(path: Path | str, run: RunInfo, verdicts: Sequence[Verdict]) -> None:
    """Write the JUnit XML of a run's verdicts to `path` (creating missing folders).

    An unwritable path is a ConfigError.
    """
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(junit_xml(run, verdicts))
    except OSError as exc:
        raise ConfigError(f"cannot write the JUnit report to {path}: {exc.strerror}") from exc
