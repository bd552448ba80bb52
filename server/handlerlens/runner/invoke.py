"""`handlerlens invoke`: one invocation in a fresh worker, no HTTP, no asyncio.

The worker is a child process, as under `serve`, so whatever the handler does to its
interpreter (`os._exit`, a segfault, memory past the function's size, a hang) this process
sees it and answers with the platform's error. When the function's interpreter is this one,
the child is a fork of this process that runs the worker loop in place: an invocation costs
one interpreter start-up, not two. Otherwise the child is the worker script in that
interpreter. Both speak the pipe protocol the supervisor uses. Either way: result on stdout,
the function's log on stderr, exit 1 on a function error.
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
from handlerlens.runner.targets import ServedFunction, init_message

# The worker loop, loaded before any fork: in the child, every page an import touches would
# be copied first (twice the time).
from handlerlens.worker import protocol, serve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

WORKER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "worker")
# How often the child's resident memory is compared with the function's memory size.
POLL_S = 0.02


def _same_interpreter(python: str) -> bool:
    # The same binary in another virtual environment (its bin/python links to ours) is
    # another interpreter: its site-packages are that project's.
    try:
        return os.path.samefile(python, sys.executable) and os.path.samefile(
            os.path.dirname(python), os.path.dirname(sys.executable)
        )
    except OSError:
        return False


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
    """Invoke `fn` once with `event` (valid JSON bytes); the process exit status."""
    # Under the extension's bundle this process sees our libraries: the handler must not.
    if _same_interpreter(python) and not os.environ.get("HANDLERLENS_BUNDLED_LIBS"):
        child = _Child.forked(fn)
    else:
        started = _Child.spawned(fn, python)
        if started is None:
            return 2
        child = started
    return _Invocation(fn, event, child).run()


class _Child:
    """The worker process: its pid, our ends of its pipes, its output."""

    def __init__(self, pid: int, control: int, result: int, lifeline: int, out: IO[bytes]) -> None:
        self.pid = pid
        self.control = control
        self.result = result
        self.lifeline = lifeline
        # stdout and stderr share one pipe: both are the function's log, in their order.
        self.out = out
        self.returncode: int | None = None

    @classmethod
    def forked(cls, fn: ServedFunction) -> _Child:
        """A fork of this process running the worker loop, as the worker script would."""
        control_r, control_w = os.pipe()
        result_r, result_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        out_r, out_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        import gc

        # Objects the collector would otherwise walk (and so copy, page by page) in the child.
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its outcome is what the tests check
            status = 70
            try:
                os.setsid()  # its own process group: the lifeline takes anything it spawns
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                for fd in (control_w, result_r, lifeline_w, out_r, out_w, null):
                    os.close(fd)
                # The environment, sys.path and sys.argv a spawned worker would have.
                from handlerlens.runner.worker_env import enter_forked_worker

                enter_forked_worker(WORKER_DIR)
                os.chdir(fn.root)
                status = serve.main([str(control_r), str(result_w), str(lifeline_r)])
            except SystemExit as exc:  # sys.exit() in the handler ends the interpreter
                code = exc.code
                if code is None or isinstance(code, int):
                    status = code or 0
                else:
                    print(code, file=sys.stderr)
                    status = 1
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        pass
                os._exit(status)
        for fd in (control_r, result_w, lifeline_r, out_w):
            os.close(fd)
        return cls(pid, control_w, result_r, lifeline_w, os.fdopen(out_r, "rb", buffering=0))

    @classmethod
    def spawned(cls, fn: ServedFunction, python: str) -> _Child | None:
        """The worker script in another interpreter; None (and a message) if it cannot start."""
        import subprocess

        from handlerlens.runner.worker_env import worker_environ

        control_r, control_w = os.pipe()
        result_r, result_w = os.pipe()
        lifeline_r, lifeline_w = os.pipe()
        fds = (control_r, result_w, lifeline_r)
        try:
            child = subprocess.Popen(
                [python, os.path.join(WORKER_DIR, "__main__.py"), *map(str, fds)],
                cwd=fn.root,
                env=worker_environ(os.environ),
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            print(f"handlerlens: cannot start {python}: {exc}", file=sys.stderr)
            for fd in (*fds, control_w, result_r, lifeline_w):
                os.close(fd)
            return None
        for fd in fds:
            os.close(fd)
        assert child.stdout is not None
        child.returncode = 0  # reaped below with waitpid, never by Popen
        return cls(child.pid, control_w, result_r, lifeline_w, child.stdout)

    def kill(self) -> None:
        """SIGKILL the worker's process group (the worker and whatever it spawned)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def wait(self, timeout: float) -> int | None:
        """The exit status (negative: the signal), None if still running after `timeout`."""
        import select

        if self.returncode is not None:
            return self.returncode
        try:
            handle = os.pidfd_open(self.pid)  # Linux ≥ 5.3: readable once the process exits
        except (AttributeError, OSError):
            handle = -1
        deadline = time.monotonic() + timeout
        try:
            while True:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
                    return self.returncode
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if handle >= 0:
                    select.select([handle], [], [], left)
                else:
                    time.sleep(min(left, 0.005))
        except ChildProcessError:
            return self.returncode
        finally:
            if handle >= 0:
                os.close(handle)

    def close(self) -> None:
        for fd in (self.control, self.result, self.lifeline):
            try:
                os.close(fd)
            except OSError:
                pass


class _Output:
    """The worker's stdout and stderr (one pipe) to our stderr, routed as under `serve`
    (runner/log_router.py: the end-of-op marks go, and an operation's log is complete once
    its marks are through), with each `\\r`-separated part of a line on its own line
    (runner_logs.readable_lines). Bytes that are not UTF-8 come out as they went in."""

    def __init__(self, fd: int) -> None:
        from handlerlens.runner.log_router import LogRouter

        self.fd = fd
        self.router = LogRouter({fd: "log"}, self._line, max_line=None)
        self._lines: list[bytes] = []

    def _line(self, label: str | None, stream: str, raw: bytes) -> None:
        self._lines.append(_readable(raw))

    def feed(self, data: bytes) -> None:
        self.router.output(self.fd, data)
        self._flush()

    def close(self) -> None:
        self.router.closed(self.fd)
        self._flush()

    def system(self, line: str) -> None:
        """A system line (START), in order with the function's lines routed so far."""
        self._lines.append(line.encode("utf-8") + b"\n")
        self._flush()

    def _flush(self) -> None:
        if self._lines:
            data = b"".join(self._lines)
            self._lines.clear()
            sys.stderr.flush()
            sys.stderr.buffer.write(data)
            sys.stderr.flush()


def _readable(line: bytes) -> bytes:
    """One line of the log, newline-terminated, as people read it (runner_logs.readable_lines)."""
    if b"\r" not in line:
        return line + b"\n"
    # surrogateescape: bytes that are not UTF-8 come out as they went in.
    text = line.decode("utf-8", "surrogateescape")
    parts = runner_logs.readable_lines(text)
    return "".join(part + "\n" for part in parts).encode("utf-8", "surrogateescape")


class _Invocation:
    """init, then one invoke, watched for the timeout and the memory size like under serve.

    One thread: a select loop over the worker's result pipe and its output, which checks
    the clock and the worker's memory between reads. The time limits are the platform's
    rule (platforms/failures.py:call_timeout): Yandex counts the first call's init in its
    timeout and its Duration (PLATFORMS.md §5.1, §6.1); AWS runs init before the
    invocation's clock starts.
    """

    def __init__(self, fn: ServedFunction, event: bytes, child: _Child) -> None:
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
        self.output = _Output(child.out.fileno())
        self.frames = protocol.FrameReader()  # from the result pipe
        self._started = False  # START written

    def _start(self) -> None:
        """START, once; after a failed init, its INIT_REPORT first (PLATFORMS.md §12.4)."""
        if not self._started:
            self._started = True
            fn = self.fn
            init = self.init[0] if self.init is not None else None
            if init is not None and not init.get("ok"):
                error_type = (init.get("error") or {}).get("errorType")
                line = runner_logs.init_report_line(
                    fn.platform, float(init.get("initMs") or 0.0), "init", "error", error_type
                )
                self._system(line)
            self._system(runner_logs.start_line(fn.platform, self.rid, self.version))

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
            self.init = frame
            if not self._started and not self.output.router.when_done(_INIT, self._start):
                self._start()  # init's lines are all out: START follows them
            now = time.monotonic()
            if not self.failures.counts_init:
                self.invoked = now
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

    def _expired(self, now: float) -> bool:
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
        deployed = deployed_field(self.fn)  # "works here, would fail deployed", as under serve
        if deployed is not None:
            message["deployed"] = deployed
        self._send(message)
        while self.result is None and result_fd in open_fds:
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

    def run(self) -> int:
        fn, child, rid = self.fn, self.child, self.rid
        init_start = runner_logs.init_start_line(fn.platform, fn.runtime)
        if init_start is not None:  # a cold start, every time
            _log_platform(fn, init_start)
        if self.failures.counts_init:
            # Init is part of the call (Yandex, §5.1): START comes first. Where it is not
            # (AWS), init's own lines come before START, as in Lambda's log (§12.4).
            self._start()
        try:
            stopped = self._converse()
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
                # Init never ended: it ran past its limit (AWS: 10 s, then the timeout).
                elapsed = (time.monotonic() - self.started) * 1000.0
                status = "timeout" if stopped == "timeout" else "error"
                error_type = None if stopped == "timeout" else "Runtime.ExitError"
                line = runner_logs.init_report_line(
                    fn.platform, elapsed, "init", status, error_type
                )
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


def _deployed_cache_path(key: str) -> str:
    import zlib  # hashlib would load OpenSSL (~10 ms); the file holds its key, checked on read

    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    data = key.encode("utf-8")
    name = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.json"
    return os.path.join(base, "handlerlens", "deployed", name)


def _stamps(paths: list[str]) -> list[list[int]]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append([st.st_mtime_ns, st.st_size])
        except OSError:
            out.append([-1, -1])
    return out


def deployed_field(fn: ServedFunction) -> dict[str, Any] | None:
    """What the deployment provides (InitMessage `deployed`, as `serve` sends it: targets.py),
    for the worker's "works here, would fail deployed" note; None when it cannot be read.

    Reading a manifest loads `packaging` (~60 ms, more than the rest of `invoke`'s start), so
    the answer is kept on disk ($XDG_CACHE_HOME/handlerlens/deployed, one small JSON file per
    function) with the size and mtime of every file it was read from (the manifests, looked
    for or read, their includes, the declaring file, layers' requirements, and HandlerLens's
    own deploy/ modules that made it): a later `invoke` reads it back while none changed."""
    key = json.dumps([fn.root, fn.platform, fn.runtime or "", fn.declared_in or ""])
    path = _deployed_cache_path(key)
    found: dict[str, Any] | None = None
    try:
        with open(path, encoding="utf-8") as handle:
            kept = json.load(handle)
        if kept["key"] == key and kept["stamps"] == _stamps(kept["files"]):
            found = kept["provided"]
    except (OSError, ValueError, KeyError, TypeError):
        found = None
    if not isinstance(found, dict):
        try:
            from handlerlens.deploy.provided import files_read, provided

            found = provided(fn.root, fn.platform, fn.runtime, fn.declared_in)
            files = files_read(fn.root, fn.platform, fn.runtime, fn.declared_in)
        except Exception:  # a note must never keep a function from running
            return None
        if fn.declared_in:
            files.append(fn.declared_in)  # it may gain layers
        # HandlerLens's own facts (what platforms preinstall…): an upgrade reads again.
        deploy = os.path.join(os.path.dirname(WORKER_DIR), "deploy")
        files += [os.path.join(deploy, f"{n}.py") for n in ("facts", "layers", "manifest")]
        files.append(os.path.join(deploy, "provided.py"))
        data = {"key": key, "files": files, "stamps": _stamps(files), "provided": found}
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{os.getpid()}"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(temporary, path)
        except OSError:
            pass  # no cache (a read-only home): read again next time
    if fn.paths:
        # The local layers on its sys.path (function_setup) are deployed with it too.
        found = {**found, "roots": [*(found.get("roots") or []), *fn.paths]}
    return found


def _children_max_rss_kb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
