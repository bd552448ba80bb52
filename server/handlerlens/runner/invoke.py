"""`handlerlens invoke`: one invocation in a fresh worker, no HTTP, no asyncio.

The worker is a child process, as under `serve`, so whatever the handler does to its
interpreter (`os._exit`, a segfault, memory past the function's size, a hang) this process
sees it and answers with the platform's error. When the function's interpreter is this one,
the child is a fork of this process that runs the worker loop in place: an invocation costs
one interpreter start-up, not two. Otherwise the child is the worker script in that
interpreter (runner/invoke_child.py). Both speak the pipe protocol the supervisor uses.
Either way: result on stdout, the function's log on stderr, exit 1 on a function error.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time

from handlerlens.platforms import aws_errors, runner_env, runner_logs
from handlerlens.platforms.failures import call_timeout, failures_for
from handlerlens.runner.deployed_cache import cached_deployed_field
from handlerlens.runner.invoke_child import InvokeChild, start_child
from handlerlens.runner.invoke_output import InvokeOutput
from handlerlens.runner.targets import ServedFunction
from handlerlens.runner.worker_init import init_message
from handlerlens.worker import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# How often the child's resident memory is compared with the function's memory size.
POLL_S = 0.02


# The label of init's lines in the log router.
_INIT = "init"


def _log(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _platform(fn: ServedFunction, line: str, status: str = "success") -> str | None:
    """A platform line as the function's log format has it: JSON records in Lambda's JSON
    log mode (runner_logs.as_json_record; None: no record), else the line."""
    if not runner_logs.json_records(fn.platform, fn.env):
        return line
    return runner_logs.as_json_record(line, function_name=fn.function_name, status=status)


def _log_platform(fn: ServedFunction, line: str, status: str = "success") -> None:
    shown = _platform(fn, line, status)
    if shown is not None:
        _log(shown)


def _report(
    fn: ServedFunction,
    rid: str,
    duration_ms: float,
    init_ms: float | None,
    rss_kb: int,
    status: str = "success",
) -> None:
    _log_platform(fn, runner_logs.end_line(fn.platform, rid))
    rss_mb = int(math.ceil(rss_kb / 1024))
    report = runner_logs.report_line(fn.platform, rid, duration_ms, fn.memory, rss_mb, init_ms, 0.0)
    _log_platform(fn, report, status)


def _hint(fn: ServedFunction) -> None:
    from handlerlens.runner.targets import entry_hint

    hint = entry_hint(fn).strip()
    if hint:
        print(f"handlerlens: the entry point '{fn.entry}' did not load. {hint}", file=sys.stderr)


def _failure_body(fn: ServedFunction, reply: dict[str, Any]) -> bytes:
    if reply.get("errorKind") == "unserialisable":
        error = {
            "errorMessage": "Malformed serverless function response: not a valid json",
            "errorType": "ProxyIntegrationError",
            "payload": reply.get("repr", ""),
        }
    else:
        error = reply.get("error") or {}
    return json.dumps(error, ensure_ascii=False).encode("utf-8")


def _result_body(fn: ServedFunction, reply: dict[str, Any], payload: bytes) -> bytes:
    return failures_for(fn.platform).invoke_body(str(reply.get("kind", "json")), payload)


def invoke_once(fn: ServedFunction, event: bytes, python: str) -> int:
    """Invoke `fn` once with `event` (valid JSON bytes); the process exit status.

    After a failed init where the platform runs init again inside the invocation (AWS:
    awslambdaric exits after an init error, and Lambda retries Init at the invoke, PLATFORMS.md
    §12.4), a fresh worker runs init again and, if it succeeds this time, the handler: the
    log has both inits' lines and INIT_REPORTs (`Phase: init`, then `Phase: invoke`).
    """
    child = start_child(fn, python)
    if child is None:
        return 2
    first = _Invocation(fn, event, child)
    code = first.run()
    if code is not None:
        return code
    child = start_child(fn, python)
    if child is None:
        return 2
    code = _Invocation(fn, event, child, again=True).run()
    assert code is not None  # (init is run again once, no more)
    return code


class _Invocation:
    """init, then one invoke, watched for the timeout and the memory size like under serve.

    One thread: a select loop over the worker's result pipe and its output, which checks
    the clock and the worker's memory between reads. The time limits are the platform's
    rule (platforms/failures.py:call_timeout): Yandex counts the first call's init in its
    timeout and its Duration (PLATFORMS.md §5.1, §6.1); AWS runs init before the
    invocation's clock starts.
    """

    def __init__(
        self, fn: ServedFunction, event: bytes, child: InvokeChild, again: bool = False
    ) -> None:
        self.fn = fn
        self.event = event
        self.child = child
        self.rid = runner_env.request_id()
        self.version = runner_env.new_version_id(fn.platform)
        self.init: tuple[dict[str, Any], bytes] | None = None
        self.result: tuple[dict[str, Any], bytes] | None = None
        self.failures = failures_for(fn.platform)
        self.started = time.monotonic()
        self.invoked = self.started  # when the invocation's clock starts (AWS: after init)
        # When the worker is stopped: for init, then (once it is in) for the invocation.
        self.deadline = self.started + call_timeout(fn.platform, fn.timeout, in_init=True)
        # Init run again inside the invocation, after a failed one (invoke_once): under the
        # function's timeout, its time in the invocation's Duration, its INIT_REPORT's phase
        # "invoke"; None until then, or the failed init's frame when it is to be run again.
        self.again = again
        self.failed_init: dict[str, Any] | None = None
        if again:
            self.deadline = self.started + fn.timeout
        self.output = InvokeOutput(child.out.fileno())
        self.frames = protocol.FrameReader()  # from the result pipe
        self._started = False  # START written
        # AWS: init ran past its limit (INIT_REPORT … Phase: init Status: timeout written);
        # what follows stands for the init Lambda runs again inside the invocation. Also
        # true of an init run again after a failed one (`again`).
        self.init_late = again

    def _start(self) -> None:
        """START, once; after a failed init, its INIT_REPORT first (PLATFORMS.md §12.4)."""
        if not self._started:
            self._started = True
            fn = self.fn
            init = self.init[0] if self.init is not None else None
            if init is not None and not init.get("ok"):
                self._init_error_report(init)
            self._system(runner_logs.start_line(fn.platform, self.rid, self.version))

    def _init_error_report(self, init: dict[str, Any]) -> None:
        """The INIT_REPORT of a failed init (AWS; no line on Yandex)."""
        error_type = (init.get("error") or {}).get("errorType")
        phase = "invoke" if self.init_late else "init"
        line = runner_logs.init_report_line(
            self.fn.platform, float(init.get("initMs") or 0.0), phase, "error", error_type
        )
        self._system(line)

    def _runs_init_again(self) -> bool:
        """Whether a failed init is run again inside this invocation (see invoke_once): where
        the platform does, and init runs ahead of the invocation (AWS; on Yandex, where init
        is part of the call, its START is out already), once."""
        failures = self.failures
        return not self.again and failures.init_again and not failures.counts_init

    def _system(self, line: str | None) -> None:
        shown = _platform(self.fn, line) if line is not None else None
        if shown is not None:
            self.output.system(shown)

    def _send(self, meta: Mapping[str, Any], payload: bytes = b"") -> bool:
        from handlerlens.worker import channel

        try:
            channel.send(self.child.control, meta, payload)
        except OSError:
            return False  # the worker is gone: its exit status tells why
        return True

    def _on_frame(self, frame: tuple[dict[str, Any], bytes]) -> None:
        marked = frame[0].get("marked")
        if isinstance(marked, list):  # the end marks its operation wrote, one per stream
            self.output.router.marked({self.output.fd: len(marked)})
        if self.init is None:
            if not frame[0].get("ok") and self._runs_init_again():
                self.failed_init = frame[0]  # run() writes its INIT_REPORT; init runs again
                return
            self.init = frame
            if not self._started and not self.output.router.when_done(_INIT, self._start):
                self._start()  # init's lines are all out: START follows them
            now = time.monotonic()
            self._check_init_limit(now)
            if not self.failures.counts_init and not self.init_late:
                self.invoked = now  # (a late init is the call's own: its Duration counts it)
            if self.again:  # its init was the invocation's: what is left of the timeout
                left = self.fn.timeout - (now - self.started)
            else:
                left = call_timeout(self.fn.platform, self.fn.timeout, now - self.started)
            self.deadline = now + left
            if left <= 0:
                return  # init used the whole timeout (Yandex): the watch times the call out
            meta = {
                "op": protocol.INVOKE,
                "rid": self.rid,
                "mode": "json",
                "deadlineMs": int(time.time() * 1000 + left * 1000),
            }
            self.output.router.add(self.rid)  # its lines come next
            self._send(meta, self.event)
        elif self.result is None:
            self.result = frame

    def _check_init_limit(self, now: float) -> None:
        """AWS's INIT_REPORT as init passes its limit (PLATFORMS.md §12.4), once."""
        limit = self.failures.init_limit_s
        if self.init_late or limit is None or not self.failures.init_late(now - self.started):
            return
        self.init_late = True
        self._system(
            runner_logs.init_report_line(self.fn.platform, limit * 1000.0, "init", "timeout", None)
        )
        _log(
            f"handlerlens: init ran past Lambda's {limit:.0f} s init limit: deployed, Lambda "
            f"runs it again inside the invocation, under the function's {self.fn.timeout:g} s "
            "timeout; its time counts there"
        )

    def _expired(self, now: float) -> bool:
        if self.init is None:
            self._check_init_limit(now)
        return now >= self.deadline

    def _over_memory(self) -> bool:
        fn = self.fn
        if not fn.memory:
            return False
        from handlerlens.runner.worker_env import resident_bytes

        rss = resident_bytes(self.child.pid)
        if rss is None or rss <= fn.memory * 1024 * 1024:
            return False
        _log(
            f"handlerlens: the worker uses {rss // (1024 * 1024)} MB, over the function's "
            f"memory size of {fn.memory} MB: killed, as the platform ends such an instance"
        )
        return True

    def _converse(self) -> str | None:
        """Run init and the invocation: None when the worker answered or died, else
        "timeout" or "memory" (the worker is then killed)."""
        import select

        child = self.child
        result_fd, out_fd = child.result, child.out.fileno()
        open_fds = [result_fd, out_fd]
        self.output.router.add(_INIT)  # init's lines come first
        message = init_message(self.fn, self.version)
        deployed = cached_deployed_field(
            self.fn
        )  # "works here, would fail deployed", as under serve
        if deployed is not None:
            message["deployed"] = deployed
        self._send(message)
        while self.result is None and self.failed_init is None and result_fd in open_fds:
            ready, _, _ = select.select(open_fds, [], [], POLL_S)
            if out_fd in ready:
                data = os.read(out_fd, 1 << 16)
                if data:
                    self.output.feed(data)
                else:
                    open_fds.remove(out_fd)
            if result_fd in ready:
                data = os.read(result_fd, 1 << 16)
                if not data:
                    open_fds.remove(result_fd)  # the worker died
                self.frames.feed(data)
                while self.result is None and (frame := self.frames.take()) is not None:
                    self._on_frame(frame)
                    if self.failed_init is not None:
                        return None
            if self.result is not None:
                break
            if self._expired(time.monotonic()):
                child.kill()
                return "timeout"
            if self._over_memory():
                child.kill()
                return "memory"
        return None

    def _drain(self, timeout: float, complete: bool = False) -> None:
        """The rest of the worker's output: until it closes (the worker has exited), until
        every operation's log is `complete` (their end marks have passed), or `timeout`."""
        import select

        fd = self.child.out.fileno()
        deadline = time.monotonic() + timeout
        router = self.output.router
        while (not complete or router.pending) and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            data = os.read(fd, 1 << 16)
            if not data:
                break
            self.output.feed(data)
        self.output.close()

    def run(self) -> int | None:
        """The exit status; None when init failed and is to be run again (invoke_once)."""
        fn, child, rid = self.fn, self.child, self.rid
        init_start = runner_logs.init_start_line(fn.platform, fn.runtime)
        if init_start is not None and not self.again:  # a cold start, every time
            _log_platform(fn, init_start)
        if self.failures.counts_init:
            # Init is part of the call (Yandex, §5.1): START comes first. Where it is not
            # (AWS), init's own lines come before START, as in Lambda's log (§12.4).
            self._start()
        try:
            stopped = self._converse()
            if self.failed_init is not None:
                # Init's own lines, then its INIT_REPORT; init runs again in a fresh worker.
                self._drain(1.0, complete=True)
                self._init_error_report(self.failed_init)
                return None
            if stopped is None and self.init is None and self._runs_init_again():
                # The worker died in init (its INIT_REPORT: Runtime.ExitError): the same.
                child.kill()
                self._drain(1.0)
                elapsed = (time.monotonic() - self.started) * 1000.0
                line = runner_logs.init_report_line(
                    fn.platform, elapsed, "init", "error", "Runtime.ExitError"
                )
                self._system(line)
                return None
            duration = (time.monotonic() - self.invoked) * 1000.0
            init = self.init[0] if self.init else {}
            init_ms = float(init.get("initMs", 0.0)) if self.init else None
            if stopped is None and self.result is not None:
                reply, payload = self.result
                # Each stream an operation wrote to carries its end mark: once they are all
                # through, the log is complete, and the worker need not be waited for.
                self._drain(1.0, complete=True)
                self._start()
                status = "success" if reply.get("ok") else "error"
                _report(fn, rid, duration, init_ms, int(reply.get("maxRssKb") or 0), status)
                if not self.init or not self.init[0].get("ok"):
                    _hint(fn)
                ok = bool(reply.get("ok"))
                body = _result_body(fn, reply, payload) if ok else _failure_body(fn, reply)
                sys.stdout.buffer.write(body + (b"" if body.endswith(b"\n") else b"\n"))
                sys.stdout.flush()
                return 0 if ok else 1
            child.kill()
            self._drain(1.0)
            if self.init is None and not self._started:
                # Init never ended: it died, or ran past its limit (AWS: 10 s, and then, run
                # again inside the invocation, the function's timeout).
                elapsed = (time.monotonic() - self.started) * 1000.0
                status = "timeout" if stopped == "timeout" else "error"
                error_type = None if stopped == "timeout" else "Runtime.ExitError"
                phase = "init"
                if self.init_late:
                    phase = "invoke"
                    elapsed = min(elapsed, fn.timeout * 1000.0)
                line = runner_logs.init_report_line(fn.platform, elapsed, phase, status, error_type)
                self._system(line)
            self._start()
            code = child.wait(5.0)
            if stopped == "timeout":
                line, error = self._timeout_error()
            else:
                how = aws_errors.describe_exit(-signal.SIGKILL if stopped else code)
                line, error = self.failures.crash(rid, how)
            _log(line)
            status = "timeout" if stopped == "timeout" else "error"
            _report(fn, rid, duration, init_ms, _children_max_rss_kb(), status)
            sys.stdout.buffer.write(json.dumps(error).encode() + b"\n")
            sys.stdout.flush()
            return 1
        finally:
            child.kill()  # the worker and anything it spawned; we exit next, nothing to reap
            child.close()

    def _timeout_error(self) -> tuple[str, dict[str, Any]]:
        # Where init counts in the first call's timeout, one that never ended used it all.
        init_s = self.fn.timeout
        if self.init is not None:
            init_s = float(self.init[0].get("initMs", 0.0)) / 1000.0
        fn = self.fn
        return self.failures.timeout(self.rid, fn.timeout, fn.timeout_from, init_s, time.time())


def _children_max_rss_kb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
