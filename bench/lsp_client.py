"""A minimal asyncio LSP client: Content-Length framed JSON-RPC over a subprocess's stdio.

Every server in the benchmark is driven by this one client with the same capabilities, so
differences in the figures are the servers'. Arrival times are taken in the reader task the
moment a message is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

CLIENT_CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "synchronization": {"dynamicRegistration": False, "didSave": True},
        "completion": {
            "contextSupport": True,
            # As VS Code declares it (1.80+).
            "completionList": {
                "itemDefaults": [
                    "commitCharacters",
                    "editRange",
                    "insertTextFormat",
                    "insertTextMode",
                    "data",
                ]
            },
            "completionItem": {
                "snippetSupport": True,
                "documentationFormat": ["markdown", "plaintext"],
                "labelDetailsSupport": True,
            },
        },
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "publishDiagnostics": {
            "relatedInformation": True,
            "versionSupport": True,
            "codeDescriptionSupport": True,
        },
        "codeLens": {},
    },
    "workspace": {
        "configuration": True,
        "workspaceFolders": True,
        "didChangeWatchedFiles": {"dynamicRegistration": True},
        "codeLens": {"refreshSupport": True},
    },
    "window": {"workDoneProgress": False},
}

# A response message and the time it arrived.
Reply = tuple[dict[str, Any], float]


@dataclass
class Published:
    """One publishDiagnostics notification and when it arrived."""

    at: float
    uri: str
    diagnostics: list[dict[str, Any]]


class LspError(Exception):
    """The server answered a request with an error, died, or did not answer in time."""


def diagnostic_key(diagnostics: list[dict[str, Any]]) -> frozenset[tuple[Any, ...]]:
    """A comparable summary of a diagnostics list: range start, message and code."""
    return frozenset(
        (
            d["range"]["start"]["line"],
            d["range"]["start"]["character"],
            d.get("message", ""),
            str(d.get("code", "")),
        )
        for d in diagnostics
    )


class LspClient:
    """One server process and the conversation with it."""

    def __init__(self, argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None):
        self.argv = argv
        self.cwd = cwd
        self.log_path = log
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0
        self.capabilities: dict[str, Any] = {}
        self.published: list[Published] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._log: TextIO | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    async def spawn(self) -> None:
        """Start the process (the spawn clock starts here)."""
        self._log = self.log_path.open("a")
        self.spawned_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,  # so the whole group can be ended, helpers included
        )
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def initialize(self, root: Path, timeout: float = 60.0) -> float:
        """Send `initialize` and `initialized`; return seconds from spawn to the response."""
        uri = root.as_uri()
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "handlerlens-bench", "version": "1"},
            "rootUri": uri,
            "rootPath": str(root),
            "workspaceFolders": [{"uri": uri, "name": root.name}],
            "capabilities": CLIENT_CAPABILITIES,
            "initializationOptions": None,
        }
        result, arrived = await self.request("initialize", params, timeout)
        self.capabilities = (result or {}).get("capabilities", {})
        self.notify("initialized", {})
        return arrived - self.spawned_at

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def send_request(self, method: str, params: Any) -> asyncio.Future[Reply]:
        """Send a request now; the future gives (response message, arrival time)."""
        request_id = next(self._ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._pending[request_id] = future
        self._write({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return future

    async def request(self, method: str, params: Any, timeout: float = 30.0) -> tuple[Any, float]:
        """Send a request and wait for its result; return (result, arrival time)."""
        future = self.send_request(method, params)
        try:
            message, arrived = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise LspError(f"{method}: no answer within {timeout:.0f} s") from None
        if "error" in message:
            raise LspError(f"{method}: {message['error']}")
        return message.get("result"), arrived

    async def wait_published(
        self,
        uri: str,
        accept: Callable[[list[dict[str, Any]]], bool],
        after: int,
        timeout: float,
    ) -> Published | None:
        """The first publish for `uri` at index ≥ `after` that `accept`s, or None on timeout."""
        deadline = time.perf_counter() + timeout
        index = after
        while True:
            while index < len(self.published):
                item = self.published[index]
                index += 1
                if item.uri == uri and accept(item.diagnostics):
                    return item
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def _read_loop(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        try:
            while True:
                head = await stdout.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("ascii").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await stdout.readexactly(length)
                arrived = time.perf_counter()
                self._dispatch(json.loads(body), arrived)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(LspError("the server exited"))
            self._changed.set()

    def _dispatch(self, message: dict[str, Any], arrived: float) -> None:
        if "id" in message and "method" not in message:
            future = self._pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result((message, arrived))
            return
        method = message.get("method")
        if "id" in message:
            self._write({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message)})
            return
        if method == "textDocument/publishDiagnostics":
            params = message["params"]
            self.published.append(Published(arrived, params["uri"], params["diagnostics"]))
            self._changed.set()

    @staticmethod
    def _answer(message: dict[str, Any]) -> Any:
        # Server-to-client requests: no settings (servers fall back to their defaults), and
        # every registration, progress token or refresh simply acknowledged.
        if message["method"] == "workspace/configuration":
            return [None for _ in message["params"]["items"]]
        return None

    async def close(self) -> None:
        """shutdown + exit, a bounded wait, then SIGKILL to the process group."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
                await self.proc.stdin.drain()  # type: ignore[union-attr]
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        # Helpers the server started in its session (if any) go with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._log is not None:
            self._log.close()


def _retrieve(future: asyncio.Future[Reply]) -> None:
    # A request whose caller gave up (the server exited first) must not warn at exit.
    if not future.cancelled():
        future.exception()
