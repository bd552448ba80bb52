"""A small DAP client that plays the editor's part against a real debugpy adapter.

JSON over TCP with `Content-Length` framing, one reader thread per connection. `Editor` does
what VS Code does with debugpy: initialize (announcing `supportsStartDebuggingRequest`),
attach, send every breakpoint and the exception filters on `initialized`, configurationDone;
each `startDebugging` reverse request opens a child session on the same port that re-sends
the breakpoints. Stopped events from any session are collected for the test to wait on.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class DapError(Exception):
    """A request failed (`success: false`) or the connection ended."""


class Session:
    """One DAP connection: requests with responses, events, reverse requests."""

    def __init__(
        self,
        host: str,
        port: int,
        name: str,
        on_reverse: Callable[[Session, dict[str, Any]], None] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.name = name
        # No retry on refusal: debugpy's adapter opens its client listener once, before
        # `debugpy.listen()` returns, and keeps it until the adapter exits.
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.settimeout(None)
        self.on_reverse = on_reverse
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self._disconnect_sent = False
        self._seq = itertools.count(1)
        self._responses: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"dap-{name}", daemon=True)
        self._reader.start()

    # -- wire ----------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode("utf-8")
        try:
            with self._send_lock:
                self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        except OSError as exc:
            raise DapError(f"{self.name}: cannot send: {exc}") from exc

    def _read(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            while True:
                length = -1
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length < 0:
                    return
                message = json.loads(stream.read(length))
                self._dispatch(message)
        except (OSError, ValueError):
            return
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "response":
            with self._cond:
                self._responses[int(message["request_seq"])] = message
                self._cond.notify_all()
        elif kind == "event":
            with self._cond:
                message["_at"] = time.monotonic()
                self.events.append(message)
                self._cond.notify_all()
        elif kind == "request":
            if self.on_reverse is not None:
                self.on_reverse(self, message)
            else:
                self.respond(message, success=False, message="not supported")

    # -- requests ------------------------------------------------------------------------
    def send_request(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        """Send a request; returns its seq (wait with `response`)."""
        seq = next(self._seq)
        message: dict[str, Any] = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self._send(message)
        return seq

    def response(self, seq: int, timeout: float = 10.0) -> dict[str, Any]:
        """The response body of request `seq`; raises DapError on failure."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while seq not in self._responses:
                left = deadline - time.monotonic()
                if self.closed:
                    raise DapError(f"{self.name}: connection closed before response {seq}")
                if left <= 0:
                    raise DapError(f"{self.name}: no response to request {seq} in {timeout}s")
                self._cond.wait(min(left, 0.2))
            message = self._responses.pop(seq)
        if not message.get("success"):
            raise DapError(f"{self.name}: {message.get('command')}: {message.get('message')}")
        body: dict[str, Any] = message.get("body") or {}
        return body

    def request(
        self, command: str, arguments: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send a request and wait for its response body."""
        return self.response(self.send_request(command, arguments), timeout)

    def respond(
        self, request: dict[str, Any], success: bool = True, message: str | None = None
    ) -> None:
        """Answer a reverse request."""
        reply: dict[str, Any] = {
            "seq": next(self._seq),
            "type": "response",
            "request_seq": request["seq"],
            "command": request["command"],
            "success": success,
        }
        if message:
            reply["message"] = message
        self._send(reply)

    def wait_event(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda e: True,
        timeout: float = 10.0,
        start: int = 0,
    ) -> dict[str, Any]:
        """The first event called `name` (from index `start`) matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[start:]:
                    if event.get("event") == name and predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    seen = [e.get("event") for e in self.events]
                    raise DapError(f"{self.name}: no {name!r} event (seen {seen})")
                self._cond.wait(min(left, 0.2))

    def next_event(self, names: tuple[str, ...], start: int) -> tuple[int, dict[str, Any]] | None:
        """The first event in `names` from index `start` and its index; None once closed."""
        with self._cond:
            while True:
                for index in range(start, len(self.events)):
                    if self.events[index].get("event") in names:
                        return index, self.events[index]
                start = len(self.events)
                if self.closed:
                    return None
                self._cond.wait(0.2)

    def disconnect(self, arguments: dict[str, Any], timeout: float = 5.0) -> bool:
        """Send `disconnect` and wait for its response; False if one was already sent.

        Once per session, and the connection stays open until the response, as VS Code's
        shutdown does: debugpy's adapter answers `disconnect` by sending `terminated`, then
        the response, then closing. If it cannot send that response (the client closed the
        socket after `terminated`, or a second `disconnect` was queued behind the first and
        finds the channel closed), the handler raises and the adapter's message loop ends
        the whole adapter with `os._exit(1)`: the debug port is gone for good.
        """
        with self._cond:
            if self._disconnect_sent or self.closed:
                return False
            self._disconnect_sent = True
        try:
            self.request("disconnect", arguments, timeout=timeout)
        except DapError:
            pass  # the adapter closes the channel right after answering
        return True

    @property
    def ended(self) -> bool:
        """Closed, or the adapter said the debuggee terminated."""
        return self.closed or any(e.get("event") == "terminated" for e in self.events)

    def close(self) -> None:
        """Drop the connection."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._reader.join(2.0)


@dataclass
class Stop:
    """A `stopped` event and where it happened."""

    session: Session
    thread_id: int
    reason: str
    path: str
    line: int
    name: str
    frames: list[dict[str, Any]] = field(default_factory=list)


INITIALIZE_ARGS = {
    "clientID": "handlerlens-tests",
    "clientName": "HandlerLens tests",
    "adapterID": "handlerlens",
    "pathFormat": "path",
    "linesStartAt1": True,
    "columnsStartAt1": True,
    "supportsVariableType": True,
    "supportsRunInTerminalRequest": False,
    "supportsStartDebuggingRequest": True,
}


def _bp_args(path: str, lines: list[int]) -> dict[str, Any]:
    return {"source": {"path": path}, "breakpoints": [{"line": line} for line in lines]}


class Editor:
    """The editor's side of a debug session with child sessions, as VS Code runs it."""

    def __init__(
        self,
        port: int,
        breakpoints: dict[str, list[int]] | None = None,
        configuration: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = port
        self.breakpoints = dict(breakpoints or {})
        self.configuration = configuration or {
            "type": "handlerlens",
            "request": "attach",
            "name": "Debug",
            "connect": {"host": host, "port": port},
            "justMyCode": True,
            "subProcess": True,
        }
        self.sessions: list[Session] = []
        self.children: list[Session] = []
        self.stops: list[Stop] = []
        self.errors: list[str] = []
        self.attach_ms: list[float] = []
        self._cond = threading.Condition()
        self._attaching: list[threading.Thread] = []
        self._leaving = False
        self._bp_lock = threading.RLock()
        self._configured: set[Session] = set()
        self.parent: Session | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def attach(self, timeout: float = 20.0) -> Session:
        """Attach the top-level session to the runner's debug port."""
        self.parent = self._start_session(self.configuration, "parent", timeout)
        return self.parent

    def _start_session(
        self, configuration: dict[str, Any], name: str, timeout: float = 20.0
    ) -> Session:
        started = time.monotonic()
        connect = configuration.get("connect") or {}
        session = Session(
            str(connect.get("host", self.host)),
            int(connect.get("port", self.port)),
            name,
            on_reverse=self._on_reverse,
        )
        with self._cond:
            self.sessions.append(session)
        session.request("initialize", INITIALIZE_ARGS, timeout)
        attach_seq = session.send_request("attach", configuration)
        session.wait_event("initialized", timeout=timeout)
        with self._bp_lock:
            # As VS Code does: the breakpoints as they are now; later changes follow in order.
            for path, lines in list(self.breakpoints.items()):
                self._send_breakpoints(session, path, lines, timeout)
            self._configured.add(session)
        session.request("setExceptionBreakpoints", {"filters": []}, timeout)
        session.request("configurationDone", {}, timeout)
        session.response(attach_seq, timeout)
        threading.Thread(target=self._watch_stops, args=(session,), daemon=True).start()
        with self._cond:
            self.attach_ms.append((time.monotonic() - started) * 1000.0)
            self._cond.notify_all()
        return session

    def _send_breakpoints(
        self, session: Session, path: str, lines: list[int], timeout: float
    ) -> None:
        session.request("setBreakpoints", _bp_args(path, lines), timeout)

    def _on_reverse(self, session: Session, request: dict[str, Any]) -> None:
        if request.get("command") != "startDebugging":
            session.respond(request, success=False, message="not supported")
            return
        with self._cond:
            if self._leaving:
                session.respond(request, success=False, message="the editor is leaving")
                return
            session.respond(request)
            configuration = dict(request["arguments"]["configuration"])
            # A thread per child, as an editor would: the parent's reader must keep reading.
            attaching = threading.Thread(
                target=self._start_child, args=(configuration,), name="child-attach", daemon=True
            )
            self._attaching.append(attaching)
            attaching.start()

    def _start_child(self, configuration: dict[str, Any]) -> None:
        name = f"child-{configuration.get('subProcessId')}"
        try:
            child = self._start_session(configuration, name)
        except (DapError, OSError) as exc:
            with self._cond:
                self.errors.append(f"{name}: {exc}")
                self._cond.notify_all()
            return
        with self._cond:
            self.children.append(child)
            self._cond.notify_all()

    def _watch_stops(self, session: Session) -> None:
        index = 0
        while True:
            found = session.next_event(("stopped", "terminated"), index)
            if found is None:
                return
            index, event = found[0] + 1, found[1]
            if event["event"] == "terminated":
                # As an editor does: the debuggee is gone, so end the session. If the editor
                # is already disconnecting it (which is what sent `terminated`), that caller
                # closes the connection once the adapter has answered.
                if session.disconnect({}):
                    session.close()
                return
            thread_id = int(event["body"].get("threadId", 0))
            try:
                trace = session.request("stackTrace", {"threadId": thread_id, "levels": 20})
            except DapError as exc:
                with self._cond:
                    self.errors.append(f"stackTrace: {exc}")
                continue
            frames = trace.get("stackFrames") or []
            top = frames[0] if frames else {}
            stop = Stop(
                session,
                thread_id,
                str(event["body"].get("reason")),
                str((top.get("source") or {}).get("path", "")),
                int(top.get("line", 0)),
                str(top.get("name", "")),
                frames,
            )
            with self._cond:
                self.stops.append(stop)
                self._cond.notify_all()

    # -- what tests ask ------------------------------------------------------------------
    def set_breakpoints(self, path: str, lines: list[int], timeout: float = 10.0) -> None:
        """Set a file's breakpoints in every live session (as the editor does)."""
        with self._bp_lock:
            self._set_breakpoints_locked(path, lines, timeout)

    def _set_breakpoints_locked(self, path: str, lines: list[int], timeout: float) -> None:
        self.breakpoints[path] = lines
        # To every session at once, then the answers, as VS Code does: one session that is
        # ending (a worker being replaced) must not hold the message up for the others.
        sent = []
        for session in list(self.sessions):
            # A session still attaching sends the new lines itself, once `initialized`.
            if session in self._configured and not session.ended:
                try:
                    sent.append(
                        (session, session.send_request("setBreakpoints", _bp_args(path, lines)))
                    )
                except DapError:
                    pass
        for session, seq in sent:
            try:
                session.response(seq, timeout)
            except DapError:
                pass

    def wait_children(self, count: int, timeout: float = 20.0) -> list[Session]:
        """Wait until `count` child sessions have been attached in total."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.children) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DapError(f"only {len(self.children)} child sessions; {self.errors}")
                self._cond.wait(min(left, 0.2))
            return list(self.children)

    def wait_stop(self, start: int = 0, timeout: float = 20.0) -> Stop:
        """The first stop from index `start`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.stops) <= start:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DapError(f"no stop within {timeout}s; errors: {self.errors}")
                self._cond.wait(min(left, 0.2))
            return self.stops[start]

    def variables(self, stop: Stop, scope: str = "Locals") -> dict[str, dict[str, Any]]:
        """The variables of the top frame's `scope`, by name."""
        frame_id = int(stop.frames[0]["id"])
        scopes = stop.session.request("scopes", {"frameId": frame_id})["scopes"]
        (chosen,) = [s for s in scopes if s["name"] == scope]
        found = stop.session.request(
            "variables", {"variablesReference": chosen["variablesReference"]}
        )["variables"]
        return {v["name"]: v for v in found}

    def children_of(self, variable: dict[str, Any], session: Session) -> dict[str, Any]:
        """The members of a structured variable, by name."""
        found = session.request(
            "variables", {"variablesReference": variable["variablesReference"]}
        )["variables"]
        return {v["name"]: v for v in found}

    def resume(self, stop: Stop) -> None:
        """Continue the stopped session."""
        stop.session.request("continue", {"threadId": stop.thread_id})

    def disconnect(self) -> None:
        """Disconnect every session without terminating the debuggees, then close.

        Children still attaching finish first, so none is left attached behind the editor.
        """
        with self._cond:
            self._leaving = True
            attaching = list(self._attaching)
        for thread in attaching:
            thread.join(25.0)
        for session in reversed(self.sessions):
            session.disconnect({"terminateDebuggee": False})
            session.close()
        with self._cond:
            self.sessions.clear()

    def close(self) -> None:
        """Drop every connection."""
        for session in self.sessions:
            session.close()
