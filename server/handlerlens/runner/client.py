"""Driving a runner from another asyncio program (the language server): start, invoke, stop.

The runner runs as `python -m handlerlens.runner serve … --status-json` (the same command as
`handlerlens serve`); its JSON status lines are read here, so each invocation comes back with
its own log lines and REPORT fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

StatusCallback = Callable[[dict[str, Any]], None]
REPORT_WAIT_S = 5.0


def _supervisor_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONSAFEPATH"] = "1"  # Python 3.11+: no working directory on sys.path at all
    return env


class RunnerStartError(Exception):
    """The runner exited or never said it was listening; the message has its stderr."""


@dataclass
class InvokeResult:
    """One invocation as the caller sees it."""

    status: int
    headers: dict[str, str]
    body: str
    json: Any | None
    function_error: bool
    request_id: str | None
    report: dict[str, Any] | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)


async def _http(
    host: str, port: int, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ")[1])
        parsed: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, _, value = line.partition(":")
                parsed[name.strip().lower()] = value.strip()
        length = int(parsed.get("content-length", "0"))
        data = await reader.readexactly(length) if length else b""
        return status, parsed, data
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class RunnerProcess:
    """A `handlerlens serve` child process with `--status-json`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.url = ""
        self.port = 0
        # The debugger's port when started with `debug=True` (0 otherwise).
        self.debug_port = 0
        self._callbacks: list[StatusCallback] = []
        self._logs: dict[str, list[dict[str, Any]]] = {}
        self._reports: dict[str, dict[str, Any]] = {}
        self._report_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._listening: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._stderr_tail: list[str] = []
        # The runner's `interpreter` event: which interpreter runs the function, and why,
        # with a warning when it is not the declared runtime's version.
        self.interpreter: dict[str, Any] | None = None
        # The runner's last `routes` event (a whole app's route table), kept for a caller
        # that subscribes after `listening`: the first one follows it at once.
        self.routes: dict[str, Any] | None = None
        self._tasks = [
            asyncio.get_running_loop().create_task(self._read_status()),
            asyncio.get_running_loop().create_task(self._read_stderr()),
        ]

    @classmethod
    async def start(
        cls,
        spec_or_entry: Any,
        *,
        root: str,
        platform: str | None,
        port: int = 0,
        python: str | None = None,
        timeout: float | None = None,
        watch: bool = True,
        extra_args: Iterable[str] = (),
        debug: bool = False,
        project_root: str | None = None,
    ) -> RunnerProcess:
        """Spawn a runner for a FunctionSpec or an entry string (None: every function
        declared under `root`, behind its routes); returns once it listens.

        `project_root` (the editor's workspace folder) bounds the search for the function's
        interpreter (a .venv up to it; deploy/interpreter.py), as runtime-interpreter-mismatch
        foresees it.

        With `debug`, the runner runs under debugpy (`serve --debug`) and `debug_port` is the
        port a DAP client attaches to; the function starts once one has attached.
        """
        args = [sys.executable, "-m", "handlerlens.runner", "serve"]
        timeout_from = "set with the handlerlens.runner.timeout setting" if timeout else None
        if spec_or_entry is None:
            pass
        elif isinstance(spec_or_entry, str):
            args.append(spec_or_entry)
        else:
            spec = spec_or_entry
            args.append(f"{spec.name}={spec.entry}")
            root = spec.root
            platform = platform or spec.platform
            if not timeout and spec.timeout and spec.declared_in:
                timeout_from = f"declared in {os.path.relpath(spec.declared_in, spec.root)}"
            timeout = timeout or spec.timeout
            memory = spec.memory
            # Served as `name=entry`, the runner knows nothing of the declaring tool: pass on
            # its defaults where they are not the runner's own (serverless.yml on AWS).
            from handlerlens.platforms import runner_env

            kind = (platform or spec.platform, getattr(spec, "declared_by", None))
            if not timeout and runner_env.default_timeout(*kind) != runner_env.DEFAULT_TIMEOUT_S:
                timeout = runner_env.default_timeout(*kind)
                timeout_from = "the Serverless Framework's default: nothing declares one"
                if spec.declared_in:
                    declaring = os.path.relpath(spec.declared_in, spec.root)
                    timeout_from = f"the Serverless Framework's default: {declaring} declares none"
            if not memory and kind[0] in runner_env.DEFAULT_MEMORY_MB:
                default = runner_env.default_memory(*kind)
                memory = default if default != runner_env.DEFAULT_MEMORY_MB[kind[0]] else None
            if memory:
                args += ["--memory", str(memory)]
            for key, value in (spec.env or {}).items():
                args += ["--env", f"{key}={value}"]
            if spec.trigger:
                args += ["--trigger", spec.trigger]
            if spec.runtime:  # the interpreter to choose, AWS_EXECUTION_ENV
                args += ["--runtime", spec.runtime]
            if spec.declared_in and getattr(spec, "declared_by", None) != "pyproject":
                # Its template's parameters and layers, its service account (function_setup).
                args += ["--declared-in", spec.declared_in]
        root = os.path.abspath(root)
        args += ["--root", root, "--port", str(port), "--status-json", "--exit-with-stdin"]
        if platform:
            args += ["--platform", platform]
        if python:
            args += ["--python", python]
        if project_root:  # where the interpreter is looked for, as the diagnostics do
            args += ["--project-root", os.path.abspath(project_root)]
        if timeout:
            args += ["--timeout", str(timeout)]
            if timeout_from:
                args += ["--timeout-from", timeout_from]
        if not watch:
            args.append("--no-watch")
        if debug:
            args.append("--debug")
        args += list(extra_args)
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Not the code root: `python -m` puts the working directory first on sys.path, and
            # the function's own logging.py or json.py would then replace the runner's
            # standard modules. Workers get the code root as their directory themselves.
            cwd=os.path.abspath(os.sep),
            env=_supervisor_env(),
            limit=16 * 1024 * 1024,
        )
        runner = cls(process)
        try:
            event = await asyncio.wait_for(asyncio.shield(runner._listening), 60.0)
        except (asyncio.TimeoutError, RunnerStartError) as exc:
            await runner.stop()
            detail = "\n".join(runner._stderr_tail[-20:])
            raise RunnerStartError(f"the runner did not start: {exc}\n{detail}".strip()) from None
        runner.url = str(event["url"])
        runner.port = int(event["port"])
        runner.debug_port = int(event.get("debugPort") or 0)
        return runner

    def on_status(self, callback: StatusCallback) -> None:
        """Call `callback(event)` for every status event from now on."""
        self._callbacks.append(callback)

    async def _read_status(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            self._dispatch(event)
        if not self._listening.done():
            await self.process.wait()
            await asyncio.sleep(0.05)  # let stderr's last lines in
            detail = "\n".join(self._stderr_tail[-20:])
            self._listening.set_exception(
                RunnerStartError(f"exited with status {self.process.returncode}\n{detail}")
            )

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self._stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\n"))
            del self._stderr_tail[:-200]

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        rid = event.get("requestId")
        if kind == "listening" and not self._listening.done():
            self._listening.set_result(event)
        elif kind == "interpreter":
            self.interpreter = event
        elif kind == "routes":
            self.routes = event
        elif kind == "log" and rid:
            self._logs.setdefault(rid, []).append(event)
        elif kind == "report" and rid:
            waiter = self._report_waiters.pop(rid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event)
            else:
                self._reports[rid] = event
        for callback in list(self._callbacks):
            callback(event)

    async def invoke(self, event: Any, function_name: str) -> InvokeResult:
        """POST `event` to the Invoke API; the result with its log lines and report."""
        body = json.dumps(event).encode("utf-8")
        path = f"/2015-03-31/functions/{quote(function_name, safe='')}/invocations"
        status, headers, data = await _http(
            "127.0.0.1", self.port, "POST", path, body, {"Content-Type": "application/json"}
        )
        rid = headers.get("x-amzn-requestid") or headers.get("x-request-id")
        report = None
        if rid:
            report = self._reports.pop(rid, None)
            if report is None:
                waiter = asyncio.get_running_loop().create_future()
                self._report_waiters[rid] = waiter
                try:
                    report = await asyncio.wait_for(waiter, REPORT_WAIT_S)
                except asyncio.TimeoutError:
                    self._report_waiters.pop(rid, None)
        text = data.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return InvokeResult(
            status=status,
            headers=headers,
            body=text,
            json=parsed,
            function_error="x-amz-function-error" in headers or "x-function-error" in headers,
            request_id=rid,
            report=report,
            logs=self._logs.pop(rid, []) if rid else [],
        )

    async def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL; returns the exit status."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return self.process.returncode
