"""The whole app in the editor: one `handlerlens serve <folder>` per workspace folder, every
declared function behind its gateway routes (issue #17 item 5).

`AppManager` starts and stops it, forwards its status events as NOTIFY_APP_STATE (state, port,
route table, route problems) and its log lines as NOTIFY_LOG, and sends a route's request to
the app's real HTTP port, so the answer is the gateway's (its 403 for an unknown route, its 502
for a response it would reject), not a mapping of an Invoke API result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handlerlens.lsp import protocol

if TYPE_CHECKING:
    from handlerlens.runner.client import RunnerProcess

log = logging.getLogger(__name__)

# After the gateway's answer, how long to wait for the function's REPORT (its figures).
REPORT_WAIT_S = 1.0
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class ManagedApp:
    """A started app: its folder, its runner and what it last said about its routes."""

    root: str
    process: RunnerProcess
    routes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    # Status events of the moment, for a request in flight to read its log lines and report.
    listeners: list[Any] = field(default_factory=list)
    watcher: asyncio.Task[None] | None = None

    @property
    def debug_port(self) -> int:
        """The debugger's port when served with `--debug` (Debug App), else 0."""
        return self.process.debug_port


@dataclass
class AppAnswer:
    """The gateway's answer to one request, and what the function logged while it ran."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str = ""
    report: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)


class AppManager:
    """Start, stop and talk to the app runner of each workspace folder."""

    def __init__(self, notify: Any) -> None:
        self.notify = notify
        self.apps: dict[str, ManagedApp] = {}
        self._lock = asyncio.Lock()
        # The port each folder's app was first served on, asked for again at every later start.
        self._ports: dict[str, int] = {}

    def running(self, path: str) -> ManagedApp | None:
        """The running app whose folder holds `path` (the deepest), if any."""
        best: ManagedApp | None = None
        for root, app in self.apps.items():
            inside = path == root or path.startswith(root.rstrip(os.sep) + os.sep)
            if inside and app.process.process.returncode is None:
                if best is None or len(root) > len(best.root):
                    best = app
        return best

    async def start(
        self,
        root: str,
        *,
        port: int = 0,
        python: str | None = None,
        timeout: float | None = None,
        debug: bool = False,
    ) -> ManagedApp:
        """The running app of `root`, started as needed on `port` (0: the one it had, else a
        free one; a remembered port that is taken now falls back to a free one, said in the
        log). With `debug` (Debug App) it runs under debugpy (`serve --debug`): an app already
        running without it is started again so; one running under it serves either way."""
        from handlerlens.runner.client import RunnerProcess, RunnerStartError

        root = os.path.abspath(root)
        async with self._lock:
            current = self.apps.get(root)
            if current is not None and current.process.process.returncode is None:
                if not debug or current.debug_port:
                    return current
                # Started again under the debugger, on the same port.
                self.apps.pop(root, None)
                if current.watcher is not None:
                    current.watcher.cancel()
                await current.process.stop()
            self._state(root, "starting")
            asked = port or self._ports.get(root, 0)

            async def launch(number: int) -> RunnerProcess:
                return await RunnerProcess.start(
                    None,
                    root=root,
                    platform=None,
                    python=python,
                    port=number,
                    timeout=timeout,
                    debug=debug,
                )

            moved = ""
            try:
                try:
                    process = await launch(asked)
                except RunnerStartError as exc:
                    if not asked or "address already in use" not in str(exc).lower():
                        raise
                    process = await launch(0)
                    moved = (
                        f"handlerlens: port {asked} is taken; the app is served on port "
                        f"{process.port} instead"
                    )
            except Exception as exc:
                self._state(root, "error", message=str(exc))
                raise
            self._ports[root] = process.port
            app = ManagedApp(root, process)
            process.on_status(lambda event: self._forward(app, event))
            self.apps[root] = app
            app.watcher = asyncio.get_running_loop().create_task(self._watch(app))
            self._state(root, "running", **self._where(app))
            if process.routes is not None:  # read before anyone listened
                self._forward(app, process.routes)
            if moved:
                self._log("", moved, "stderr")
            return app

    async def stop(self, root: str) -> bool:
        """Stop the app of `root`; False if none was running."""
        app = self.apps.pop(os.path.abspath(root), None)
        if app is None:
            return False
        if app.watcher is not None:
            app.watcher.cancel()
        await app.process.stop()
        self._state(app.root, "stopped")
        return True

    async def stop_all(self) -> None:
        for root in list(self.apps):
            await self.stop(root)

    async def request(
        self,
        app: ManagedApp,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        function: str | None,
    ) -> AppAnswer:
        """One HTTP request to the app (`target`: path and query), answered by its gateway;
        with the log lines and the REPORT of `function`'s invocation it started."""
        lines: list[str] = []
        reports: list[dict[str, Any]] = []
        got_report = asyncio.Event()

        def listen(event: dict[str, Any]) -> None:
            if function is None or event.get("function") != function:
                return
            if event.get("event") == "log":
                lines.append(str(event.get("line", "")))
            elif event.get("event") == "report":
                reports.append(event)
                got_report.set()

        app.listeners.append(listen)
        try:
            answer = await _exchange(app.process.port, method, target, headers, body)
            if function is not None and not got_report.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(got_report.wait(), REPORT_WAIT_S)
        finally:
            app.listeners.remove(listen)
        if reports:
            answer.report = reports[-1]
            answer.request_id = str(reports[-1].get("requestId") or "")
        answer.logs = lines
        return answer

    async def _watch(self, app: ManagedApp) -> None:
        """An app that exits on its own (killed, crashed) is said to have stopped."""
        code = await app.process.process.wait()
        if self.apps.get(app.root) is app:
            del self.apps[app.root]
            self._state(
                app.root, "error" if code else "stopped", message=f"the app exited ({code})"
            )

    def _forward(self, app: ManagedApp, event: dict[str, Any]) -> None:
        for listener in list(app.listeners):
            listener(event)
        kind = event.get("event")
        function = str(event.get("function") or "")
        if kind == "log":
            self._log(
                function,
                str(event.get("line", "")),
                event.get("stream", "stdout"),
                str(event.get("requestId") or ""),
            )
        elif kind == "routes":
            app.routes = [r for r in event.get("routes") or [] if isinstance(r, dict)]
            app.problems = [p for p in event.get("problems") or [] if isinstance(p, dict)]
            for problem in app.problems:
                where = f"{problem.get('path')}:{problem.get('line')}:{problem.get('column')}"
                self._log(
                    "",
                    f"handlerlens: {where}: {problem.get('severity')}: {problem.get('message')}"
                    f" [{problem.get('code')}]",
                    "stderr",
                )
            self._state(
                app.root,
                "running",
                **self._where(app),
                routes=app.routes,
                problems=app.problems,
                kept=bool(event.get("kept")),
            )
        elif kind == "reloading":
            self._state(
                app.root,
                "reloading",
                **self._where(app),
                function=function,
                changed=[str(c) for c in event.get("changed") or []],
            )
        elif kind == "reloaded":
            extra: dict[str, Any] = {"function": function}
            if event.get("ok", True):
                if isinstance(event.get("ms"), (int, float)):
                    extra["reloadedMs"] = float(event["ms"])
            else:
                text = init_error_text(event.get("error"))
                extra["message"] = f"{function}: {text}"
                self._log(function, f"handlerlens: the new code did not load: {text}", "stderr")
            self._state(app.root, "running", **self._where(app), **extra)
        elif kind == "declaration":
            changed = ", ".join(str(c) for c in event.get("changed") or [])
            self._log(function, f"handlerlens: {function}'s declaration changed: {changed}")

    @staticmethod
    def _where(app: ManagedApp) -> dict[str, Any]:
        """Where the app answers: its URL and port, and its debugger's port under Debug App."""
        where: dict[str, Any] = {"url": app.process.url, "port": app.process.port}
        if app.debug_port:
            where["debugPort"] = app.debug_port
        return where

    def _state(self, root: str, state: protocol.RunnerState, **extra: Any) -> None:
        params: protocol.AppStateParams = {"root": root, "state": state}
        params.update(extra)  # type: ignore[typeddict-item]
        self.notify(protocol.NOTIFY_APP_STATE, params)

    def _log(self, function: str, line: str, stream: Any = "stdout", request_id: str = "") -> None:
        self.notify(
            protocol.NOTIFY_LOG,
            protocol.LogParams(function=function, requestId=request_id, line=line, stream=stream),
        )


async def _exchange(
    port: int, method: str, target: str, headers: dict[str, str], body: bytes
) -> AppAnswer:
    """One HTTP/1.1 exchange with the app on 127.0.0.1 (the stdlib's client, on a thread: the
    answer may be chunked, or a HEAD's)."""
    import http.client

    def run() -> AppAnswer:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=960)
        try:
            conn.request(method, target, body=body or None, headers=headers)
            reply = conn.getresponse()
            data = reply.read(MAX_BODY_BYTES + 1)
            return AppAnswer(reply.status, reply.reason, list(reply.getheaders()), data)
        finally:
            conn.close()

    return await asyncio.to_thread(run)


def init_error_text(error: object) -> str:
    """A runner's init error as people read it: `SyntaxError: invalid syntax (main.py, line
    3)`, not the error JSON's Python repr."""
    if isinstance(error, dict):
        kind, message = error.get("errorType"), error.get("errorMessage")
        if kind or message:
            return f"{kind}: {message}" if kind and message else str(kind or message)
    return str(error) if error else "the new code did not load"
