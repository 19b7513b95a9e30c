"""JUnit XML of threshold verdicts, validated against the JUnit schema CI servers read."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import xmlschema

from loadgate.analysis import evaluate, parse_thresholds
from loadgate.errors import ConfigError
from loadgate.model import RunStatus
from loadgate.report.junit import junit_xml, write_junit
from loadgate.stats import RunSummary
from tests.analysis.builders import shop_summary

XSD = Path(__file__).parent / "junit.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


@pytest.fixture(scope="module")
def shop() -> RunSummary:
    return shop_summary()


def written(tmp_path: Path, summary: RunSummary, expressions: list[str], **run: object) -> Path:
    verdicts = evaluate(parse_thresholds(expressions), summary)
    path = tmp_path / "junit.xml"
    write_junit(path, dataclasses.replace(summary.run, **run), verdicts)  # type: ignore[arg-type]
    return path


def cases(path: Path) -> list[tuple[str, str, str | None, str | None]]:
    """(classname, name, 'failure'/'error'/None, message) of every test case."""
    found = []
    for case in ET.parse(path).getroot().iter("testcase"):
        problem = next(iter(case), None)
        found.append(
            (
                case.attrib["classname"],
                case.attrib["name"],
                problem.tag if problem is not None else None,
                problem.attrib["message"] if problem is not None else None,
            )
        )
    return found


def test_all_passing(tmp_path: Path, schema: xmlschema.XMLSchema, shop: RunSummary) -> None:
    path = written(tmp_path, shop, ["p95 < 300ms", "GET /v1/products: p99 < 1ms", "rps > 10"])
    schema.validate(str(path))
    root = ET.parse(path).getroot()
    (suite,) = root.iter("testsuite")
    for element in (root, suite):
        assert {k: element.attrib[k] for k in ("tests", "failures", "errors", "skipped")} == {
            "tests": "3",
            "failures": "0",
            "errors": "0",
            "skipped": "0",
        }
    assert suite.attrib["name"] == "checkout"
    assert suite.attrib["id"] == "7"
    assert suite.attrib["timestamp"] == "2023-11-14T22:13:20"
    assert suite.attrib["time"] == "10.000"
    assert cases(path) == [
        ("Total", "p95 < 300ms", None, None),
        ("GET /v1/products", "p99 < 1ms", None, None),
        ("Total", "rps > 10", None, None),
    ]
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}
    assert properties["status"] == "completed"
    assert properties["host"] == "http://127.0.0.1:8080"
    output = suite.findtext("system-out")
    assert output is not None
    assert "threshold 'p95 < 300ms' passed: p95 was 2 ms, bound < 300 ms" in output


def test_failures_carry_the_measured_value_and_the_bound(
    tmp_path: Path, schema: xmlschema.XMLSchema, shop: RunSummary
) -> None:
    path = written(
        tmp_path,
        shop,
        [
            "p95 < 300ms",
            "GET /v1/products/:id: error_rate < 1%",
            "GET /v1/products/:id: p99 < 500ms",
            "GET /v1/nothing: p95 < 1s",
            "status_5xx == 0",
        ],
    )
    schema.validate(str(path))
    assert cases(path) == [
        ("Total", "p95 < 300ms", None, None),
        (
            "GET /v1/products/:id",
            "error_rate < 1%",
            "failure",
            "error_rate was 20%, bound < 1%",
        ),
        ("GET /v1/products/:id", "p99 < 500ms", None, None),
        ("GET /v1/nothing", "p95 < 1s", "failure", "no endpoint 'GET /v1/nothing' in this run"),
        ("Total", "status_5xx == 0", "failure", "status_5xx was 2, bound == 0"),
    ]
    root = ET.parse(path).getroot()
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("5", "3", "0")
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.attrib["type"] == "threshold"
    assert failure.text == (
        "threshold 'GET /v1/products/:id: error_rate < 1%' failed: error_rate was 20%, bound < 1%"
    )


def test_an_aborted_run_adds_an_error_with_its_reason(
    tmp_path: Path, schema: xmlschema.XMLSchema, shop: RunSummary
) -> None:
    reason = "threshold 'error_rate < 1% abort' failed over the last 10 s: error_rate was 5.6%"
    path = written(
        tmp_path, shop, ["error_rate < 1% abort"], status=RunStatus.ABORTED, status_reason=reason
    )
    schema.validate(str(path))
    assert cases(path)[-1] == ("loadgate", "run completed", "error", f"run aborted: {reason}")
    root = ET.parse(path).getroot()
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("2", "1", "1")


def test_no_thresholds_and_awkward_text(
    tmp_path: Path, schema: xmlschema.XMLSchema, shop: RunSummary
) -> None:
    # control characters cannot be in XML at all; quotes, <, & and non-ASCII are escaped
    path = written(
        tmp_path,
        shop,
        [],
        name='"nightly" <run> & µ\x01',
        status=RunStatus.FAILED,
        status_reason="target refused\x00",
        started_at=datetime(2026, 1, 2, 4, 5, 6, tzinfo=timezone(timedelta(hours=3))),
        ended_at=datetime(2026, 1, 2, 1, 5, 7, tzinfo=UTC),
    )
    schema.validate(str(path))
    (suite,) = ET.parse(path).getroot().iter("testsuite")
    assert suite.attrib["name"] == '"nightly" <run> & µ\ufffd'
    assert suite.attrib["timestamp"] == "2026-01-02T01:05:06"
    assert suite.attrib["time"] == "1.000"
    assert cases(path) == [
        ("loadgate", "run completed", "error", "run failed: target refused\ufffd"),
    ]


def test_the_schema_is_not_vacuous(schema: xmlschema.XMLSchema, shop: RunSummary) -> None:
    verdicts = evaluate(parse_thresholds(["p95 < 1ms"]), shop)
    good = junit_xml(shop.run, verdicts).decode()
    assert schema.is_valid(good)
    for broken in (
        good.replace(' classname="Total"', ""),
        good.replace('tests="1"', 'tests="one"'),
        good.replace('timestamp="2023-11-14T22:13:20"', 'timestamp="yesterday"'),
        good.replace("<testcase ", "<test ").replace("</testcase>", "</test>"),
        good.replace('time="0.000"', 'time="-1"'),
    ):
        assert broken != good
        assert not schema.is_valid(broken)


def test_missing_folders_are_created(tmp_path: Path, shop: RunSummary) -> None:
    write_junit(tmp_path / "reports" / "junit.xml", shop.run, [])
    assert (tmp_path / "reports" / "junit.xml").is_file()


def test_an_unwritable_path_is_bad_input(tmp_path: Path, shop: RunSummary) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot write the JUnit report to"):
        write_junit(tmp_path / "file" / "junit.xml", shop.run, [])
