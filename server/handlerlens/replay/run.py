"""`handlerlens test`: every saved event through the runner, compared with its expected file.

Each function is served by a `handlerlens serve` child process (`runner.client.RunnerProcess`,
as the language server drives it) started once and invoked over the Lambda Invoke API for
each of its events, warm, as a deployed instance serves consecutive calls; `--cold` starts a
fresh runner per event. The function's timeout and memory apply as in `serve`: a handler that
hangs fails its test with the platform's timeout error and the run goes on.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from handlerlens.replay.events import Function, ReplayError, SavedEvent, shown
from handlerlens.replay.expect import (
    ExpectationError,
    actual_view,
    compare,
    load_expected,
    parse_json,
    updated_expected,
    validate_ignore,
)

PASSED, FAILED, ERROR, NO_EXPECTATION, UPDATED = (
    "passed",
    "failed",
    "error",
    "no expectation",
    "updated",
)
TEST_SETTINGS = frozenset({"ignore", "strict"})
# On top of the function's own timeout: the runner answers a hang itself; this only guards
# against a runner that stops answering at all.
RUNNER_GRACE_S = 30.0
LOG_LINES_SHOWN = 20


@dataclass
class Options:
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


def test_settings(root: str) -> tuple[dict[str, Any] | None, str]:
    """`[tool.handlerlens.test]` of `<root>/pyproject.toml` (None without one) and the file's
    name for messages; ReplayError for a table HandlerLens cannot use."""
    path = os.path.join(root, "pyproject.toml")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None, ""
    if b"handlerlens" not in raw:
        return None, ""
    from handlerlens.project.toml_compat import loads

    name = shown(path)
    try:
        data = loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{name}: cannot read [tool.handlerlens.test]: {exc}") from None
    table = data.get("tool", {}).get("handlerlens", {})
    table = table.get("test") if isinstance(table, dict) else None
    if table is None:
        return None, name
    if not isinstance(table, dict):
        raise ReplayError(f"{name}: [tool.handlerlens] test must be a table")
    for key in table:
        if key not in TEST_SETTINGS:
            raise ReplayError(
                f"{name}: unknown key '{key}' in [tool.handlerlens.test] (known: "
                f"{', '.join(sorted(TEST_SETTINGS))})"
            )
    if "ignore" in table:
        try:
            validate_ignore(table["ignore"], f"{name} [tool.handlerlens.test]")
        except ExpectationError as exc:
            raise ReplayError(str(exc)) from None
    if "strict" in table and not isinstance(table["strict"], bool):
        raise ReplayError(f"{name}: [tool.handlerlens.test] strict must be true or false")
    return table, name


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


class _Runner:
    """A `handlerlens serve` process for one function, started when first needed."""

    def __init__(self, fn: Function, options: Options) -> None:
        self.fn = fn
        self.options = options
        self.process: Any = None
        self.used = False
        self._starting: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        """Start the runner (once; callers may race to it: later ones wait for the first)."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await self._starting

    async def _start(self) -> None:
        from handlerlens.runner.client import RunnerProcess

        self.process = await RunnerProcess.start(
            self.fn.spec,
            root=self.fn.spec.root,
            platform=None,
            python=self.options.python,
            project_root=self.options.project_root,
            timeout=self.options.timeout,
            watch=False,
            # Nothing reloads here: the standby interpreter a runner keeps for a fast reload
            # would only double the start-ups (~30% of the run's CPU time).
            extra_args=["--no-standby"],
        )

    async def invoke(self, event: Any) -> Any:
        from handlerlens.platforms.runner_env import default_timeout

        spec = self.fn.spec
        declared = spec.timeout or default_timeout(spec.platform, spec.declared_by)
        timeout = (self.options.timeout or declared) + RUNNER_GRACE_S
        return await asyncio.wait_for(self.process.invoke(event, self.fn.spec.name), timeout)

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        if self.process is not None:
            await self.process.stop()
            self.process = None


async def run(events: list[SavedEvent], options: Options, warnings: list[str]) -> list[Outcome]:
    """Every event, each function's in order through its own runner; functions side by side
    (each is its own instance, as deployed); outcomes and warnings in the events' order."""
    runners: dict[int, _Runner] = {}
    global_ignores = GlobalIgnores(options.ignore, options.ignore_source)
    groups: dict[int, list[int]] = {}  # function → indexes of its events, in order
    for index, event in enumerate(events):
        groups.setdefault(id(event.function), []).append(index)
    outcomes: list[Outcome | None] = [None] * len(events)
    said: list[list[str]] = [[] for _ in events]

    async def one_function(indexes: list[int]) -> None:
        for index in indexes:
            started = time.monotonic()
            outcome = await _one(events[index], options, runners, said[index], global_ignores)
            outcome.seconds = time.monotonic() - started
            outcomes[index] = outcome

    try:
        await asyncio.gather(*(one_function(indexes) for indexes in groups.values()))
    finally:
        await asyncio.gather(*(r.stop() for r in runners.values()), return_exceptions=True)
    for lines in said:
        warnings += lines
    warnings += global_ignores.warnings()
    return [o for o in outcomes if o is not None]


async def _one(
    event: SavedEvent,
    options: Options,
    runners: dict[int, _Runner],
    warnings: list[str],
    global_ignores: GlobalIgnores,
) -> Outcome:
    from handlerlens.runner.client import RunnerStartError

    fn = event.function
    if fn is None:
        if options.unparsed:
            return Outcome(
                event,
                ERROR,
                f"no function named '{event.folder_name}' was read: a declaring file does not "
                "parse (see the warning above), and the functions it declares are left out",
            )
        return Outcome(
            event,
            ERROR,
            f"no function named '{event.folder_name}' is declared any more; its events folder "
            f"is {shown(os.path.dirname(event.path))} (rename the folder to the function's "
            "new name, or delete it)",
        )
    try:
        with open(event.path, "rb") as handle:
            payload = parse_json(handle.read(), shown(event.path))
    except OSError as exc:
        return Outcome(event, ERROR, f"{shown(event.path)}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        return Outcome(event, ERROR, str(exc))
    expected_name = shown(event.expected_path)
    expected: dict[str, Any] | None = None
    if os.path.exists(event.expected_path):
        try:
            expected = load_expected(event.expected_path, expected_name)
        except ExpectationError as exc:
            return Outcome(event, ERROR, str(exc))
    runner = runners.get(id(fn))
    if runner is not None and options.cold and runner.used:
        await runner.stop()
        runner = None
    if runner is None:
        runner = runners[id(fn)] = _Runner(fn, options)
    try:
        await runner.start()
        runner.used = True
        result = await runner.invoke(payload)
    except RunnerStartError as exc:
        # Every event of this function says so; a later one tries a fresh start.
        runners.pop(id(fn), None)
        return Outcome(event, ERROR, f"the runner for '{fn.test_name}' did not start: {exc}")
    except (asyncio.TimeoutError, OSError, ValueError) as exc:
        await runner.stop()
        runners.pop(id(fn), None)
        return Outcome(event, ERROR, f"the runner stopped answering: {exc!r}")
    log = [str(line.get("line", "")) for line in result.logs][-LOG_LINES_SHOWN:]
    if result.status >= 300 and not result.function_error:
        return Outcome(
            event, ERROR, f"the runner answered {result.status}: {result.body[:500]}", log=log
        )
    actual = actual_view(result.json, result.function_error)
    return judge(event, expected, actual, options, warnings, global_ignores, log)


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


# Reports


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
