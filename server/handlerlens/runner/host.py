"""One served function: runs an invocation on its pool, with timeout, logs and report."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from handlerlens.platforms import aws_errors, runner_env, runner_logs
from handlerlens.platforms.faces import face_for
from handlerlens.platforms.failures import call_timeout
from handlerlens.runner import announce
from handlerlens.runner.outcome import CLIENT_GONE_ERROR, STOPPING_ERROR, Outcome
from handlerlens.runner.pool import InitTimedOut, Instance, Pool, Superseded
from handlerlens.runner.status import Status
from handlerlens.runner.targets import ServedFunction
from handlerlens.runner.worker_env import resident_bytes
from handlerlens.runner.worker_process import WorkerDied, WorkerProcess
from handlerlens.worker import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from handlerlens.worker.protocol import InvokeMessage

log = logging.getLogger("handlerlens.runner")

TAIL_BYTES = 4096
# How long to wait for a request's last log lines once its result is in (a handler that
# closed its stdout never writes the end marker).
LOG_SETTLE_S = 0.5
# An outcome as the status of a JSON platform.report (DG telemetry-schema-reference.html
# `Status`: success, failure, error, timeout).
_REPORT_STATUS = {"ok": "success", "timeout": "timeout"}
RELOADED_WHILE_PAUSED = (
    "The function was reloaded (a file changed) while this invocation was paused in the "
    "debugger, so its worker was stopped. Invoke again to run the new code."
)


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
        # The platform's HTTP face and failure phrasebook: every platform fact the runner
        # needs about this function comes from these two.
        self.face = face_for(fn.platform, fn.trigger)
        self.failures = self.face.failures
        self.status = status
        self.pool = Pool(fn, python, self._on_log, instances, debug=debug, standby=standby)
        # False until start(): under a debugger, workers wait for the editor to attach.
        self.started = False
        self._tails: dict[str, deque[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._max_memory_mb = 0
        # Set by the lender (runner/lender.py) when connections are lent to this function's
        # worker: asks for them back, as a reload must.
        self.give_back: Callable[[], None] | None = None
        # Requests begun on lent connections and not yet ended in the log, per worker, oldest
        # first: a request's START waits for the END and REPORT of the one before on the
        # same instance, as in the platform's log, where an instance runs one after another.
        self._direct_open: dict[WorkerProcess, deque[_Call]] = {}
        # Called when a request arrives before start() (under --debug: no debugger yet).
        self.on_unstarted: Callable[[], None] | None = None
        # Started by its first request rather than with the runner (a whole app's functions,
        # runner/supervisor.py): the task that starts it, once one came.
        self.lazy = False
        self._starting: asyncio.Task[None] | None = None
        # Whether the runner reads a changed declaring file again (runner/supervisor.py), so a
        # reload needs no "restart serve" note.
        self.follows_declaration = False
        # Keep a standby interpreter from the first reload on (a lazy function starts without).
        self.standby_later = False
        self.pool.on_init_start = self._init_start
        self.pool.on_init_failed = self._init_failed
        # A failed init's INIT_REPORT per request, until that request's START (system()).
        self._init_reports: dict[str, str] = {}

    def _init_start(self, request_id: str | None) -> None:
        """The platform's line as a new instance's init begins (AWS: INIT_START), in the log
        of the request it runs for, if any."""
        self._init_line(request_id, runner_logs.init_start_line(self.fn.platform, self.fn.runtime))

    def _init_failed(
        self,
        worker: Any,
        request_id: str | None,
        init_ms: float,
        error_type: str | None,
        status: str,
    ) -> None:
        """AWS's INIT_REPORT after a failed init: phase "init" ahead of any request, "invoke"
        for the init Lambda runs again inside the next request (PLATFORMS.md §12.4); written
        after init's own lines: ahead of a request once they are routed, in a request right
        before its START."""
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

    async def start(self) -> None:
        """Start the function's workers and report how init went."""
        self.started = True
        try:
            await self.pool.start()
        except Superseded:
            return  # a save came while init was paused in the debugger; its reload reports
        self._announce_init(self.pool.last_error)

    def redeclare(self, fn: ServedFunction) -> None:
        """Take `fn`'s new declaration (same name, code root and platform): the next reload's
        workers run with its entry point, environment and limits."""
        self.fn = fn
        self.pool.fn = fn
        self.face = face_for(fn.platform, fn.trigger)
        self.failures = self.face.failures

    def start_now(self) -> None:
        """Start a lazy function's workers (once): its first request waits for them in the
        pool's queue, as a cold start waits for init."""
        if self._starting is None and not self.started:
            self._starting = asyncio.get_running_loop().create_task(self.start())

    def cancel_start(self) -> None:
        """The runner stops: a lazy start under way starts nothing more."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()

    async def reload(self, changed: set[str] | None = None) -> None:
        """Replace every instance with fresh processes running the code on disk.

        `changed`: the paths whose change caused it, named in the log, so a reload nobody
        expected (a file the function writes into its own code root) explains itself.
        """
        changed = changed or set()
        if self.standby_later:
            self.standby_later = False
            self.pool.standby = True  # this reload starts one for the next
        if self.give_back is not None:
            self.give_back()  # lent connections come back after their current request
        # An editor's or sed's temporary file comes and goes within the burst: name the files
        # that are there now (or, when the change removed files, those).
        present = {path for path in changed if os.path.exists(path)}
        names = announce.relative_names(self.fn.root, present or changed)
        self.status.emit({"event": "reloading", "function": self.fn.name, "changed": names})
        started = time.perf_counter()
        try:
            error = await self.pool.reload()
        except Superseded:
            return
        self._announce_init(error, (time.perf_counter() - started) * 1000.0, names)
        if not self.follows_declaration:
            announce.declaration_kept(self.status, self.fn, changed)

    def interrupt_paused(self) -> None:
        """A change arrived: end workers paused in the debugger, so the reload can proceed."""
        if self.pool.interrupt_paused("a file changed while it was paused in the debugger"):
            self.status.human(
                f"handlerlens: {self.fn.name}: a file changed while paused in the debugger; "
                "the paused worker was stopped and the new code is loading"
            )

    def _announce_init(
        self,
        error: dict[str, Any] | None,
        took_ms: float | None = None,
        changed: list[str] | None = None,
    ) -> None:
        note = self.failures.init_error_note
        announce.init_result(self.status, self.fn, note, error, took_ms, changed)

    def system(self, request_id: str, line: str, status: str = "success") -> None:
        """A platform system line (START, END, REPORT, timeout) in the function's log;
        `status` the invocation's, for a JSON platform.report."""
        if self._init_reports:
            pending = self._init_reports.pop(request_id, None)
            if pending is not None:
                self.system(request_id, pending)
        shown = self._as_logged(line, status)
        if shown is None:
            return
        line = shown
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
        gone: Callable[[], bool] | None = None,
    ) -> Outcome:
        """Run the handler once with `event` (JSON bytes, or raw bytes in `raw` mode).

        With `want_log`, the outcome carries the request's log lines, END and REPORT included.
        `gone`: see run().
        """
        rid = request_id or runner_env.request_id()
        if want_log:
            self._tails[rid] = deque(maxlen=2000)
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

        def deliver(outcome: Outcome) -> None:
            if not done.done():
                done.set_result(outcome)

        try:
            self.run(event, deliver, mode=mode, extra=extra, request_id=rid, gone=gone)
            # The future's waiter resumes in a later loop turn: after run() has written the
            # END and REPORT lines, so they are in the tail.
            outcome = await done
        finally:
            tail = self._tails.pop(rid, None) if want_log else None
        if tail is not None:
            outcome.log_lines = list(tail)
        return outcome

    def run(
        self,
        event: bytes,
        done: Callable[[Outcome], None],
        *,
        mode: str = "json",
        extra: dict[str, Any] | None = None,
        request_id: str | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> None:
        """Run the handler once, then call `done(outcome)` — never before this returns.

        `gone()` says whether whoever asked has gone away (its client closed the connection):
        a request that had to wait for an instance is then not run at all (Outcome "gone"),
        so a client that gave up never has its request run later, e.g. at a breakpoint.

        The hot path, driven by callbacks rather than a task: the request is written to the
        worker in the loop turn that parsed it (or, when queued, in the turn that freed the
        instance), and `done` runs in the turn that read the reply, followed there by the END
        and REPORT lines and the instance's release to the next request in the queue. A
        warm request costs two loop turns, where a task and futures cost five.
        """
        call = _Call(self, request_id or runner_env.request_id(), event, mode, extra, done)
        if not self.started:
            if self.lazy:
                self.start_now()
            elif self.on_unstarted is not None:
                self.on_unstarted()
        self.pool.request(call.take)
        if call.instance is None:  # it waits: whether its client still does is asked then
            call.gone = gone

    def _drop(self, call: _Call) -> None:
        """A request whose client left while it waited: never run, said once in the log."""
        self.status.human(
            f"handlerlens: {self.fn.name}: request {call.rid} not run: its client closed the "
            f"connection while it waited {time.perf_counter() - call.queued:.1f} s for an instance"
        )
        outcome = Outcome(call.rid, "gone", error=dict(CLIENT_GONE_ERROR))
        asyncio.get_running_loop().call_soon(call.done, outcome)

    def _begin(self, call: _Call, instance: Instance) -> None:
        """START, then the request goes to the worker."""
        fn = self.fn
        rid = call.rid
        call.instance = instance
        call.started = time.perf_counter()
        call.init_ms = instance.take_init_ms()
        if instance.error is not None and self.failures.init_again:
            # The runtime exited after its init error: this invocation runs init again in a
            # fresh process (PLATFORMS.md §12.4), its init lines in this request's log,
            # ahead of its START as the platform's init phase is.
            self._spawn(self._init_again(call, instance))
            return
        self.system(rid, runner_logs.start_line(fn.platform, rid, instance.version))
        loop = asyncio.get_running_loop()
        if instance.dead_init:
            # Deferred, like every ending: a queue of requests must not recurse through here.
            outcome = Outcome(rid, "init_error", error=instance.error)
            loop.call_soon(self._conclude, call, outcome, 0, True)
            return
        self._send(call, instance)

    async def _init_again(self, call: _Call, failed: Instance) -> None:
        """Init once more for `call`, then the call itself if init succeeded this time."""
        rid = call.rid
        # Under the function's timeout, as the platform retries init inside the invoke.
        timeout = None if self.pool.debug else self.fn.timeout
        try:
            fresh = await self.pool.init_again(failed, rid, timeout)
        except InitTimedOut as timed_out:
            call.instance = timed_out.instance
            self.system(rid, runner_logs.start_line(self.fn.platform, rid, failed.version))
            outcome = await self._failed(timed_out.instance, rid, asyncio.TimeoutError())
            self._conclude(call, outcome, 0, False)
            return
        if fresh is None:  # a reload or the stop came first, or no interpreter: as it was
            self.system(rid, runner_logs.start_line(self.fn.platform, rid, failed.version))
            self._conclude(call, Outcome(rid, "init_error", error=failed.error), 0, False)
            return
        self.pool.last_error = fresh.error
        call.instance = fresh
        call.init_ms = fresh.take_init_ms()
        await self._settle_logs(fresh.worker, rid)  # init's lines before the call's
        self.system(rid, runner_logs.start_line(self.fn.platform, rid, fresh.version))
        if fresh.error is not None:
            self._conclude(call, Outcome(call.rid, "init_error", error=fresh.error), 0, True)
            return
        self._send(call, fresh)

    def _send(self, call: _Call, instance: Instance) -> None:
        """The request to the worker, under the call's time limit."""
        rid = call.rid
        loop = asyncio.get_running_loop()
        timeout = self._timeout(call.init_ms)
        if timeout <= 0:  # init alone used it up: the call times out without running
            loop.call_soon(call.on_error, asyncio.TimeoutError())
            return
        meta: InvokeMessage = {
            "op": protocol.INVOKE,
            "rid": rid,
            "deadlineMs": int(time.time() * 1000 + timeout * 1000),
            "mode": call.mode,
        }
        if call.extra:
            meta.update(call.extra)  # type: ignore[typeddict-item]
        try:
            instance.worker.begin(meta, call.event, rid, timeout, call.on_reply, call.on_error)
        except WorkerDied as exc:
            loop.call_soon(call.on_error, exc)

    def begin_direct(self, instance: Instance, rid: str, done: Callable[[Outcome], None]) -> None:
        """A request the worker began on a lent connection: START, and the watch on it."""
        fn = self.fn
        call = _Call(self, rid, b"", "json", None, done)
        call.direct = True
        call.instance = instance
        call.init_ms = instance.take_init_ms()
        open_calls = self._direct_open.setdefault(instance.worker, deque())
        open_calls.append(call)
        if len(open_calls) == 1:
            self.system(rid, runner_logs.start_line(fn.platform, rid, instance.version))
        else:
            call.start_deferred = True
        # At 0 (init used it all) the watch stops the worker at once.
        timeout = max(0.0, self._timeout(call.init_ms))
        instance.worker.begin_remote(rid, timeout, call.on_reply, call.on_error)

    def _timeout(self, init_ms: float | None) -> float:
        """The call's time limit, in seconds (platforms/failures.py:call_timeout): here init
        ran ahead of the request, so what it took comes off the time where the platform
        counts it in the call's timeout."""
        fn = self.fn
        return call_timeout(
            fn.platform, fn.timeout, (init_ms or 0.0) / 1000.0, debug=self.pool.debug
        )

    def _replied(self, call: _Call, reply: dict[str, Any], payload: bytes) -> None:
        instance = call.instance
        assert instance is not None
        if call.direct:
            # Ended, in the log too, the moment its last line is routed: before any line of
            # the next request, which the worker may well have begun already.
            def conclude() -> None:
                if not call.concluded:
                    self._conclude(call, *self._succeeded(call.rid, reply, payload))

            if instance.worker.when_logs_done(call.rid, conclude):
                # A handler that closed its stdout never writes the end marker.
                asyncio.get_running_loop().call_later(LOG_SETTLE_S, conclude)
            else:
                conclude()
            return
        done = instance.worker.logs_done(call.rid)
        if done is None or done.done():
            self._conclude(call, *self._succeeded(call.rid, reply, payload))
            return
        # The handler printed: its last lines may still be on their way.
        self._spawn(self._replied_later(call, reply, payload))

    async def _replied_later(self, call: _Call, reply: dict[str, Any], payload: bytes) -> None:
        assert call.instance is not None
        await self._settle_logs(call.instance.worker, call.rid)
        self._conclude(call, *self._succeeded(call.rid, reply, payload))

    async def _failed_later(self, call: _Call, exc: BaseException) -> None:
        assert call.instance is not None
        # A worker stopped for its timeout says nothing more: its memory now is what it
        # used (REPORT's "Max Memory Used: 0 MB" otherwise, on a first call).
        worker = call.instance.worker
        rss = worker.rss_at_timeout or (resident_bytes(worker.pid) if worker.alive else None)
        outcome = await self._failed(call.instance, call.rid, exc, call.init_ms)
        self._conclude(call, outcome, (rss or 0) // 1024, False)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _conclude(self, call: _Call, outcome: Outcome, max_rss_kb: int, reusable: bool) -> None:
        """The outcome to the caller (who answers at once), then END, REPORT and release.

        Released only after the lines: a queued request's START comes after this one's
        REPORT, as in the platform's log, where an instance runs one request after another.
        """
        fn = self.fn
        instance = call.instance
        assert instance is not None
        rid = call.rid
        call.concluded = True
        duration = (time.perf_counter() - call.started) * 1000.0
        status = self.status
        status.hold_access()  # the access log's line comes after END and REPORT
        try:
            call.done(outcome)
        except Exception:
            log.exception("runner: answering request %s failed", rid)
        try:
            memory_mb = max(self._max_memory_mb, int(math.ceil(max_rss_kb / 1024.0)))
            self._max_memory_mb = memory_mb
            queue_ms = (call.started - call.queued) * 1000.0
            if self.failures.counts_init:
                # Yandex's Duration includes queuing and init (PLATFORMS.md §6.1).
                duration += queue_ms + (call.init_ms or 0.0)
            self.system(rid, runner_logs.end_line(fn.platform, rid))
            self.system(
                rid,
                runner_logs.report_line(
                    fn.platform, rid, duration, fn.memory, memory_mb, call.init_ms, queue_ms
                ),
                _REPORT_STATUS.get(outcome.status, "error"),
            )
            if status.wants_events:
                self._report_event(rid, duration, memory_mb, call.init_ms)
        finally:
            status.release_access()
            if call.direct:  # a lent connection's instance stays lent
                self._next_direct(call)
            elif reusable:
                self.pool.release(instance)

    def _next_direct(self, ended: _Call) -> None:
        """A lent request's END is out: the next one's START may follow."""
        assert ended.instance is not None
        worker = ended.instance.worker
        open_calls = self._direct_open.get(worker)
        if open_calls is None:
            return
        try:
            open_calls.remove(ended)
        except ValueError:
            pass
        if not open_calls:
            del self._direct_open[worker]
            return
        call = open_calls[0]
        if call.start_deferred and call.instance is not None:
            call.start_deferred = False
            line = runner_logs.start_line(self.fn.platform, call.rid, call.instance.version)
            self.system(call.rid, line)

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

    async def _failed(
        self, instance: Instance, rid: str, exc: BaseException, init_ms: float | None = None
    ) -> Outcome:
        """A timed-out or dead worker: the platform's error; the instance is replaced.
        `init_ms`: the init this call's time limit included, if any."""
        fn = self.fn
        worker = instance.worker
        if isinstance(exc, asyncio.TimeoutError):
            worker.kill()
            init_s = fn.timeout - self._timeout(init_ms)  # the init its time limit counted
            message, error = self.failures.timeout(
                rid, fn.timeout, fn.timeout_from, init_s, time.time()
            )
            await self._settle_logs(worker, rid)
            self.system(rid, message)
            self.pool.discard(instance)
            return Outcome(rid, "timeout", error=error)
        if worker.interrupted:
            return self._interrupted(instance, rid)
        if self.pool.closed:
            # Ended by the runner's own stop (Ctrl+C): not the function's failure.
            self.pool.discard(instance)
            return Outcome(rid, "crash", error=dict(STOPPING_ERROR))
        code = await worker.wait_exit(1.0)
        how = aws_errors.describe_exit(code)
        await self._settle_logs(worker, rid)
        line, error = self.failures.crash(rid, how)
        self.system(rid, line)
        self.pool.discard(instance)
        return Outcome(rid, "crash", error=error)

    def _succeeded(
        self, rid: str, reply: dict[str, Any], payload: bytes
    ) -> tuple[Outcome, int, bool]:
        """The outcome of a reply, the worker's peak memory, and True: the instance is
        reusable (a function error leaves it running, as on the platforms)."""
        fn = self.fn
        max_rss = int(reply.get("maxRssKb") or 0)
        if reply.get("ok"):
            too_large = self.failures.response_too_large(len(payload))
            if too_large is not None:
                message, error = too_large
                self.status.human(f"handlerlens: {fn.name}: {message}")
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
        line, error = self.failures.interrupted(rid, RELOADED_WHILE_PAUSED)
        self.system(rid, line)
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


class _Call:
    """One invocation on its way through run(): queued, then on an instance, then done."""

    __slots__ = (
        "host",
        "rid",
        "event",
        "mode",
        "extra",
        "done",
        "queued",
        "started",
        "init_ms",
        "instance",
        "direct",
        "concluded",
        "start_deferred",
        "gone",
    )

    def __init__(
        self,
        host: FunctionHost,
        rid: str,
        event: bytes,
        mode: str,
        extra: dict[str, Any] | None,
        done: Callable[[Outcome], None],
    ) -> None:
        self.host = host
        self.rid = rid
        self.event = event
        self.mode = mode
        self.extra = extra
        self.done = done
        self.queued = time.perf_counter()
        self.started = self.queued
        self.init_ms: float | None = None
        self.instance: Instance | None = None
        self.direct = False  # on a connection lent to the worker, which answers it
        self.concluded = False  # END and REPORT written
        self.start_deferred = False  # START not written yet (see FunctionHost._direct_open)
        self.gone: Callable[[], bool] | None = None  # set while it waits (see run())

    def take(self, instance: Instance | None) -> bool:
        """The pool's answer: an instance to run on, or None when the runner is stopping."""
        if instance is None:
            error = dict(STOPPING_ERROR)
            asyncio.get_running_loop().call_soon(self.done, Outcome(self.rid, "crash", error=error))
            return False
        if self.gone is not None and self.gone():
            self.gone = None
            self.host._drop(self)
            return False  # the instance goes to the next request
        self.host._begin(self, instance)
        return True

    def on_reply(self, reply: dict[str, Any], payload: bytes) -> None:
        self.host._replied(self, reply, payload)

    def on_error(self, exc: BaseException) -> None:
        self.host._spawn(self.host._failed_later(self, exc))
