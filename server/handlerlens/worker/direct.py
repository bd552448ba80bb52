"""Connections lent by the supervisor: this worker answers their HTTP requests itself.

On the hot path of the Yandex HTTP face, the supervisor accepts a connection and passes its
descriptor here (SCM_RIGHTS on a Unix socket pair) instead of parsing, forwarding and answering
every request itself: a warm request then wakes one process instead of two. The supervisor
keeps its own copy of every lent connection and stays in charge of everything but the plain
case: it hears of each request as it starts and ends (the `direct-start` / `direct-end` frames
on the result pipe), writes START, END and REPORT, kills the worker on a timeout or a memory
overrun and answers that request itself, and takes the connections back on a reload.

Only the plain case is served here — an HTTP/1.1 request with a Content-Length (or no body),
one loopback Host, not the Invoke API, not `?integration=raw`, not big. Anything else hands
the connection back, with the bytes read so far, and the supervisor serves it from then on.

The platform modules are the supervisor's own (`handlerlens/platforms`), loaded here under a
private name like the worker package itself: the event and the response are built by the
same code whichever process answers.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PLATFORMS = "_handlerlens_platforms"
MAX_HEAD = 64 * 1024
MAX_HEADERS = 100
# Bigger bodies go back to the supervisor, which enforces the platform's limits.
MAX_BODY = 1024 * 1024
INVOKE_PREFIX = "/2015-03-31/functions/"
SEND_TIMEOUT_S = 30.0


def load_platforms() -> Any:
    """The platform modules, imported under a private package name (never the user's)."""
    import importlib
    from importlib.machinery import ModuleSpec

    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "platforms")
    package = type(sys)(PLATFORMS)
    spec = ModuleSpec(PLATFORMS, None, is_package=True)
    spec.submodule_search_locations = [here]
    package.__spec__ = spec
    package.__path__ = [here]
    package.__package__ = PLATFORMS
    sys.modules[PLATFORMS] = package
    for name in ("runner_env", "http_reply", "yandex_http_event", "yandex_response"):
        importlib.import_module(f"{PLATFORMS}.{name}")
    if not hasattr(socket, "recv_fds"):
        raise RuntimeError("socket.recv_fds is missing (Python 3.9+ on Unix has it)")
    package.http_reply.encode_response(200, [], b"", True, False)  # loads `http` now
    return package


class _Conn:
    __slots__ = ("id", "sock", "buffer", "client")

    def __init__(self, conn_id: int, sock: socket.socket) -> None:
        self.id = conn_id
        self.sock = sock
        self.buffer = b""
        try:
            peer = sock.getpeername()
            self.client = (str(peer[0]), int(peer[1]))
        except (OSError, IndexError, TypeError):
            self.client = ("127.0.0.1", 0)


class _Plain:
    """A request this worker can answer: (method, query, headers, body, keep_alive)."""

    __slots__ = ("method", "query", "headers", "body", "keep_alive")

    def __init__(
        self, method: str, query: str, headers: list[tuple[str, str]], body: bytes, keep: bool
    ) -> None:
        self.method = method
        self.query = query
        self.headers = headers
        self.body = body
        self.keep_alive = keep


_NOT_YET = "not yet"  # a request whose bytes are not all here
_HAND_BACK = "hand back"  # anything but the plain case


def parse_plain(buffer: bytes, loopback: Callable[[str], bool]) -> tuple[_Plain, int] | str:
    """The first request in `buffer` and its length, `_NOT_YET`, or `_HAND_BACK`."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return _HAND_BACK if len(buffer) > MAX_HEAD else _NOT_YET
    lines = buffer[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "HTTP/1.1" or len(lines) - 1 > MAX_HEADERS:
        return _HAND_BACK
    method, target = parts[0], parts[1]
    if not method.isalpha() or not method.isupper() or not target.startswith("/"):
        return _HAND_BACK
    path, _, query = target.partition("?")
    if path.startswith(INVOKE_PREFIX) or "integration=raw" in query:
        return _HAND_BACK
    headers: list[tuple[str, str]] = []
    length = 0
    hosts = 0
    keep_alive = True
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or " " in name:
            return _HAND_BACK
        value = value.strip(" \t")
        headers.append((name, value))
        lowered = name.lower()
        if lowered == "content-length":
            if not value.isdigit() or length:
                return _HAND_BACK
            length = int(value)
        elif lowered == "host":
            hosts += 1
            if not loopback(value):
                return _HAND_BACK
        elif lowered in ("transfer-encoding", "expect"):
            return _HAND_BACK
        elif lowered == "connection" and "close" in value.lower():
            keep_alive = False
    if hosts > 1 or length > MAX_BODY:
        return _HAND_BACK
    total = end + 4 + length
    if len(buffer) < total:
        return _NOT_YET
    return _Plain(method, query, headers, buffer[end + 4 : total], keep_alive), total


class DirectServer:
    """The lent connections, the selector over them, and serving one request at a time."""

    def __init__(
        self,
        channel_fd: int,
        platforms: Any,
        invoke: Callable[[dict[str, Any], bytes, Any], tuple[dict[str, Any], bytes]],
        send: Callable[[dict[str, Any], bytes], None],
        end_of_op: Callable[[], list[int]],
        max_rss_kb: Callable[[], int],
    ) -> None:
        self.platforms = platforms
        self.channel = socket.socket(fileno=channel_fd)
        self.invoke = invoke
        self.send = send
        self.end_of_op = end_of_op
        self.max_rss_kb = max_rss_kb
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.channel, selectors.EVENT_READ, None)
        self.conns: dict[int, _Conn] = {}
        self.timeout = 3.0
        # Yandex counts init in the first call's timeout (PLATFORMS.md §5.1), as the runner
        # does on its own path (host.py): what init took, until a first call has run.
        self.init_ms = 0.0

    def watch(self, fd: int) -> None:
        """Also wake up for `fd` (the control pipe): its key's data is the fd itself."""
        self.selector.register(fd, selectors.EVENT_READ, fd)

    def wait(self) -> list[Any]:
        """Ready keys' data: an int for a watched fd, a _Conn, or None for new lends."""
        return [key.data for key, _ in self.selector.select()]

    # -- lending -------------------------------------------------------------------------
    def take_lent(self) -> None:
        """Accept the descriptors the supervisor passed (one message may carry several)."""
        try:
            message, fds, _, _ = socket.recv_fds(self.channel, 64 * 1024, 64)
        except (BlockingIOError, InterruptedError):
            return
        if not message and not fds:
            return  # the supervisor is gone: the control pipe's end of file says so too
        info = json.loads(message.decode("utf-8"))
        self.timeout = float(info.get("timeout", self.timeout))
        for conn_id, fd in zip(info["conns"], fds):  # noqa: B905 (3.9 has no strict=)
            sock = socket.socket(fileno=fd)
            # Blocking, but a client that stops reading cannot hold the worker forever.
            sock.settimeout(SEND_TIMEOUT_S)
            conn = _Conn(int(conn_id), sock)
            self.conns[conn.id] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _drop(self, conn: _Conn) -> None:
        self.conns.pop(conn.id, None)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def release_all(self) -> tuple[dict[str, Any], bytes]:
        """Every connection back to the supervisor, each with the bytes read but not served."""
        ids: list[int] = []
        sizes: list[int] = []
        chunks: list[bytes] = []
        for conn in list(self.conns.values()):
            ids.append(conn.id)
            sizes.append(len(conn.buffer))
            chunks.append(conn.buffer)
            self._drop(conn)
        return {"op": "released", "conns": ids, "sizes": sizes}, b"".join(chunks)

    # -- serving -------------------------------------------------------------------------
    @staticmethod
    def _wait_to_be_stopped() -> None:
        """Past the deadline: the supervisor answers 504 and ends this instance."""
        while True:
            time.sleep(3600)

    def serve(self, conn: _Conn) -> None:
        """Read what the connection has and answer every whole request in it."""
        try:
            data = conn.sock.recv(256 * 1024)
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            self.send({"op": "direct-closed", "conn": conn.id}, b"")
            return
        conn.buffer += data
        while conn.buffer:
            parsed = parse_plain(conn.buffer, self.platforms.http_reply.host_is_loopback)
            if parsed is _NOT_YET:
                return
            if isinstance(parsed, str):
                leftover = conn.buffer
                self._drop(conn)
                self.send({"op": "handback", "conn": conn.id}, leftover)
                return
            request, size = parsed
            conn.buffer = conn.buffer[size:]
            if not self._answer(conn, request):
                return

    def _answer(self, conn: _Conn, request: _Plain) -> bool:
        """Run the handler for one request and answer it; False once the connection is gone."""
        p = self.platforms
        env, http_reply = p.runner_env, p.http_reply
        rid = env.request_id()
        now = time.time()
        event = p.yandex_http_event.build_event(
            http_reply.IncomingRequest(
                request.method, request.query, request.headers, request.body, *conn.client
            ),
            rid,
            env.request_id(),
            now,
        )
        deadline_ms = int(now * 1000 + self.timeout * 1000 - self.init_ms)
        self.init_ms = 0.0
        self.send({"op": "direct-start", "rid": rid, "conn": conn.id}, b"")
        if deadline_ms <= now * 1000:
            self._wait_to_be_stopped()  # init used the whole timeout: the call never runs
        meta = {"op": "invoke", "rid": rid, "deadlineMs": deadline_ms, "mode": "json"}
        reply, payload = self.invoke(meta, b"", event)
        reply["op"] = "direct-end"
        reply["conn"] = conn.id
        response = p.yandex_response
        if reply.get("ok"):
            mapped, warning = response.map_proxy_response(str(reply.get("kind")), payload)
            if warning:
                reply["warning"] = warning
        elif reply.get("errorKind") == "unserialisable":
            mapped = response.unserialisable(str(reply.get("repr", "")))
        else:
            mapped = response.function_error(reply.get("error") or {})
        wire = http_reply.encode_response(
            mapped.status,
            [*mapped.headers, ("X-Request-Id", rid)],
            mapped.body,
            request.keep_alive,
            request.method == "HEAD",
        )
        if time.time() * 1000 >= deadline_ms:
            self._wait_to_be_stopped()
        reply["maxRssKb"] = self.max_rss_kb()
        reply["marked"] = self.end_of_op()
        # The end first, then the answer: a supervisor that times the request out and finds
        # no end knows nothing was sent, and answers 504 itself.
        self.send(reply, b"")
        try:
            conn.sock.sendall(wire)
            if not request.keep_alive:
                conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            request.keep_alive = False
        if not request.keep_alive:
            self._drop(conn)
            self.send({"op": "direct-closed", "conn": conn.id}, b"")
            return False
        return True
