"""`handlerlens test`: every saved event through the runner, compared with its expected file.

Each function is served by a `handlerlens serve` child process (`runner.client.RunnerProcess`,
as the language server drives it) started once and invoked over the Lambda Invoke API for
each of its events, warm, as a deployed instance serves consecutive calls; `--cold` starts a
fresh runner per event. The function's timeout and memory apply as in `serve`: a handler that
hangs fails its test with the platform's timeout error and the run goes on. The verdict on
each response is replay/verdicts.py's; the reports, replay/reports.py's.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from handlerlens.replay.events import Function, SavedEvent, shown
from handlerlens.replay.expect import ExpectationError, actual_view, load_expected, parse_json
from handlerlens.replay.verdicts import ERROR, GlobalIgnores, Options, Outcome, judge

# On top of the function's own timeout: the runner answers a hang itself; this only guards
# against a runner that stops answering at all.
RUNNER_GRACE_S = 30.0
LOG_LINES_SHOWN = 20


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
            outcome = await run_one(events[index], options, runners, said[index], global_ignores)
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


async def run_one(
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
