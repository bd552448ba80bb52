"""The instances of one function: one request at a time each, fresh processes on reload.

A standby worker (an interpreter that has imported nothing of the user's code) is kept
ready, so a reload costs an import, not an interpreter start-up. Each reload starts a new
generation: idle instances of older generations are stopped at once, busy ones when their
request finishes, so a running request completes on the old code and never hangs.

Under `--debug` each worker is a child debug session that runs only once the editor has
attached it: the standby does that while it waits, so a save still costs only an import. A
worker paused at a breakpoint when a change arrives is ended (its request gets an error),
so a reload never waits for someone to press Continue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlerlens.platforms import aws_errors, runner_env
from handlerlens.runner.targets import ServedFunction
from handlerlens.runner.worker_env import worker_environ
from handlerlens.runner.worker_init import deployed_field, init_message
from handlerlens.runner.worker_process import (
    LogSink,
    WorkerDied,
    WorkerProcess,
)

log = logging.getLogger("handlerlens.runner")
# The reason a worker of an older generation (before a save) is stopped: routine, not logged.
ROUTINE = "replacing"
# A broken one (timed out, crashed, over its memory): the function's log has said so with the
# platform's error already; "replacing broken worker PID … (SIGTERM)" after it read as a second
# failure (and of a worker that was killed already).
BROKEN = "replacing broken"

# What a bring-up returns when a newer reload ended its worker (paused in the debugger).
_SUPERSEDED: dict[str, Any] = {"superseded": True}


# Takes an instance when one is free (None: the pool closed first); False if the one who asked
# no longer wants it, so the instance goes to the next in the queue.
Taker = Callable[["Instance | None"], bool]


class Superseded(Exception):
    """A newer reload replaced this one before it finished (its init was paused)."""


class InitTimedOut(Exception):
    """An init run for a request ran past its time limit; `instance` holds its worker."""

    def __init__(self, instance: Instance) -> None:
        super().__init__("init timed out")
        self.instance = instance


@dataclass
class Instance:
    """One initialised worker of one generation."""

    worker: WorkerProcess
    generation: int
    version: str
    init_ms: float | None
    error: dict[str, Any] | None = None
    # Init killed the worker (e.g. sys.exit at import): answer with the error, never respawn.
    dead_init: bool = False
    # The worker can answer HTTP connections lent to it (worker/direct.py).
    direct: bool = False

    def take_init_ms(self) -> float | None:
        """The init duration, reported once: on the instance's first request."""
        value, self.init_ms = self.init_ms, None
        return value


class Pool:
    """Instances of one function, with a queue in front of them."""

    def __init__(
        self,
        fn: ServedFunction,
        python: str,
        on_log: LogSink,
        size: int = 1,
        *,
        debug: bool = False,
        standby: bool = True,
    ) -> None:
        self.fn = fn
        # Workers get a socket for lent connections (runner/lender.py: lender_for sets it).
        self.lending = False
        # Called when a request has to queue: whoever holds an instance may give it back.
        self.on_wanted: Callable[[], None] | None = None
        self.python = python
        self.on_log = on_log
        self.size = max(1, size)
        self.debug = debug
        # Under --debug: the breakpoint lines the last init was told (debugger.expected_lines).
        self._breakpoints_told: dict[str, list[int]] | None = None
        self.standby = standby
        self.generation = 0
        self.version = runner_env.new_version_id(fn.platform)
        self.last_error: dict[str, Any] | None = None
        # Called as a worker's init begins, with the label of the request it runs for (None:
        # ahead of any request): the host writes the platform's INIT_START line.
        self.on_init_start: Callable[[str | None], None] | None = None
        # Called when a worker's init failed (the worker, label as above, its duration in ms,
        # the error type, "error" or "timeout"): the host writes the platform's INIT_REPORT.
        self.on_init_failed: (
            Callable[[WorkerProcess, str | None, float, str | None, str], None] | None
        ) = None
        self._idle: deque[Instance] = deque()
        self._waiters: deque[Taker] = deque()
        self._standbys: deque[WorkerProcess] = deque()
        self._workers: set[WorkerProcess] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._base_env = worker_environ(os.environ)
        # Modules a worker said would fail deployed: said once per serve, not on every save.
        self._told_deployed: set[str] = set()
        if debug:
            # pydevd warns on stderr (the function's log) about frozen modules on 3.11+;
            # they only matter for breakpoints inside the standard library.
            self._base_env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"

    # -- life cycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the standbys and bring up the first generation."""
        if self.standby:
            await asyncio.gather(*(self._add_standby() for _ in range(self.size)))
        await self.reload()

    async def reload(self) -> dict[str, Any] | None:
        """New generation from fresh processes; returns the init error, if any.

        Raises Superseded when a newer reload ended this one's workers first.
        """
        self.generation += 1
        generation = self.generation
        self.version = runner_env.new_version_id(self.fn.platform)
        while self._idle:
            self._retire(self._idle.popleft(), ROUTINE)
        results = await asyncio.gather(*(self._bring_up(generation) for _ in range(self.size)))
        if any(result is _SUPERSEDED for result in results):
            raise Superseded()
        errors = [error for error in results if error is not None]
        self.last_error = errors[0] if errors else None
        return self.last_error

    def interrupt_paused(self, reason: str) -> int:
        """End every worker paused in the debugger (their callers get an error); how many."""
        paused = [w for w in self._workers if w.paused and w.alive]
        for worker in paused:
            worker.interrupt(reason)
        return len(paused)

    async def close(self) -> None:
        """Stop every worker (politely, then by force) and forget pending requests."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        waiters = list(self._waiters)
        self._waiters.clear()
        for waiter in waiters:
            waiter(None)
        # A normal stop is quiet: only a worker that ignores SIGTERM is worth a line.
        await asyncio.gather(
            *(worker.stop(grace=1.0, quiet=True) for worker in list(self._workers)),
            return_exceptions=True,
        )
        self._workers.clear()

    @property
    def waiting(self) -> bool:
        """True while a request waits for an instance."""
        return bool(self._waiters)

    @property
    def closed(self) -> bool:
        """True once close() has begun: nothing is replaced or started any more."""
        return self._closed

    # -- instances -----------------------------------------------------------------------
    def request(self, take: Taker) -> None:
        """Hand the next free instance of the current generation to `take`: at once if one
        is idle, else in turn when one is released (no task, no future: on the hot path)."""
        if self._closed:
            take(None)
            return
        while self._idle:
            instance = self._idle.popleft()
            if instance.generation == self.generation:
                if take(instance):
                    return
                self._idle.appendleft(instance)
                return
            self._retire(instance, ROUTINE)
        self._waiters.append(take)
        if self.on_wanted is not None:
            self.on_wanted()

    def try_take(self) -> Instance | None:
        """An idle instance of the current generation, now, if there is one and nobody waits."""
        if self._closed or self._waiters:
            return None
        while self._idle:
            instance = self._idle.popleft()
            if instance.generation == self.generation:
                return instance
            self._retire(instance, ROUTINE)
        return None

    def release(self, instance: Instance) -> bool:
        """Give an instance back after a request (or after init); True if a queued request
        took it."""
        if self._closed:
            self._retire(instance, "stopping")
            return False
        if instance.generation != self.generation:
            self._retire(instance, ROUTINE)
            return False
        if not instance.worker.alive and not instance.dead_init:
            self.discard(instance)
            return False
        while self._waiters:
            if self._waiters.popleft()(instance):
                return True
        self._idle.append(instance)
        return False

    def discard(self, instance: Instance) -> None:
        """Drop a broken instance (timed out, crashed) and start a fresh one in its place.

        Not while closing: close() stopped it, and a worker ended by the stop is not broken.
        """
        if self._closed:
            self._retire(instance, "stopping")
            return
        self._retire(instance, BROKEN)
        if instance.generation == self.generation:
            self._spawn(self._bring_up(instance.generation))

    def retire(self, instance: Instance, reason: str) -> None:
        """Stop an instance for good, with no replacement (a newer generation takes over)."""
        self._retire(instance, reason)

    def _retire(self, instance: Instance, reason: str) -> None:
        self._spawn(self._stop_worker(instance.worker, reason))

    async def _stop_worker(self, worker: WorkerProcess, reason: str) -> None:
        # Replacing a worker of an older generation is what every save does: the reload's own
        # line ("main.py changed; reloaded in 6 ms") says it; a broken one's error was logged;
        # a paused one (in the debugger) is news.
        quiet = self._closed or reason in (ROUTINE, BROKEN)
        await worker.stop(grace=1.0, reason=reason, quiet=quiet)
        self._workers.discard(worker)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _new_worker(self) -> WorkerProcess:
        worker = WorkerProcess(
            self.python,
            self.fn.root,
            self._base_env,
            self.on_log,
            debug=self.debug,
            # Under a debugger, debugpy's own tens of megabytes would count against it.
            memory_mb=None if self.debug else self.fn.memory,
            lending=self.lending,
        )
        await worker.start()
        self._workers.add(worker)
        return worker

    async def _add_standby(self) -> None:
        try:
            self._standbys.append(await self._new_worker())
        except OSError as exc:
            log.error("runner: cannot start %s: %s", self.python, exc)

    async def _bring_up(self, generation: int) -> dict[str, Any] | None:
        worker = await self._fresh_worker()
        if isinstance(worker, dict):
            return worker
        instance = await self._init(worker, generation, None)
        if instance is None:
            return _SUPERSEDED
        self.release(instance)
        return instance.error

    async def init_again(
        self, failed: Instance, label: str, timeout: float | None = None
    ) -> Instance | None:
        """A fresh worker in place of `failed`, whose init failed, initialised now on behalf
        of the request `label`, so its init lines are that request's log: the platform's
        runtime exits after an init error and the next invocation runs init again
        (PLATFORMS.md §12.4). The new instance is the caller's (its `error` set when init
        failed again); None when no worker could start or a reload or the runner's stop came
        first (`failed` is then the pool's again, as release() has it). Raises InitTimedOut
        when init runs past `timeout` seconds (the platform runs it under the function's
        timeout, §12.4).
        """
        worker = None
        if not self._closed and failed.generation == self.generation:
            worker = await self._fresh_worker()
        if worker is None or isinstance(worker, dict):
            self.release(failed)  # as it was (or retired, if a reload or the stop came)
            return None
        self._retire(failed, BROKEN)  # its error was logged when its own init failed
        return await self._init(worker, failed.generation, label, timeout)

    async def _fresh_worker(self) -> WorkerProcess | dict[str, Any]:
        """A standby (another one starting in its place), else a new worker; an error when
        the interpreter cannot start."""
        worker: WorkerProcess | None = None
        while self._standbys:
            candidate = self._standbys.popleft()
            if candidate.alive:
                worker = candidate
                break
            self._spawn(self._stop_worker(candidate, "dropping dead standby"))
        if self.standby and not self._closed:
            self._spawn(self._add_standby())
        if worker is None:
            try:
                worker = await self._new_worker()
            except OSError as exc:
                return {"errorMessage": f"cannot start {self.python}: {exc}", "errorType": "Runner"}
        return worker

    async def _init(
        self,
        worker: WorkerProcess,
        generation: int,
        label: str | None,
        timeout: float | None = None,
    ) -> Instance | None:
        """Run the function's init in `worker` (its log lines labelled `label`); the instance,
        or None when a newer reload ended the worker first (paused in the debugger)."""
        breakpoints = None
        if self.debug:
            from handlerlens.runner import debugger

            placed = await debugger.settle_breakpoints(log.warning)
            if placed is not None:
                breakpoints = debugger.expected_lines(placed, self._breakpoints_told)
                self._breakpoints_told = placed
        version = self.version
        message = init_message(self.fn, version)
        deployed = deployed_field(self.fn)  # "works here, would fail deployed" (worker)
        if deployed is not None:
            message["deployed"] = {**deployed, "told": sorted(self._told_deployed)}
        if breakpoints is not None:
            message["breakpoints"] = breakpoints
        if self.on_init_start is not None:
            self.on_init_start(label)
        began = time.perf_counter()
        try:
            reply, _ = await worker.call(message, b"", label, timeout)
        except asyncio.TimeoutError:
            self._init_failed(worker, label, began, None, "timeout")
            raise InitTimedOut(Instance(worker, generation, version, None)) from None
        except WorkerDied:
            if worker.interrupted:
                self._spawn(self._stop_worker(worker, "replacing paused"))
                return None
            self._init_failed(worker, label, began, "Runtime.ExitError", "error")
            how = aws_errors.describe_exit(await worker.wait_exit(1.0))
            died = {
                "errorMessage": f"Runtime exited with error: {how}",
                "errorType": "Runtime.ExitError",
                "stackTrace": [],
            }
            return Instance(worker, generation, version, None, died, dead_init=True)
        self._told_deployed.update(reply.get("deployedTold") or ())
        error: dict[str, Any] | None = None if reply.get("ok") else reply.get("error")
        if error is not None and self.on_init_failed is not None:
            error_type = error.get("errorType")
            init_ms = float(reply.get("initMs", 0.0))
            kind = str(error_type) if error_type else None
            self.on_init_failed(worker, label, init_ms, kind, "error")
        init_ms = float(reply.get("initMs", 0.0))
        if label is None and error is None:
            self._init_limit(worker, init_ms)
        instance = Instance(worker, generation, version, init_ms, error)
        instance.direct = bool(reply.get("direct"))
        return instance

    def _init_limit(self, worker: WorkerProcess, init_ms: float) -> None:
        """An init ahead of any request that ran past the platform's init limit (AWS: 10 s
        on demand): its INIT_REPORT, and a line saying what that means deployed. The first
        call's timeout counts it (platforms/failures.py:call_timeout), as Lambda counts the
        init it runs again inside that call (PLATFORMS.md §12.4)."""
        from handlerlens.platforms.failures import failures_for

        failures = failures_for(self.fn.platform)
        limit = failures.init_limit_s
        if limit is None or not failures.init_late(init_ms / 1000.0, debug=self.debug):
            return
        if self.on_init_failed is not None:
            self.on_init_failed(worker, None, limit * 1000.0, None, "timeout")
        log.warning(
            "runner: %s: init took %.1f s, past Lambda's %.0f s init limit: deployed, Lambda "
            "runs it again inside the first invocation, under the function's %g s timeout; "
            "its time counts there",
            self.fn.name,
            init_ms / 1000.0,
            limit,
            self.fn.timeout,
        )

    def _init_failed(
        self,
        worker: WorkerProcess,
        label: str | None,
        began: float,
        error_type: str | None,
        status: str,
    ) -> None:
        if self.on_init_failed is not None:
            elapsed = (time.perf_counter() - began) * 1000.0
            self.on_init_failed(worker, label, elapsed, error_type, status)


def default_python() -> str:
    """The interpreter the runner itself runs in."""
    return sys.executable
