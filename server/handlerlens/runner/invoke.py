"""`handlerlens invoke`: one invocation in a fresh worker, no HTTP, no asyncio.

When the function's interpreter is this one, this process *is* the fresh worker: it loads
the worker package in place and calls the handler, so an invocation costs one interpreter
start-up, not two. Otherwise the worker runs as a child over the same pipe protocol the
supervisor uses. Either way: result on stdout, the function's log on stderr, exit 1 on a
function error.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time

from handlerlens.platforms import aws_errors, runner_env, runner_logs
from handlerlens.runner.targets import ServedFunction, init_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

WORKER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "worker")


def _same_interpreter(python: str) -> bool:
    try:
        return os.path.samefile(python, sys.executable)
    except OSError:
        return False


class _Writer:
    """Writes the response to the real stdout after fd 1 has been pointed at stderr."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.done = False

    def finish(self, payload: bytes) -> bool:
        with self.lock:
            if self.done:
                return False
            self.done = True
            data = payload if payload.endswith(b"\n") else payload + b"\n"
            while data:
                data = data[os.write(self.fd, data) :]
            return True


def _log(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _report(
    fn: ServedFunction, rid: str, started: float, init_ms: float | None, rss_kb: int
) -> None:
    duration = (time.perf_counter() - started) * 1000.0
    if fn.platform == "yandex":
        duration += init_ms or 0.0
    _log(runner_logs.end_line(fn.platform, rid))
    _log(
        runner_logs.report_line(
            fn.platform, rid, duration, fn.memory, int(math.ceil(rss_kb / 1024)), init_ms, 0.0
        )
    )


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
    if fn.platform == "yandex" and reply.get("kind") == "str":
        return json.dumps(payload.decode("utf-8", "replace"), ensure_ascii=False).encode()
    return payload


def invoke_once(fn: ServedFunction, event: bytes, python: str) -> int:
    """Invoke `fn` once with `event` (JSON bytes); the process exit status."""
    event = event.strip() or b"{}"
    try:
        json.loads(event)
    except ValueError as exc:
        print(f"handlerlens: the event is not valid JSON: {exc}", file=sys.stderr)
        return 2
    # Under the extension's bundle this process sees our libraries: the handler must not.
    if _same_interpreter(python) and not os.environ.get("HANDLERLENS_BUNDLED_LIBS"):
        return _in_process(fn, event)
    return _in_child(fn, event, python)


def _in_process(fn: ServedFunction, event: bytes) -> int:
    from handlerlens.worker.runtime import Runtime, max_rss_kb

    os.chdir(fn.root)
    sys.path.insert(0, fn.root)
    sys.stdout.flush()
    writer = _Writer(os.dup(1))
    os.dup2(2, 1)  # the handler's print() is log, and the log goes to stderr
    rid = runner_env.request_id()
    version = runner_env.new_version_id(fn.platform)
    started = time.perf_counter()

    def on_timeout() -> None:
        if fn.platform == "aws":
            _log(aws_errors.timeout_message(rid, fn.timeout, time.time()))
            error = aws_errors.timeout_error(rid, fn.timeout, time.time())
        else:
            from handlerlens.platforms import yandex_response

            _log(yandex_response.TIMEOUT_LOG_LINE)
            error = dict(yandex_response.TIMEOUT_BODY)
        _report(fn, rid, started, None, max_rss_kb())
        if writer.finish(json.dumps(error).encode()):
            os._exit(1)

    runtime = Runtime()
    init = runtime.init(init_message(fn, version))
    init_ms = float(init.get("initMs", 0.0))
    _log(runner_logs.start_line(fn.platform, rid, version))
    timer = threading.Timer(fn.timeout, on_timeout)
    timer.daemon = True
    timer.start()
    meta = {"rid": rid, "deadlineMs": int(time.time() * 1000 + fn.timeout * 1000), "mode": "json"}
    try:
        reply, payload = runtime.invoke(meta, event)
    except BaseException as exc:  # sys.exit() in the handler: the runtime process would die
        timer.cancel()
        code = exc.code if isinstance(exc, SystemExit) else 1
        how = aws_errors.describe_exit(code if isinstance(code, int) else 1)
        _log(f"RequestId: {rid} Error: Runtime exited with error: {how}")
        _report(fn, rid, started, init_ms, max_rss_kb())
        writer.finish(json.dumps(aws_errors.exit_error(rid, how)).encode())
        return 1
    timer.cancel()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    _report(fn, rid, started, init_ms, max_rss_kb())
    if reply.get("ok"):
        return 0 if writer.finish(_result_body(fn, reply, payload)) else 1
    if not init.get("ok"):
        _hint(fn)
    writer.finish(_failure_body(fn, reply))
    return 1


def _pump(stream: Any) -> None:
    sentinel = b"\x1e\x1eHANDLERLENS-END\x1e\x1e"
    for line in iter(stream.readline, b""):
        line = line.replace(sentinel + b"\n", b"").replace(sentinel, b"")
        if line:
            sys.stderr.buffer.write(line)
            sys.stderr.flush()


def _in_child(fn: ServedFunction, event: bytes, python: str) -> int:
    import subprocess

    from handlerlens.worker import channel

    control_r, control_w = os.pipe()
    result_r, result_w = os.pipe()
    lifeline_r, lifeline_w = os.pipe()
    fds = (control_r, result_w, lifeline_r)
    from handlerlens.runner.worker_process import worker_environ

    env = worker_environ(os.environ)
    try:
        child = subprocess.Popen(
            [python, os.path.join(WORKER_DIR, "__main__.py"), *map(str, fds)],
            cwd=fn.root,
            env=env,
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        print(f"handlerlens: cannot start {python}: {exc}", file=sys.stderr)
        return 2
    for fd in fds:
        os.close(fd)
    pumps = [
        threading.Thread(target=_pump, args=(s,), daemon=True) for s in (child.stdout, child.stderr)
    ]
    for pump in pumps:
        pump.start()
    rid = runner_env.request_id()
    version = runner_env.new_version_id(fn.platform)
    started = time.perf_counter()
    outcome: list[tuple[dict[str, Any], bytes] | None] = []

    def converse() -> None:
        channel.send(control_w, init_message(fn, version))
        init = channel.recv(result_r)
        outcome.append(init)
        meta = {
            "op": "invoke",
            "rid": rid,
            "mode": "json",
            "deadlineMs": int(time.time() * 1000 + fn.timeout * 1000),
        }
        channel.send(control_w, meta, event)
        outcome.append(channel.recv(result_r))

    _log(runner_logs.start_line(fn.platform, rid, version))
    talker = threading.Thread(target=converse, daemon=True)
    talker.start()
    talker.join(fn.timeout + 30.0 if not outcome else fn.timeout)
    init_ms = float(outcome[0][0].get("initMs", 0.0)) if outcome and outcome[0] else None
    result = outcome[1] if len(outcome) > 1 else None
    try:
        if result is None:
            child.kill()
            code = child.wait()
            if talker.is_alive():
                line = aws_errors.timeout_message(rid, fn.timeout, time.time())
                error: dict[str, Any] = aws_errors.timeout_error(rid, fn.timeout, time.time())
            else:
                how = aws_errors.describe_exit(code)
                line = f"RequestId: {rid} Error: Runtime exited with error: {how}"
                error = aws_errors.exit_error(rid, how)
            for pump in pumps:
                pump.join(1.0)
            _log(line)
            _report(fn, rid, started, init_ms, 0)
            sys.stdout.buffer.write(json.dumps(error).encode() + b"\n")
            return 1
        reply, payload = result
        channel.send(control_w, {"op": "exit"})
        child.wait(5.0)
        for pump in pumps:
            pump.join(1.0)
        _report(fn, rid, started, init_ms, int(reply.get("maxRssKb") or 0))
        if outcome[0] and not outcome[0][0].get("ok"):
            _hint(fn)
        body = _result_body(fn, reply, payload) if reply.get("ok") else _failure_body(fn, reply)
        sys.stdout.buffer.write(body + (b"" if body.endswith(b"\n") else b"\n"))
        sys.stdout.flush()
        return 0 if reply.get("ok") else 1
    finally:
        try:
            os.killpg(child.pid, 9)
        except OSError:
            pass
        for fd in (control_w, result_r, lifeline_w):
            os.close(fd)
