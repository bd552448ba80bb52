"""One served function: runs an invocation on its pool, with timeout, logs and report."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from handlerlens.platforms import aws_errors, runner_env, runner_logs, yandex_response
from handlerlens.runner.pool import Instance, Pool, Superseded
from handlerlens.runner.status import Status
from handlerlens.runner.targets import ServedFunction
from handlerlens.runner.worker_process import WorkerDied

log = logging.getLogger("handlerlens.runner")

TAIL_BYTES = 4096
# How long to wait for a request's last log lines once its result is in (a handler that
# closed its stdout never writes the end marker).
LOG_SETTLE_S = 0.5
RELOADED_WHILE_PAUSED = (
    "The function was reloaded (a file changed) while this invocation was paused in the "
    "debugger, so its worker was stopped. Invoke again to run the new code."
)


@dataclass
class Outcome:
    """How one invocation ended, before any platform's HTTP mapping."""

    request_id: str
    status: str  # ok | error | init_error | unserialisable | timeout | crash
    kind: str = "json"
    payload: bytes = b""
    error: dict[str, Any] | None = None
    detail: str = ""
    log_lines: list[str] = field(default_factory=list)


class FunctionHost:
    """A function, its pool, and the bookkeeping around each call."""

    def __init__(
        self,
        fn: ServedFunction,
        python: str,
        status: Status,
        instances: int,
        *,
        debug: bool = False,
        standby: bool = True,
    ) -> None:
        self.fn = fn
        self.status = status
        self.pool = Pool(fn, python, self._on_log, instances, debug=debug, standby=standby)
        # False until start(): under a debugger, workers wait for the editor to attach.
        self.started = False
        self._tails: dict[str, deque[str]] = {}
        self._max_memory_mb = 0

    async def start(self) -> None:
        """Start the function's workers and report how init went."""
        self.started = True
        try:
            await self.pool.start()
        except Superseded:
            return  # a save came while init was paused in the debugger; its reload reports
        self._announce_init(self.pool.last_error)

    async def reload(self) -> None:
        """Replace every instance with fresh processes running the code on disk."""
        self.status.emit({"event": "reloading", "function": self.fn.name})
        started = time.perf_counter()
        try:
            error = await self.pool.reload()
        except Superseded:
            return
        self._announce_init(error, (time.perf_counter() - started) * 1000.0)

    def interrupt_paused(self) -> None:
        """A change arrived: end workers paused in the debugger, so the reload can proceed."""
        if self.pool.interrupt_paused("a file changed while it was paused in the debugger"):
            self.status.human(
                f"handlerlens: {self.fn.name}: a file changed while paused in the debugger; "
                "the paused worker was stopped and the new code is loading"
            )

    def _announce_init(self, error: dict[str, Any] | None, took_ms: float | None = None) -> None:
        event: dict[str, Any] = {"event": "reloaded", "function": self.fn.name, "ok": error is None}
        if error is not None:
            event["error"] = error
            emulated = (
                " (Yandex does not document its load-error text; this is the Python error)"
                if self.fn.platform == "yandex"
                else ""
            )
            self.status.human(
                f"handlerlens: {self.fn.name}: init failed: {error.get('errorType')}: "
                f"{error.get('errorMessage')}{emulated}. Requests get this error until the "
                "next good save."
            )
        elif took_ms is not None:
            self.status.human(f"handlerlens: {self.fn.name}: reloaded in {took_ms:.0f} ms")
        if took_ms is not None:
            event["ms"] = round(took_ms, 3)
        self.status.emit(event)

    def system(self, request_id: str, line: str) -> None:
        """A platform system line (START, END, REPORT, timeout) in the function's log."""
        self.status.log(self.fn.name, request_id, "system", line)
        tail = self._tails.get(request_id)
        if tail is not None:
            tail.append(line)

    def _on_log(self, request_id: str | None, stream: str, line: str) -> None:
        self.status.log(self.fn.name, request_id, stream, line)
        if request_id is not None:
            tail = self._tails.get(request_id)
            if tail is not None:
                tail.append(line)

    async def invoke(
        self,
        event: bytes,
        *,
        mode: str = "json",
        extra: dict[str, Any] | None = None,
        request_id: str | None = None,
        want_log: bool = False,
    ) -> Outcome:
        """Run the handler once with `event` (JSON bytes, or raw bytes in `raw` mode)."""
        fn = self.fn
        rid = request_id or runner_env.request_id()
        if want_log:
            self._tails[rid] = deque(maxlen=2000)
        queued = time.perf_counter()
        instance = await self.pool.acquire()
        started = time.perf_counter()
        init_ms = instance.take_init_ms()
        self.system(rid, runner_logs.start_line(fn.platform, rid, instance.version))
        try:
            outcome, max_rss_kb, reusable = await self._call(
                instance, rid, event, mode, extra or {}
            )
        finally:
            duration = (time.perf_counter() - started) * 1000.0
        if want_log or self.pool.waiting:
            handed_over = self._finish(
                instance, reusable, rid, duration, queued, started, init_ms, max_rss_kb
            )
            if handed_over:
                # The queued request took the instance: let it send its event to the worker
                # before this one's response is built and written, so the worker is not idle.
                await asyncio.sleep(0)
        else:
            # Nobody is queued: the response goes out first, the END and REPORT lines and the
            # release follow in the loop's next turn, before it looks at any new request.
            asyncio.get_running_loop().call_soon(
                self._finish,
                instance,
                reusable,
                rid,
                duration,
                queued,
                started,
                init_ms,
                max_rss_kb,
            )
        if want_log:
            outcome.log_lines = list(self._tails.pop(rid, ()))
        return outcome

    def _finish(
        self,
        instance: Instance,
        reusable: bool,
        rid: str,
        duration: float,
        queued: float,
        started: float,
        init_ms: float | None,
        max_rss_kb: int,
    ) -> bool:
        """END and REPORT, then the instance goes back; True if a queued request took it.

        Released only after the lines: a queued request's START comes after this one's
        REPORT, as in the platform's log, where an instance runs one request after another.
        """
        fn = self.fn
        try:
            memory_mb = max(self._max_memory_mb, int(math.ceil(max_rss_kb / 1024.0)))
            self._max_memory_mb = memory_mb
            if fn.platform == "yandex":
                # Yandex's Duration includes queuing and init (PLATFORMS.md §6.1).
                duration += (started - queued) * 1000.0 + (init_ms or 0.0)
            self.system(rid, runner_logs.end_line(fn.platform, rid))
            self.system(
                rid,
                runner_logs.report_line(
                    fn.platform,
                    rid,
                    duration,
                    fn.memory,
                    memory_mb,
                    init_ms,
                    (started - queued) * 1000.0,
                ),
            )
            if self.status.wants_events:
                self._report_event(rid, duration, memory_mb, init_ms)
        finally:
            handed_over = reusable and self.pool.release(instance)
        return handed_over

    def _report_event(
        self, rid: str, duration: float, memory_mb: int, init_ms: float | None
    ) -> None:
        fn = self.fn
        self.status.emit(
            {
                "event": "report",
                "function": fn.name,
                "requestId": rid,
                "durationMs": round(duration, 3),
                "billedMs": runner_logs.billed_ms(fn.platform, duration),
                "memoryMb": fn.memory,
                "maxMemoryMb": memory_mb,
                "initMs": None if init_ms is None else round(init_ms, 3),
            }
        )

    async def _call(
        self, instance: Instance, rid: str, event: bytes, mode: str, extra: dict[str, Any] | None
    ) -> tuple[Outcome, int, bool]:
        """The outcome, the worker's peak memory, and whether the instance can take the next
        request (the caller releases it then); a timed-out or dead one is already replaced."""
        fn = self.fn
        if instance.dead_init:
            return Outcome(rid, "init_error", error=instance.error), 0, True
        deadline_ms = int(time.time() * 1000 + fn.timeout * 1000)
        meta = {"op": "invoke", "rid": rid, "deadlineMs": deadline_ms, "mode": mode}
        if extra:
            meta.update(extra)
        worker = instance.worker
        try:
            reply, payload = await worker.call(meta, event, rid, fn.timeout)
        except asyncio.TimeoutError:
            worker.kill()
            if fn.platform == "aws":
                message = aws_errors.timeout_message(rid, fn.timeout, time.time())
                error: dict[str, Any] = aws_errors.timeout_error(rid, fn.timeout, time.time())
            else:
                message = yandex_response.TIMEOUT_LOG_LINE
                error = dict(yandex_response.TIMEOUT_BODY)
            await self._settle_logs(worker, rid)
            self.system(rid, message)
            self.pool.discard(instance)
            return Outcome(rid, "timeout", error=error), 0, False
        except WorkerDied:
            if worker.interrupted:
                return self._interrupted(instance, rid), 0, False
            code = await worker.wait_exit(1.0)
            how = aws_errors.describe_exit(code)
            await self._settle_logs(worker, rid)
            error = aws_errors.exit_error(rid, how)
            self.system(rid, f"RequestId: {rid} Error: Runtime exited with error: {how}")
            if fn.platform == "yandex":
                error = yandex_response.exit_error(how)
            self.pool.discard(instance)
            return Outcome(rid, "crash", error=error), 0, False
        await self._settle_logs(worker, rid)
        max_rss = int(reply.get("maxRssKb") or 0)
        if reply.get("ok"):
            if fn.platform == "aws" and len(payload) > aws_errors.MAX_RESPONSE_BYTES:
                self.status.human(
                    f"handlerlens: {fn.name}: the response is {len(payload):,} bytes, over AWS "
                    f"Lambda's {aws_errors.MAX_RESPONSE_BYTES:,}-byte limit for a synchronous "
                    "response: the caller gets Function.ResponseSizeTooLarge"
                )
                error = aws_errors.response_too_large_error()
                return Outcome(rid, "error", error=error), max_rss, True
            ok = Outcome(rid, "ok", kind=str(reply.get("kind", "json")), payload=payload)
            return ok, max_rss, True
        kind = reply.get("errorKind")
        if kind == "unserialisable":
            detail = str(reply.get("detail", ""))
            self.status.human(
                f"handlerlens: {fn.name}: the return value is not JSON-serialisable ({detail})"
            )
            return Outcome(rid, "unserialisable", detail=str(reply.get("repr", ""))), max_rss, True
        status = "init_error" if kind == "init" else "error"
        return Outcome(rid, status, error=reply.get("error") or {}), max_rss, True

    def _interrupted(self, instance: Instance, rid: str) -> Outcome:
        error: dict[str, Any] = {"errorMessage": RELOADED_WHILE_PAUSED, "errorType": "Runner"}
        if self.fn.platform == "aws":
            error["requestId"] = rid
        error["stackTrace"] = []
        self.system(rid, f"RequestId: {rid} Error: {RELOADED_WHILE_PAUSED}")
        # No replacement for this instance: the reload that ended it brings up the next.
        self.pool.retire(instance, "replacing paused")
        return Outcome(rid, "crash", error=error)

    async def _settle_logs(self, worker: Any, rid: str) -> None:
        done = worker.logs_done(rid)
        if done is not None and not done.done():
            try:
                await asyncio.wait_for(asyncio.shield(done), LOG_SETTLE_S)
            except asyncio.TimeoutError:
                pass
