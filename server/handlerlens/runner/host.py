"""One served function: its platform face, its pool of instances and their lifecycle (start,
a lazy start on the first request, reload, a new declaration), and the door its calls come
in by (runner/calls.py takes each on its way; runner/function_log.py writes its log)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from handlerlens.platforms import runner_env
from handlerlens.platforms.faces import face_for
from handlerlens.runner import announce
from handlerlens.runner.calls import Calls
from handlerlens.runner.function_log import FunctionLog
from handlerlens.runner.outcome import Outcome
from handlerlens.runner.pool import Instance, Pool, Superseded
from handlerlens.runner.status import Status
from handlerlens.runner.targets import ServedFunction


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
        # Its log: the platform's system lines beside the function's own output.
        self.log = FunctionLog(fn, status)
        self.pool = Pool(fn, python, self.log.output, instances, debug=debug, standby=standby)
        # False until start(): under a debugger, workers wait for the editor to attach.
        self.started = False
        # Set by the lender (runner/lender.py) when connections are lent to this function's
        # worker: asks for them back, as a reload must.
        self.give_back: Callable[[], None] | None = None
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
        self.pool.on_init_start = self.log.init_start
        self.pool.on_init_failed = self.log.init_failed
        # Each call's way from queued to concluded.
        self.calls = Calls(fn, self.failures, self.pool, self.log)

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
        self.log.fn = fn
        self.face = face_for(fn.platform, fn.trigger)
        self.failures = self.face.failures
        self.calls.fn = fn
        self.calls.failures = self.failures

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
            self.log.keep_lines(rid)
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
            lines = self.log.take_lines(rid) if want_log else None
        if lines is not None:
            outcome.log_lines = lines
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
        The hot path, on callbacks: see runner/calls.py.
        """
        if not self.started:
            if self.lazy:
                self.start_now()
            elif self.on_unstarted is not None:
                self.on_unstarted()
        self.calls.run(event, done, mode, extra, request_id, gone)

    def begin_direct(self, instance: Instance, rid: str, done: Callable[[Outcome], None]) -> None:
        """A request the worker began on a lent connection: START, and the watch on it."""
        self.calls.begin_direct(instance, rid, done)
