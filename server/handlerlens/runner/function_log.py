"""A served function's log as the platform writes it: the system lines (INIT_START, START,
END, REPORT, a failed init's INIT_REPORT, a timeout's or crash's line) beside the function's
own output, in its log format, to the runner's status and to the callers that asked for the
lines of their request (FunctionHost.invoke's `want_log`)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from handlerlens.platforms import runner_logs
from handlerlens.runner.status import Status
from handlerlens.runner.targets import ServedFunction

# How long to wait for a request's last log lines once its result is in (a handler that
# closed its stdout never writes the end marker).
LOG_SETTLE_S = 0.5
# An outcome as the status of a JSON platform.report (DG telemetry-schema-reference.html
# `Status`: success, failure, error, timeout).
_REPORT_STATUS = {"ok": "success", "timeout": "timeout"}


class FunctionLog:
    """One function's log: `fn` is its current declaration (FunctionHost.redeclare sets it)."""

    def __init__(self, fn: ServedFunction, status: Status) -> None:
        self.fn = fn
        self.status = status
        self._tails: dict[str, deque[str]] = {}
        # A failed init's INIT_REPORT per request, until that request's START (system()).
        self._init_reports: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def keep_lines(self, request_id: str) -> None:
        """Keep the lines of `request_id` (END and REPORT included) until take_lines()."""
        self._tails[request_id] = deque(maxlen=2000)

    def take_lines(self, request_id: str) -> list[str] | None:
        """The lines kept for `request_id` (None: none were asked for); no more are kept."""
        tail = self._tails.pop(request_id, None)
        return None if tail is None else list(tail)

    def output(self, request_id: str | None, stream: str, line: str) -> None:
        """A line of the function's own output (the pool's log sink)."""
        self.status.log(self.fn.name, request_id, stream, line)
        if request_id is not None:
            tail = self._tails.get(request_id)
            if tail is not None:
                tail.append(line)

    def system(self, request_id: str, line: str, status: str = "success") -> None:
        """A platform system line (START, END, REPORT, timeout) in the function's log;
        `status` the invocation's, for a JSON platform.report."""
        if self._init_reports:
            pending = self._init_reports.pop(request_id, None)
            if pending is not None:
                self.system(request_id, pending)
        fn = self.fn
        shown = line
        # (_as_logged, inline: three lines a request on the hot path)
        if runner_logs.json_records(fn.platform, fn.env):
            record = runner_logs.as_json_record(line, function_name=fn.function_name, status=status)
            if record is None:
                return
            shown = record
        self.status.log(fn.name, request_id, "system", shown)
        tail = self._tails.get(request_id)
        if tail is not None:
            tail.append(shown)

    def start(self, request_id: str, version: str) -> None:
        """The request's START line."""
        self.system(request_id, runner_logs.start_line(self.fn.platform, request_id, version))

    def end_and_report(
        self,
        request_id: str,
        outcome_status: str,
        duration_ms: float,
        memory_mb: int,
        init_ms: float | None,
        queue_ms: float,
    ) -> None:
        """The request's END and REPORT lines, and the runner's `report` event if asked for."""
        fn = self.fn
        self.system(request_id, runner_logs.end_line(fn.platform, request_id))
        self.system(
            request_id,
            runner_logs.report_line(
                fn.platform, request_id, duration_ms, fn.memory, memory_mb, init_ms, queue_ms
            ),
            _REPORT_STATUS.get(outcome_status, "error"),
        )
        if self.status.wants_events:
            self.status.emit(
                {
                    "event": "report",
                    "function": fn.name,
                    "requestId": request_id,
                    "durationMs": round(duration_ms, 3),
                    "billedMs": runner_logs.billed_ms(fn.platform, duration_ms),
                    "memoryMb": fn.memory,
                    "maxMemoryMb": memory_mb,
                    "initMs": None if init_ms is None else round(init_ms, 3),
                }
            )

    def init_start(self, request_id: str | None) -> None:
        """The platform's line as a new instance's init begins (AWS: INIT_START), in the log
        of the request it runs for, if any (the pool's on_init_start)."""
        self._init_line(request_id, runner_logs.init_start_line(self.fn.platform, self.fn.runtime))

    def init_failed(
        self,
        worker: Any,
        request_id: str | None,
        init_ms: float,
        error_type: str | None,
        status: str,
    ) -> None:
        """AWS's INIT_REPORT after a failed init (the pool's on_init_failed): phase "init"
        ahead of any request, "invoke" for the init Lambda runs again inside the next request
        (PLATFORMS.md §12.4); written after init's own lines: ahead of a request once they are
        routed, in a request right before its START."""
        phase = "init" if request_id is None else "invoke"
        line = runner_logs.init_report_line(self.fn.platform, init_ms, phase, status, error_type)
        if line is None:
            return
        if request_id is not None:
            # Written by system() right before the request's next line, its START, which
            # comes once init's own lines are out.
            self._init_reports[request_id] = line
            return
        done = worker.logs_done(request_id)
        if done is None or done.done():
            self._init_line(request_id, line)
            return

        async def after_init_lines() -> None:
            try:
                await asyncio.wait_for(asyncio.shield(done), LOG_SETTLE_S)
            except asyncio.TimeoutError:
                pass
            self._init_line(request_id, line)

        task = asyncio.get_running_loop().create_task(after_init_lines())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self, worker: Any, request_id: str) -> None:
        """Wait (LOG_SETTLE_S at most) for the worker's last lines of `request_id`."""
        done = worker.logs_done(request_id)
        if done is not None and not done.done():
            try:
                await asyncio.wait_for(asyncio.shield(done), LOG_SETTLE_S)
            except asyncio.TimeoutError:
                pass

    def _init_line(self, request_id: str | None, line: str | None) -> None:
        if line is None:
            return
        if request_id is None:
            shown = self._as_logged(line)
            if shown is not None:
                self.status.log(self.fn.name, None, "system", shown)
        else:
            self.system(request_id, line)

    def _as_logged(self, line: str, status: str = "success") -> str | None:
        """A platform line in the function's log format (JSON records in Lambda's JSON log
        mode, runner_logs.as_json_record; None: that mode has no record for it)."""
        fn = self.fn
        if not runner_logs.json_records(fn.platform, fn.env):
            return line
        return runner_logs.as_json_record(line, function_name=fn.function_name, status=status)
