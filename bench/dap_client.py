"""A minimal asyncio DAP client playing the editor against `handlerlens serve --debug`.

Does what VS Code does with debugpy: initialize (announcing `supportsStartDebuggingRequest`),
attach, breakpoints, configurationDone; every `startDebugging` reverse request opens a child
session on the same port that re-sends the breakpoints. Every `stopped` event is answered
with `continue` at once, and recorded, so a benchmark can tell a breakpoint was hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from typing import Any

INITIALIZE = {
    "clientID": "handlerlens-bench",
    "clientName": "HandlerLens benchmark",
    "adapterID": "debugpy",
    "pathFormat": "path",
    "linesStartAt1": True,
    "columnsStartAt1": True,
    "supportsRunInTerminalRequest": False,
    "supportsStartDebuggingRequest": True,
}


class DapError(Exception):
    """A request failed, timed out, or the connection ended."""


class DapSession:
    """One DAP connection."""

    def __init__(self, editor: Editor, name: str) -> None:
        self.editor = editor
        self.name = name
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.events: list[dict[str, Any]] = []
        self._seq = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def connect(self, port: int) -> None:
        """Open the connection and start reading."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self._task = asyncio.get_running_loop().create_task(self._read())

    def _send(self, message: dict[str, Any]) -> None:
        assert self.writer is not None
        body = json.dumps(message).encode()
        self.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, command: str, arguments: Any = None) -> asyncio.Future[dict[str, Any]]:
        """Send a request; the future gives its response body."""
        seq = next(self._seq)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._pending[seq] = future
        message: dict[str, Any] = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self._send(message)
        return future

    async def request(self, command: str, arguments: Any = None, timeout: float = 20.0) -> Any:
        """Send a request and wait for its response body."""
        try:
            return await asyncio.wait_for(self.send(command, arguments), timeout)
        except asyncio.TimeoutError:
            raise DapError(f"{self.name}: {command}: no response in {timeout:.0f} s") from None

    async def wait_event(self, name: str, timeout: float = 20.0) -> dict[str, Any]:
        """The first event called `name`."""
        deadline = time.perf_counter() + timeout
        while True:
            for event in self.events:
                if event.get("event") == name:
                    return event
            remaining = deadline - time.perf_counter()
            if remaining <= 0 or self._task is None or self._task.done():
                raise DapError(f"{self.name}: no {name!r} event")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def _read(self) -> None:
        assert self.reader is not None
        try:
            while True:
                head = await self.reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("ascii").split("\r\n"):
                    key, _, value = line.partition(":")
                    if key.strip().lower() == "content-length":
                        length = int(value)
                self._dispatch(json.loads(await self.reader.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(DapError(f"{self.name}: connection closed"))
            self._changed.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "response":
            future = self._pending.pop(int(message["request_seq"]), None)
            if future is not None and not future.done():
                if message.get("success"):
                    future.set_result(message.get("body") or {})
                else:
                    error = DapError(f"{self.name}: {message.get('command')}: {message}")
                    future.set_exception(error)
        elif kind == "event":
            message["_at"] = time.perf_counter()
            self.events.append(message)
            self._changed.set()
            if message.get("event") == "stopped":
                self.editor.on_stopped(self, message)
        elif kind == "request":
            self.editor.on_reverse(self, message)

    def respond(self, request: dict[str, Any], success: bool) -> None:
        """Answer a reverse request."""
        self._send(
            {
                "seq": next(self._seq),
                "type": "response",
                "request_seq": request["seq"],
                "command": request["command"],
                "success": success,
            }
        )

    async def close(self) -> None:
        """Disconnect without ending the debuggee, then close."""
        if self.writer is None:
            return
        with contextlib.suppress(DapError, ConnectionError):
            await self.request("disconnect", {"terminateDebuggee": False}, timeout=3)
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Editor:
    """The editor's side: a parent session and one child session per worker."""

    def __init__(self, port: int, breakpoints: dict[str, list[int]]) -> None:
        self.port = port
        self.breakpoints = breakpoints
        self.sessions: list[DapSession] = []
        self.stops: list[float] = []  # arrival times of `stopped` events (reason: breakpoint)
        self.errors: list[str] = []
        self.attached = 0  # sessions whose attach completed, the parent included
        self._attached_changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def attach(self, configuration: dict[str, Any] | None = None) -> DapSession:
        """Attach a session (the parent, or a child from `startDebugging`)."""
        config = configuration or {
            "type": "debugpy",
            "request": "attach",
            "name": "HandlerLens bench",
            "connect": {"host": "127.0.0.1", "port": self.port},
            "justMyCode": True,
            "subProcess": True,
        }
        session = DapSession(self, f"session-{len(self.sessions)}")
        self.sessions.append(session)
        await session.connect(int((config.get("connect") or {}).get("port", self.port)))
        await session.request("initialize", INITIALIZE)
        attached = session.send("attach", config)
        await session.wait_event("initialized")
        for path, lines in self.breakpoints.items():
            await session.request("setBreakpoints", _breakpoints(path, lines))
        await session.request("setExceptionBreakpoints", {"filters": []})
        await session.request("configurationDone", {})
        await asyncio.wait_for(attached, 20)
        self.attached += 1
        self._attached_changed.set()
        return session

    async def wait_attached(self, count: int, timeout: float) -> bool:
        """Wait until `count` sessions have attached in total; False on timeout."""
        deadline = time.perf_counter() + timeout
        while self.attached < count:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            self._attached_changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._attached_changed.wait(), remaining)
        return True

    async def set_breakpoints(self, path: str, lines: list[int]) -> None:
        """Replace a file's breakpoints in every session."""
        self.breakpoints[path] = lines
        for session in self.sessions:
            with contextlib.suppress(DapError, ConnectionError):
                await session.request("setBreakpoints", _breakpoints(path, lines), timeout=5)

    def on_reverse(self, session: DapSession, request: dict[str, Any]) -> None:
        """`startDebugging` → attach a child session; anything else is refused."""
        if request.get("command") != "startDebugging":
            session.respond(request, success=False)
            return
        session.respond(request, success=True)
        configuration = dict(request["arguments"]["configuration"])
        self._spawn(self._child(configuration))

    async def _child(self, configuration: dict[str, Any]) -> None:
        try:
            await self.attach(configuration)
        except (DapError, OSError, asyncio.TimeoutError) as exc:
            self.errors.append(f"child attach: {exc}")

    def on_stopped(self, session: DapSession, event: dict[str, Any]) -> None:
        """Record the stop and continue at once."""
        body = event.get("body") or {}
        if body.get("reason") == "breakpoint":
            self.stops.append(float(event["_at"]))
        thread = body.get("threadId")
        self._spawn(session.request("continue", {"threadId": thread}, timeout=10))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(repr(task.exception()))

    async def close(self) -> None:
        """Close every session."""
        for task in list(self._tasks):
            task.cancel()
        for session in reversed(self.sessions):
            await session.close()


def _retrieve(future: asyncio.Future[Any]) -> None:
    # A request whose caller gave up (the session ended first) must not warn at exit.
    if not future.cancelled():
        future.exception()


def _breakpoints(path: str, lines: list[int]) -> dict[str, Any]:
    return {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines], "lines": lines}
