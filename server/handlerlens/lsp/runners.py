"""Runners the language server started: one `handlerlens serve` process per function.

The server starts a runner on the first Run, reuses it (hot reload keeps it current), streams
its state and log lines to the client as custom notifications, and stops them all on exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlerlens.core.model import FunctionSpec
from handlerlens.lsp import protocol
from handlerlens.lsp.app import AppManager, init_error_text

if TYPE_CHECKING:
    from handlerlens.runner.client import RunnerProcess

log = logging.getLogger(__name__)


@dataclass
class ManagedRunner:
    """A started runner and the function it serves."""

    spec: FunctionSpec
    process: RunnerProcess
    # Started with `serve --debug` (process.debug_port is the debugger's port).
    debug: bool = False


class RunnerManager:
    """Start, reuse and stop runners; forward their status to `notify(method, params)`."""

    def __init__(self, notify: Any, settings: Any = None, project_root_of: Any = None) -> None:
        self.notify = notify
        # The workspace folder holding a code root: the runner looks for the function's
        # interpreter (a .venv) up to it, as runtime-interpreter-mismatch does.
        self.project_root_of = project_root_of
        # Returns the server's current Settings (runner port and timeout), read at each start.
        self.settings = settings
        self.runners: dict[tuple[str, str], ManagedRunner] = {}
        self._lock = asyncio.Lock()
        # The files whose change started each function's reload (its "reloading" event).
        self._changed: dict[str, list[str]] = {}
        # The port each function was first served on: asked for again at every later start
        # (after a debug session, a stop, a crash), so a copied URL or curl command keeps
        # working for the whole editor session; unless the user sets handlerlens.runner.port.
        self._ports: dict[tuple[str, str], int] = {}
        # The whole app of each workspace folder (Start App), one `serve <folder>` each.
        self.app = AppManager(notify)

    async def ensure(
        self, spec: FunctionSpec, *, python: str | None = None, debug: bool = False
    ) -> ManagedRunner:
        """The running runner for `spec`, started (or restarted after it died) as needed.

        `debug` asks for a runner under the debugger: a plain one is restarted in debug mode;
        a debug runner also serves plain requests, so it is reused either way.
        """
        from handlerlens.runner.client import RunnerProcess, RunnerStartError

        key = (spec.root, spec.name)
        async with self._lock:
            current = self.runners.get(key)
            if current is not None and current.process.process.returncode is None:
                if current.spec == spec and (current.debug or not debug):
                    return current
                await current.process.stop()  # the declaration or the mode changed
            self._state(spec.name, "starting")
            current_settings = self.settings() if self.settings else None
            asked = current_settings.runner_port if current_settings else 0
            kept = 0 if asked else self._ports.get(key, 0)

            async def start(port: int) -> RunnerProcess:
                return await RunnerProcess.start(
                    spec,
                    root=spec.root,
                    platform=spec.platform,
                    python=python,
                    debug=debug,
                    port=port,
                    timeout=current_settings.runner_timeout if current_settings else None,
                    project_root=self.project_root_of(spec.root) if self.project_root_of else None,
                )

            moved = ""
            try:
                try:
                    process = await start(asked or kept)
                except RunnerStartError as exc:
                    if not kept or not _port_taken(exc):
                        raise
                    process = await start(0)  # something else took it meanwhile
                    moved = (
                        f"handlerlens: port {kept} is taken now; {spec.name} is served on "
                        f"port {process.port} instead (URLs and curl commands copied before "
                        "name the old port)"
                    )
            except Exception as exc:
                self._state(spec.name, "error", message=str(exc))
                raise
            if not asked:
                self._ports[key] = process.port
            settled: protocol.RunnerState = "debugging" if debug else "running"
            process.on_status(lambda event: self._forward(spec.name, event, settled))
            managed = ManagedRunner(spec, process, debug)
            self.runners[key] = managed
            extra: dict[str, Any] = {"url": process.url, "port": process.port}
            if debug:
                extra["debugPort"] = process.debug_port
            if process.interpreter is not None:
                extra["interpreter"] = {
                    k: v for k, v in process.interpreter.items() if k != "event"
                }
            self._state(spec.name, settled, **extra)
            warning = (process.interpreter or {}).get("warning")
            # In the function's log, where the editor shows the runner's lines.
            for line in (moved, f"handlerlens: warning: {warning}" if warning else ""):
                if line:
                    self.notify(
                        protocol.NOTIFY_LOG,
                        protocol.LogParams(
                            function=spec.name, requestId="", line=line, stream="stderr"
                        ),
                    )
            return managed

    async def stop(self, root: str, name: str) -> bool:
        """Stop the runner for one function; False if none was running."""
        managed = self.runners.pop((root, name), None)
        if managed is None:
            return False
        await managed.process.stop()
        self._state(name, "stopped")
        return True

    async def stop_all(self) -> None:
        """Stop every runner (the server is shutting down)."""
        for root, name in list(self.runners):
            await self.stop(root, name)
        await self.app.stop_all()

    def _state(self, function: str, state: protocol.RunnerState, **extra: Any) -> None:
        params: protocol.RunnerStateParams = {"function": function, "state": state}
        params.update(extra)  # type: ignore[typeddict-item]
        self.notify(protocol.NOTIFY_RUNNER_STATE, params)

    def _forward(
        self, function: str, event: dict[str, Any], settled: protocol.RunnerState = "running"
    ) -> None:
        kind = event.get("event")
        if kind == "log":
            self.notify(
                protocol.NOTIFY_LOG,
                protocol.LogParams(
                    function=function,
                    requestId=str(event.get("requestId") or ""),
                    line=str(event.get("line", "")),
                    stream=event.get("stream", "stdout"),
                ),
            )
        elif kind == "reloading":
            changed = [str(name) for name in event.get("changed") or []]
            self._changed[function] = changed
            self._state(function, "reloading", changed=changed)
        elif kind == "reloaded":
            changed = self._changed.pop(function, [])
            if event.get("ok", True):
                extra: dict[str, Any] = {"changed": changed}
                if isinstance(event.get("ms"), (int, float)):
                    extra["reloadedMs"] = float(event["ms"])
                self._state(function, settled, **extra)
            else:
                self._state(function, "error", message=init_error_text(event.get("error")))
        elif kind == "stopped":
            self._state(function, "stopped")


def _port_taken(exc: BaseException) -> bool:
    """Whether a runner could not start because its port was in use."""
    return "address already in use" in str(exc).lower()


def events_folder(workspace_root: str, function: str, folder: str = ".handlerlens/events") -> str:
    """Where saved events of `function` live; the name cannot climb out of the folder."""
    base = os.path.realpath(os.path.join(workspace_root, folder))
    target = os.path.realpath(os.path.join(base, function))
    if os.path.commonpath([base, target]) != base or target == base:
        raise ValueError(f"function name {function!r} cannot be used as an events folder")
    return target
