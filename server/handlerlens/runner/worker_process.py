"""One worker process as the supervisor sees it: call, route its log, watch, stop (spawned
by runner/worker_spawn.py).

Messages travel on a dedicated pipe pair (`pass_fds`), never on the worker's stdout/stderr,
which are the function's log: every line is tagged with the request it was printed during,
using the end-of-operation sentinels the worker writes to both streams. Under `--debug`,
the worker also says on that pipe when it has been attached and when a thread sits at a
breakpoint; an invocation's timeout stands still while it does. A worker that can take
lent HTTP connections (runner/lender.py) gets them on a Unix socket pair, and says on the
result pipe when it begins and ends a request on one; those requests are watched (log,
timeout, memory) as if they had been sent here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Mapping
from typing import Any

from handlerlens.runner.lend_socket import CAN_LEND, LendSocket
from handlerlens.runner.log_router import LogRouter
from handlerlens.runner.watch import Watch
from handlerlens.runner.worker_env import resident_bytes
from handlerlens.runner.worker_spawn import ResultReader, spawn
from handlerlens.worker import protocol

log = logging.getLogger("handlerlens.runner")

# Under --debug, a worker runs only once the editor has attached it as a child session.
ATTACH_WARNING_S = 15.0


# (request id or None, stream name, line)
LogSink = Callable[[str | None, str, str], None]
# An operation's reply (meta, payload), or why there is none (WorkerDied, TimeoutError).
ReplySink = Callable[[dict[str, Any], bytes], None]
ErrorSink = Callable[[BaseException], None]


class WorkerDied(Exception):
    """The worker exited (or was killed) while the supervisor waited for it."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"worker exited with {returncode}")
        self.returncode = returncode


class WorkerProcess:
    """A worker interpreter with the function's code root as cwd and first on sys.path."""

    def __init__(
        self,
        python: str,
        root: str,
        env: dict[str, str],
        on_log: LogSink,
        debug: bool = False,
        memory_mb: int | None = None,
        lending: bool = False,
    ) -> None:
        self.python = python
        # A socket on which HTTP connections can be lent to this worker (worker/direct.py).
        self.lending = lending and CAN_LEND
        self._lend_socket: LendSocket | None = None
        # Who hears about lent connections (see runner/lender.py): frames, and the end.
        self._lend_sink: Callable[[dict[str, Any], bytes], None] | None = None
        self.on_gone: Callable[[], None] | None = None
        self._result_fd = -1
        self._reader: ResultReader | None = None
        # Killed because a request on a lent connection ran past its timeout.
        self.timed_out = False

        # The function's memory size, enforced on its resident memory while it runs.
        self.memory_limit = memory_mb * 1024 * 1024 if memory_mb else None
        # The resident size that got the worker killed, if it outgrew the memory size.
        self.out_of_memory: int | None = None
        self.root = root
        self.env = env
        self.on_log = on_log
        self.debug = debug
        self.pid = 0
        self.returncode: int | None = None
        # Under a debugger: whether a thread sits at a breakpoint (the worker reports it).
        self.paused = False
        # Why the supervisor ended this worker on purpose while it was busy, if it did.
        self.interrupted: str | None = None
        # Its operation's timeout and its memory (runner/watch.py).
        self.watch = Watch(self.memory_limit, self._busy, self._expired, self._over_memory)
        # Its resident memory when its timeout stopped it (a lent request's), if read.
        self.rss_at_timeout: int | None = None
        # Under --debug: the editor has attached this worker (it said so when it began).
        self.attached = False
        self._transport: asyncio.SubprocessTransport | None = None
        self._control: asyncio.WriteTransport | None = None
        self._lifeline = -1
        # The callbacks of the operation in flight (see begin()).
        self._waiting: tuple[ReplySink, ErrorSink] | None = None
        self._exited: asyncio.Future[int | None] | None = None
        self._result_eof = False
        # Which request each line of its stdout and stderr belongs to.
        self.logs = LogRouter({1: "stdout", 2: "stderr"}, self._line)

    @property
    def lend_sink(self) -> Callable[[dict[str, Any], bytes], None] | None:
        """Who hears the frames about lent connections (runner/lender.py); set while the
        worker holds lent connections, when its requests' lines are routed strictly in
        order (LogRouter.strict)."""
        return self._lend_sink

    @lend_sink.setter
    def lend_sink(self, sink: Callable[[dict[str, Any], bytes], None] | None) -> None:
        self._lend_sink = sink
        self.logs.strict = sink is not None

    @property
    def alive(self) -> bool:
        """True until the process has exited or its result pipe closed."""
        return self.returncode is None and not self._result_eof

    async def start(self) -> None:
        """Spawn the interpreter (runner/worker_spawn.py)."""
        loop = asyncio.get_running_loop()
        self._exited = loop.create_future()
        lend_socket = self._lend_socket = LendSocket() if self.lending else None
        try:
            spawned = await spawn(self, self.python, self.root, self.env, self.debug, lend_socket)
        except BaseException:
            if lend_socket is not None:
                lend_socket.close()
                self._lend_socket = None
            raise
        self._transport = spawned.transport
        self.pid = spawned.pid
        self._lifeline = spawned.lifeline
        self._result_fd = spawned.result_fd
        self._control = spawned.control
        self._reader = spawned.reader
        log.debug("runner: started worker PID %d", self.pid)
        if self.debug:
            loop.call_later(ATTACH_WARNING_S, self._warn_unattached)

    def begin(
        self,
        meta: Mapping[str, Any],
        payload: bytes,
        label: str | None,
        timeout: float | None,
        on_reply: ReplySink,
        on_error: ErrorSink,
    ) -> None:
        """Send one operation; later, exactly one of `on_reply(meta, payload)` or
        `on_error(WorkerDied | TimeoutError)` is called, never before this returns.

        Callbacks, not a future: the runner's hot path answers the HTTP request from inside
        the callback, in the loop turn that read the reply, instead of waking a task for it.
        Raises WorkerDied at once if the worker is already gone.
        """
        if not self.alive or self._control is None:
            raise WorkerDied(self.returncode)
        loop = asyncio.get_running_loop()
        self._waiting = (on_reply, on_error)
        self.logs.add(label)
        self._control.write(protocol.encode(meta, payload))
        self.watch.start(loop, timeout, self.paused)

    def begin_remote(
        self, label: str, timeout: float, on_reply: ReplySink, on_error: ErrorSink
    ) -> None:
        """A request the worker began by itself on a lent connection (its `direct-start`):
        watched like an operation sent with begin() — log lines, timeout, memory, death."""
        loop = asyncio.get_running_loop()
        self._waiting = (on_reply, on_error)
        self.logs.add(label)
        self.watch.start(loop, timeout)

    def lend(self, conns: dict[int, int], settings: dict[str, Any]) -> bool:
        """Pass connection descriptors ({id: fd}) to the worker, with what it needs to serve
        them (`timeout`, `aws`: the API Gateway payload version); False if it cannot take
        them now (it then never sees them: the caller serves them itself)."""
        if self._lend_socket is None or not self.alive:
            return False
        return self._lend_socket.lend(conns, settings)

    def send_op(self, meta: dict[str, Any]) -> None:
        """An operation nobody waits on (its reply goes to the lend sink), e.g. `release`."""
        if self._control is not None and self.alive:
            self._control.write(protocol.encode(meta))

    async def call(
        self,
        meta: Mapping[str, Any],
        payload: bytes,
        label: str | None,
        timeout: float | None = None,
    ) -> tuple[dict[str, Any], bytes]:
        """Send one operation and wait for its reply; raises WorkerDied or TimeoutError."""
        reply: asyncio.Future[tuple[dict[str, Any], bytes]] = (
            asyncio.get_running_loop().create_future()
        )

        def resolved(meta: dict[str, Any], payload: bytes) -> None:
            if not reply.done():
                reply.set_result((meta, payload))

        def failed(exc: BaseException) -> None:
            if not reply.done():
                reply.set_exception(exc)

        self.begin(meta, payload, label, timeout, resolved, failed)
        try:
            return await reply
        finally:
            if self._waiting is not None and self._waiting[0] is resolved:
                self._take()  # cancelled: its reply, if it comes, goes nowhere

    def _take(self) -> tuple[ReplySink, ErrorSink] | None:
        """The waiting operation's callbacks, now removed (None if nothing waits)."""
        waiting = self._waiting
        self._waiting = None
        self.watch.stop()
        return waiting

    # -- what the watch (runner/watch.py) finds ------------------------------------------
    def _busy(self) -> bool:
        return self._waiting is not None

    def _expired(self, loop: asyncio.AbstractEventLoop) -> None:
        """The operation ran past its deadline: it fails with TimeoutError."""
        if self.lend_sink is not None:
            # A lent connection's request: the worker answers it itself unless stopped
            # first. Its end may be in the pipe, unread: read it before judging.
            before = self._waiting
            self._drain_results()
            if self._waiting is not before:
                return  # it ended in time (and maybe began the next: watched anew)
            self.watch.stop()
            self.timed_out = True
            self.rss_at_timeout = resident_bytes(self.pid)  # for REPORT's Max Memory Used
            self.kill()
            # Then read what it wrote before it died: an end there means it answered.
            loop.create_task(self._time_out_lent())
            return
        waiting = self._take()
        if waiting is not None:
            waiting[1](asyncio.TimeoutError())

    async def _time_out_lent(self) -> None:
        await self.wait_exit(1.0)
        self._drain_results()
        waiting = self._take()
        if waiting is not None:
            waiting[1](asyncio.TimeoutError())

    def _drain_results(self) -> None:
        """Read the result pipe now, without waiting for the loop to (it is non-blocking)."""
        reader = self._reader
        while reader is not None and not self._result_eof and self._result_fd >= 0:
            # Still open: its end of file, once read by the loop, closes it (and frees the
            # number for reuse), so this never reads a descriptor that is not the pipe.
            try:
                data = os.read(self._result_fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            reader.data_received(data)

    def _over_memory(self, limit: int) -> bool:
        """Kill a busy worker whose resident memory passed the function's memory size.

        The platforms end an instance that outgrows its memory; on AWS the invocation then
        fails with `Runtime exited with error: signal: killed` (Runtime.ExitError), which is
        what a SIGKILL gives here too.
        """
        rss = resident_bytes(self.pid)
        if rss is None or rss <= limit or not self.alive:
            return False
        self.out_of_memory = rss
        log.warning(
            "runner: worker PID %d uses %d MB, over the function's memory size of %d MB: "
            "killed, as the platform ends such an instance",
            self.pid,
            rss // (1024 * 1024),
            limit // (1024 * 1024),
        )
        self.kill()
        return True

    def when_logs_done(self, label: str, callback: Callable[[], None]) -> bool:
        """See LogRouter.when_done()."""
        return self.logs.when_done(label, callback)

    def logs_done(self, label: str | None) -> asyncio.Future[None] | None:
        """A future that completes when every line of that operation has been routed."""
        return self.logs.done_future(label)

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit status, waiting at most `timeout` seconds for it."""
        if self._exited is None:
            return self.returncode
        try:
            return await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except asyncio.TimeoutError:
            return None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (the handler's children too)."""
        if self.pid:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def interrupt(self, reason: str) -> None:
        """End the worker now, on purpose: the call waiting on it fails with WorkerDied."""
        self.interrupted = reason
        log.info("runner: worker PID %d: %s (SIGKILL)", self.pid, reason)
        self.kill()

    async def stop(self, grace: float = 1.0, reason: str = "stopping", quiet: bool = False) -> None:
        """Polite SIGTERM, bounded wait, then SIGKILL of the group; each step logged (`quiet`:
        only the SIGKILL of a worker that ignored SIGTERM, as when the runner stops)."""
        if self.pid and self.returncode is None:
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "runner: %s worker PID %d (SIGTERM)",
                reason,
                self.pid,
            )
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if await self.wait_exit(grace) is None:
                log.warning(
                    "runner: worker PID %d ignored SIGTERM for %.1fs: SIGKILL", self.pid, grace
                )
        # Always sweep the group: a handler's child must not outlive its instance.
        self.kill()
        await self.wait_exit(grace)
        self.close()

    def close(self) -> None:
        """Release pipes (after the process is gone)."""
        self.watch.cancel()
        if self._lifeline >= 0:
            os.close(self._lifeline)
            self._lifeline = -1
        if self._lend_socket is not None:
            self._lend_socket.close()
            self._lend_socket = None
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._transport is not None and self.returncode is not None:
            self._transport.close()

    # -- what its pipes and process say (worker_spawn.WorkerEvents) ------------------------
    def on_frame(self, meta: dict[str, Any], payload: bytes) -> None:
        op = meta.get("op")
        if op in protocol.LENDING:  # to the lender (runner/lender.py)
            sink = self.lend_sink
            if sink is not None:
                sink(meta, payload)  # direct-start calls begin_remote from here
            if op != protocol.DIRECT_END:
                return
            # A lent request's end is also the reply its watch waits for (begin_remote).
        elif op == protocol.DEBUG:
            if meta.get("attached"):
                self.attached = True
            else:
                self._on_debug_state(bool(meta.get("paused")))
            return
        marked = meta.get("marked")
        if isinstance(marked, list):  # the streams it wrote its end marker to
            self.logs.marked(dict.fromkeys(marked, 1))
        waiting = self._take()
        if waiting is not None:
            waiting[0](meta, payload)

    def _warn_unattached(self) -> None:
        if not self.attached and self.alive:
            log.warning(
                "runner: worker PID %d has waited %.0f s for the debugger to attach it. The "
                "DAP client must accept debugpy's child sessions (the `startDebugging` request, "
                "or the `debugpyAttach` event) and attach each with the breakpoints.",
                self.pid,
                ATTACH_WARNING_S,
            )

    def _on_debug_state(self, paused: bool) -> None:
        # Paused at a breakpoint, the timeout stands still: time spent looking at
        # variables is not the function's running time.
        self.paused = paused
        self.watch.paused(asyncio.get_running_loop(), paused)
        log.info("runner: worker PID %d %s", self.pid, "paused" if paused else "resumed")

    def on_result_eof(self) -> None:
        self._result_eof = True
        if self.timed_out:
            # Stopped for a lent request's timeout: _time_out_lent() settles that request.
            if self.on_gone is not None:
                self.on_gone()
            return
        waiting = self._take()
        if self.on_gone is not None:
            self.on_gone()  # lent connections come back before the failed call is answered
        if waiting is not None:
            waiting[1](WorkerDied(self.returncode))

    def on_exit(self, returncode: int | None) -> None:
        self.returncode = returncode
        if self._exited is not None and not self._exited.done():
            self._exited.set_result(self.returncode)
        log.debug("runner: worker PID %d exited with %s", self.pid, self.returncode)

    def _line(self, label: str | None, stream: str, raw: bytes) -> None:
        self.on_log(label, stream, raw.decode("utf-8", "replace"))

    def on_output(self, fd: int, data: bytes) -> None:
        if self.lend_sink is not None:
            # A lent worker begins requests by itself: the frame that says so was written
            # before anything the request printed, but travels on another pipe. Read it
            # first, so every line goes to the request that printed it.
            self._drain_results()
        self.logs.output(fd, data)

    def on_output_closed(self, fd: int) -> None:
        self.logs.closed(fd)
