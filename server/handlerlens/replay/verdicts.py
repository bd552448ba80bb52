"""The verdict on a function's response to a saved event: compared with its expected file
(the file's and the project's `ignore` paths masked), or written as the expected response
under --update; the statuses, a test run's options and its outcomes, shared by `handlerlens
test`, the pytest plugin and the editor's Debug run (replay/judge.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from handlerlens.replay.events import SavedEvent, shown
from handlerlens.replay.expect import compare, updated_expected

PASSED, FAILED, ERROR, NO_EXPECTATION, UPDATED = (
    "passed",
    "failed",
    "error",
    "no expectation",
    "updated",
)


@dataclass
class Options:
    """A test run's options (`handlerlens test`'s, the pytest plugin's, a Debug run's)."""

    python: str | None = None
    # The project's root (--root): the runner looks for the function's .venv up to it.
    project_root: str | None = None
    timeout: float | None = None
    cold: bool = False
    update: bool = False
    update_errors: bool = False
    strict: bool = False
    ignore: list[str] = field(default_factory=list)
    ignore_source: str = ""
    # A declaring file did not parse: a function missing may be one of those it declares.
    unparsed: bool = False


@dataclass
class Outcome:
    """One saved event's verdict."""

    event: SavedEvent
    status: str
    message: str = ""
    diff: str = ""
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)
    # The expected and actual sides as compared (masked, pretty JSON), for a diff view; the
    # actual side alone for an event without an expectation.
    expected_text: str = ""
    actual_text: str = ""

    def failed(self, strict: bool) -> bool:
        return self.status in (FAILED, ERROR) or (strict and self.status == NO_EXPECTATION)


class GlobalIgnores:
    """`[tool.handlerlens.test]` ignore paths, and those that masked nothing in any of the
    comparisons so far (said once, at the end of the run, and only after a comparison)."""

    def __init__(self, paths: list[str], source: str) -> None:
        self.unused = set(paths)
        self.source = source
        self.compared = 0

    def saw(self, unused: list[str]) -> None:
        self.compared += 1
        self.unused &= set(unused)

    def warnings(self) -> list[str]:
        if not self.compared:
            return []
        return [
            f"{self.source} [tool.handlerlens.test]: ignore path '{path}' matched nothing in "
            "any response"
            for path in sorted(self.unused)
        ]


def judge(
    event: SavedEvent,
    expected: dict[str, Any] | None,
    actual: dict[str, Any],
    options: Options,
    warnings: list[str],
    global_ignores: GlobalIgnores,
    log: list[str],
) -> Outcome:
    """The verdict on one response (`actual`, in `actual_view`'s terms) to a saved event:
    compared with its expected file's content (None: there is none), or written as expected
    under --update."""
    expected_name = shown(event.expected_path)
    if expected is None:
        if options.update:
            return _write(event, None, actual, options, log)
        return Outcome(
            event,
            NO_EXPECTATION,
            f"no {expected_name}: write one, or run with --update to save this response",
            log=log,
            actual_text=json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False),
        )
    ignore = list(expected.get("ignore", [])) + options.ignore
    verdict = compare(expected, actual, ignore, expected_name)
    own = set(expected.get("ignore", []))
    for path in verdict.unused_ignores:
        if path in own:
            warnings.append(f"{expected_name}: ignore path '{path}' matched nothing")
    global_ignores.saw(verdict.unused_ignores)
    if verdict.passed:
        return Outcome(event, PASSED, log=log)
    if options.update:
        return _write(event, expected, actual, options, log, verdict.diff)
    return Outcome(
        event,
        FAILED,
        _error_line(actual),
        verdict.diff,
        log=log,
        expected_text=verdict.expected_text,
        actual_text=verdict.actual_text,
    )


def _error_line(actual: dict[str, Any]) -> str:
    if "errorType" in actual:
        return f"the function failed: {actual['errorType']}: {actual['errorMessage']}"
    return ""


def _write(
    event: SavedEvent,
    old: dict[str, Any] | None,
    actual: dict[str, Any],
    options: Options,
    log: list[str],
    diff: str = "",
) -> Outcome:
    name = shown(event.expected_path)
    if "errorType" in actual and not options.update_errors:
        # Asked for an expectation and none could be written: a failure, with or without
        # an old file, so that CI (and the person) sees it.
        return Outcome(
            event,
            FAILED,
            f"{_error_line(actual)}; {name} not written (--update-errors saves a function "
            "error as expected)",
            diff,
            log=log,
        )
    new = updated_expected(old, actual)
    with open(event.expected_path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(new, indent=2, ensure_ascii=False) + "\n")
    return Outcome(event, UPDATED, f"wrote {name}", diff, log=log)
