"""A served function's calls, each on its way: queued for an instance, begun there (init
again first where the platform does), sent under its time limit, and concluded: the outcome
to whoever asked, then END and REPORT (runner/function_log.py), then the instance's release
to the next request. Calls the worker answers itself on a lent connection (runner/lender.py)
are watched the same way, their STARTs in order.

The hot path, driven by callbacks rather than a task: the request is written to the worker in
the loop turn that parsed it (or, when queued, in the turn that freed the instance), and
`done` runs in the turn that read the reply, followed there by the END and REPORT lines and
the instance's release to the next request in the queue. A warm request costs two loop
turns, where a task and futures cost five.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from handlerlens.platforms import runner_env
from handlerlens.platforms.failures import Failures, call_timeout
from handlerlens.runner.call_endings import failure_outcome, reply_outcome
from handlerlens.runner.function_log import LOG_SETTLE_S, FunctionLog
from handlerlens.runner.outcome import CLIENT_GONE_ERROR, STOPPING_ERROR, Outcome
from handlerlens.runner.pool import InitTimedOut, Instance, Pool
from handlerlens.runner.targets import ServedFunction
from handlerlens.runner.worker_env import resident_bytes
from handlerlens.runner.worker_process import WorkerDied, WorkerProcess
from handlerlens.worker import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from handlerlens.worker.protocol import InvokeMessage

log = logging.getLogger("handlerlens.runner")


class Calls:
    """One function's calls on its pool; `fn` and `failures` are its current declaration's
    (FunctionHost.redeclare sets them)."""

    def __init__(
        self, fn: ServedFunction, failures: Failures, pool: Pool, log: FunctionLog
    ) -> None:
        self.fn = fn
        self.failures = failures
        self.pool = pool
        self.log = log
        self.status = log.status
        self._tasks: set[asyncio.Task[Any]] = set()
        self._max_memory_mb = 0
        # Requests begun on lent connections and not yet ended in the log, per worker, oldest
        # first: a request's START waits for the END and REPORT of the one before on the
        # same instance, as in the platform's log, where an instance runs one after another.
        self._direct_open: dict[WorkerProcess, deque[_Call]] = {}

    def run(
        self,
        event: bytes,
        done: Callable[[Outcome], None],
        mode: str,
        extra: dict[str, Any] | None,
        request_id: str | None,
        gone: Callable[[], bool] | None,
    ) -> None:
        """Run the handler once, then call `done(outcome)` — never before this returns
        (FunctionHost.run says what `gone` does)."""
        call = _Call(self, request_id or runner_env.request_id(), event, mode, extra, done)
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
        self.log.start(rid, instance.version)
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
            self.log.start(rid, failed.version)
            outcome = await self._failure(timed_out.instance, rid, asyncio.TimeoutError())
            self._conclude(call, outcome, 0, False)
            return
        if fresh is None:  # a reload or the stop came first, or no interpreter: as it was
            self.log.start(rid, failed.version)
            self._conclude(call, Outcome(rid, "init_error", error=failed.error), 0, False)
            return
        self.pool.last_error = fresh.error
        call.instance = fresh
        call.init_ms = fresh.take_init_ms()
        call.init_inside = True  # its time is in the call's own
        await self.log.settle(fresh.worker, rid)  # init's lines before the call's
        self.log.start(rid, fresh.version)
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
        call = _Call(self, rid, b"", "json", None, done)
        call.direct = True
        call.instance = instance
        call.init_ms = instance.take_init_ms()
        open_calls = self._direct_open.setdefault(instance.worker, deque())
        open_calls.append(call)
        if len(open_calls) == 1:
            self.log.start(rid, instance.version)
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
                    self._conclude_reply(call, reply, payload)

            if instance.worker.when_logs_done(call.rid, conclude):
                # A handler that closed its stdout never writes the end marker.
                asyncio.get_running_loop().call_later(LOG_SETTLE_S, conclude)
            else:
                conclude()
            return
        done = instance.worker.logs_done(call.rid)
        if done is None or done.done():
            self._conclude_reply(call, reply, payload)
            return
        # The handler printed: its last lines may still be on their way.
        self._spawn(self._replied_later(call, reply, payload))

    async def _replied_later(self, call: _Call, reply: dict[str, Any], payload: bytes) -> None:
        assert call.instance is not None
        await self.log.settle(call.instance.worker, call.rid)
        self._conclude_reply(call, reply, payload)

    def _conclude_reply(self, call: _Call, reply: dict[str, Any], payload: bytes) -> None:
        say = self.status.human
        outcome, max_rss_kb = reply_outcome(self.fn, self.failures, call.rid, reply, payload, say)
        self._conclude(call, outcome, max_rss_kb, True)  # a function error leaves it running

    async def _failed_later(self, call: _Call, exc: BaseException) -> None:
        assert call.instance is not None
        # A worker stopped for its timeout says nothing more: its memory now is what it
        # used (REPORT's "Max Memory Used: 0 MB" otherwise, on a first call).
        worker = call.instance.worker
        rss = worker.rss_at_timeout or (resident_bytes(worker.pid) if worker.alive else None)
        outcome = await self._failure(call.instance, call.rid, exc, call.init_ms)
        self._conclude(call, outcome, (rss or 0) // 1024, False)

    async def _failure(
        self, instance: Instance, rid: str, exc: BaseException, init_ms: float | None = None
    ) -> Outcome:
        """A timed-out or dead worker's outcome (call_endings.failure_outcome); `init_ms`:
        the init this call's time limit included, if any."""
        init_s = self.fn.timeout - self._timeout(init_ms)  # the init its time limit counted
        fn, failures = self.fn, self.failures
        return await failure_outcome(fn, failures, self.pool, self.log, instance, rid, exc, init_s)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _conclude(self, call: _Call, outcome: Outcome, max_rss_kb: int, reusable: bool) -> None:
        """The outcome to the caller (who answers at once), then END, REPORT and release.

        Released only after the lines: a queued request's START comes after this one's
        REPORT, as in the platform's log, where an instance runs one request after another.
        """
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
            failures = self.failures
            if failures.counts_init:
                # Yandex's Duration includes queuing and init (PLATFORMS.md §6.1).
                duration += queue_ms + (call.init_ms or 0.0)
            elif self._init_late(call):
                # AWS: an init past its limit, ahead of this call, stands for the one Lambda
                # runs again inside it (PLATFORMS.md §12.4): its time is in the call's
                # Duration (and Billed Duration), as in invoke's.
                duration += call.init_ms or 0.0
            self.log.end_and_report(
                rid, outcome.status, duration, memory_mb, call.init_ms, queue_ms
            )
        finally:
            status.release_access()
            if call.direct:  # a lent connection's instance stays lent
                self._next_direct(call)
            elif reusable:
                self.pool.release(instance)

    def _init_late(self, call: _Call) -> bool:
        """Whether the init `call` reports ran ahead of it past the platform's init limit (an
        init run again inside the call is in its Duration already)."""
        init_ms = call.init_ms
        if not init_ms or call.init_inside:
            return False
        return self.failures.init_late(init_ms / 1000.0, debug=self.pool.debug)

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
            self.log.start(call.rid, call.instance.version)


class _Call:
    """One invocation on its way through run(): queued, then on an instance, then done."""

    __slots__ = (
        "calls",
        "rid",
        "event",
        "mode",
        "extra",
        "done",
        "queued",
        "started",
        "init_ms",
        "init_inside",
        "instance",
        "direct",
        "concluded",
        "start_deferred",
        "gone",
    )

    def __init__(
        self,
        calls: Calls,
        rid: str,
        event: bytes,
        mode: str,
        extra: dict[str, Any] | None,
        done: Callable[[Outcome], None],
    ) -> None:
        self.calls = calls
        self.rid = rid
        self.event = event
        self.mode = mode
        self.extra = extra
        self.done = done
        self.queued = time.perf_counter()
        self.started = self.queued
        self.init_ms: float | None = None
        self.init_inside = False  # its init ran again inside it (Calls._init_again)
        self.instance: Instance | None = None
        self.direct = False  # on a connection lent to the worker, which answers it
        self.concluded = False  # END and REPORT written
        self.start_deferred = False  # START not written yet (see Calls._direct_open)
        self.gone: Callable[[], bool] | None = None  # set while it waits (see run())

    def take(self, instance: Instance | None) -> bool:
        """The pool's answer: an instance to run on, or None when the runner is stopping."""
        if instance is None:
            error = dict(STOPPING_ERROR)
            asyncio.get_running_loop().call_soon(self.done, Outcome(self.rid, "crash", error=error))
            return False
        if self.gone is not None and self.gone():
            self.gone = None
            self.calls._drop(self)
            return False  # the instance goes to the next request
        self.calls._begin(self, instance)
        return True

    def on_reply(self, reply: dict[str, Any], payload: bytes) -> None:
        self.calls._replied(self, reply, payload)

    def on_error(self, exc: BaseException) -> None:
        self.calls._spawn(self.calls._failed_later(self, exc))
