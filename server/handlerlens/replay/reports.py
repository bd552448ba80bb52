"""A test run's outcomes reported: the text report and summary line of `handlerlens test`,
its JSON report (the editor's Test Explorer reads it), and JUnit XML for CI."""

from __future__ import annotations

import json
import os

from handlerlens.replay.events import shown
from handlerlens.replay.verdicts import (
    ERROR,
    FAILED,
    NO_EXPECTATION,
    PASSED,
    UPDATED,
    Outcome,
)


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = {PASSED: 0, FAILED: 0, ERROR: 0, NO_EXPECTATION: 0, UPDATED: 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def summary_line(outcomes: list[Outcome], seconds: float) -> str:
    counts = summary(outcomes)
    parts = [f"{counts[PASSED]} passed"]
    if counts[UPDATED]:
        parts.append(f"{counts[UPDATED]} updated")
    parts.append(f"{counts[FAILED]} failed")
    if counts[ERROR]:
        parts.append(f"{counts[ERROR]} error{'s' if counts[ERROR] != 1 else ''}")
    if counts[NO_EXPECTATION]:
        parts.append(f"{counts[NO_EXPECTATION]} without expectation")
    return f"{', '.join(parts)} in {seconds:.2f}s"


def text_report(outcomes: list[Outcome], strict: bool) -> str:
    lines = []
    for o in outcomes:
        label = {NO_EXPECTATION: "NO EXPECTATION"}.get(o.status, o.status.upper())
        if o.status == NO_EXPECTATION and strict:
            label = "FAILED (no expectation, --strict)"
        lines.append(f"{label} {o.event.test_id} ({o.seconds * 1000:.0f} ms)")
        if o.status == PASSED:
            continue
        lines.append(f"  event: {shown(o.event.path)}")
        if o.message:
            lines.append(f"  {o.message}")
        if o.diff:
            lines += ["  " + line for line in o.diff.splitlines()]
        if o.status in (FAILED, ERROR) and o.log:
            lines.append("  function log:")
            lines += ["    " + line for line in o.log]
    return "\n".join(lines)


def json_report(outcomes: list[Outcome], warnings: list[str], seconds: float) -> str:
    tests = [
        {
            "id": o.event.test_id,
            "function": o.event.function.test_name if o.event.function else None,
            "event": o.event.name,
            "path": o.event.path,
            "expected": o.event.expected_path,
            "status": o.status,
            "message": o.message,
            "diff": o.diff,
            "expectedText": o.expected_text,
            "actualText": o.actual_text,
            "durationMs": round(o.seconds * 1000, 1),
        }
        for o in outcomes
    ]
    counts = summary(outcomes)
    return json.dumps(
        {
            "tests": tests,
            "summary": {
                "passed": counts[PASSED],
                "failed": counts[FAILED],
                "errors": counts[ERROR],
                "noExpectation": counts[NO_EXPECTATION],
                "updated": counts[UPDATED],
                "total": len(outcomes),
                "seconds": round(seconds, 3),
            },
            "warnings": warnings,
        },
        indent=2,
    )


def write_junit(path: str, outcomes: list[Outcome], strict: bool, seconds: float) -> None:
    """JUnit XML, as CI systems read it: one testcase per saved event."""
    import xml.etree.ElementTree as ET

    counts = summary(outcomes)
    suite = ET.Element(
        "testsuite",
        name="handlerlens",
        tests=str(len(outcomes)),
        failures=str(
            counts[FAILED] + (counts[NO_EXPECTATION] if strict else 0),
        ),
        errors=str(counts[ERROR]),
        skipped=str(0 if strict else counts[NO_EXPECTATION]),
        time=f"{seconds:.3f}",
    )
    for o in outcomes:
        owner = o.event.function.test_name if o.event.function else o.event.folder_name
        case = ET.SubElement(
            suite,
            "testcase",
            classname=owner,
            name=o.event.test_id.split("::", 1)[1],
            file=shown(o.event.path),
            time=f"{o.seconds:.3f}",
        )
        text = "\n".join(x for x in (o.message, o.diff, "\n".join(o.log)) if x)
        if o.status == FAILED or (o.status == NO_EXPECTATION and strict):
            ET.SubElement(case, "failure", message=o.message or "response differs").text = text
        elif o.status == ERROR:
            ET.SubElement(case, "error", message=o.message).text = text
        elif o.status == NO_EXPECTATION:
            ET.SubElement(case, "skipped", message=o.message)
    suites = ET.Element("testsuites")
    suites.append(suite)
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
