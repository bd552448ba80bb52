"""Connections lent by the supervisor: this worker answers their HTTP requests itself.

On the hot path of the HTTP faces (Yandex's, and AWS's API Gateway), the supervisor accepts a
connection and passes its descriptor here (SCM_RIGHTS on a Unix socket pair) instead of
parsing, forwarding and answering every request itself: a warm request then wakes one
process instead of two. The supervisor keeps its own copy of every lent connection and stays
in charge of everything but the plain case: it hears of each request as it starts and ends
(the `direct-start` / `direct-end` frames on the result pipe), writes START, END and REPORT,
kills the worker on a timeout or a memory overrun and answers that request itself, and takes
the connections back on a reload.

Only the plain case is served here — an HTTP/1.1 request with a Content-Length (or no body),
one loopback Host, not the Invoke API, not `?integration=raw`, not big. Anything else hands
the connection back, with the bytes read so far, and the supervisor serves it from then on.

The platform modules are the supervisor's own (`handlerlens/platforms`), loaded here under a
private name like the worker package itself: the event and the response are built by the
same code whichever process answers.
"""

from __future__ import annotations

import json
import mmap
import os
import selectors
import socket
import sys
import time

from . import protocol
from .plain import HAND_BACK, NOT_YET, Plain, parse_plain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PLATFORMS = "_handlerlens_platforms"
# How often lent connections are checked against the supervisor's timeouts (the platforms'
# http_head.py: an idle one closes; one stalled in a request goes back to the supervisor,
# which answers 408).
SWEEP_S = 1.0
# A handler that ran this long may have kept other clients waiting long enough to give up:
# before the requests read next are run, whether their client is still there is checked.
WAITED_S = 0.05
# The most read from a connection at once, into one buffer kept for all of them: a fresh
# bytes object this big per read would be a fresh mapping from the C allocator each time
# (mmap, mremap to the size read, munmap: three system calls and a page fault per request).
# An anonymous mapping, not a bytearray: only the pages reads reach count in the worker's
# memory (a bytearray is zeroed, all of it resident, from the start).
READ_SIZE = 256 * 1024


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
    names = ("runner_env", "http_reply", "yandex_http_event", "yandex_response", "aws_errors")
    for name in (*names, "aws_http_event", "aws_response", "failures", "faces", "http_head"):
        importlib.import_module(f"{PLATFORMS}.{name}")
    if not hasattr(socket, "recv_fds"):
        raise RuntimeError("socket.recv_fds is missing (Python 3.9+ on Unix has it)")
    package.http_reply.encode_response(200, [], b"", True, False)  # loads `http` now
    return package


class _Conn:
    __slots__ = ("id", "sock", "buffer", "client", "since", "check", "routes")

    def __init__(
        self, conn_id: int, sock: socket.socket, check: bool = False, routes: Any = None
    ) -> None:
        self.id = conn_id
        self.sock = sock
        self.buffer = bytearray()
        # Lent routed (worker/routed.py's Routes): only its own routes' requests are served.
        self.routes = routes
        # Lent while a long request ran: its first request may have waited (see WAITED_S).
        self.check = check
        # When it was lent or last answered, or when the request being read began.
        self.since = time.monotonic()
        try:
            peer = sock.getpeername()
            self.client = (str(peer[0]), int(peer[1]))
        except (OSError, IndexError, TypeError):
            self.client = ("127.0.0.1", 0)


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
        self.channel.setblocking(False)
        self.invoke = invoke
        self.send = send
        self.end_of_op = end_of_op
        self.max_rss_kb = max_rss_kb
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.channel, selectors.EVENT_READ, None)
        self.conns: dict[int, _Conn] = {}
        self.timeout = 3.0
        # The function's HTTP face (platforms/faces.py), as the supervisor's lend says.
        self.face: Any = None
        self._face_key: tuple[str, str | None] | None = None
        # The route table's generation last lent with, and its routes (worker/routed.py).
        self._routes: tuple[int, Any] | None = None
        # What init took, until a first call has run: the platform's rule for a call's time
        # (platforms/failures.py:call_timeout) counts it in that call's, or not.
        self.init_ms = 0.0
        # The supervisor prints an access log: say each request's line, status and duration.
        self.access = False
        # A long request ran (WAITED_S): the requests read after it may have waited for it,
        # so each is run only if its client is still connected (one look, no more).
        self._long_ran = False
        self.check_gone = False
        self._deferred = False
        self._swept = time.monotonic()
        self._read_into = memoryview(mmap.mmap(-1, READ_SIZE))

    def watch(self, fd: int) -> None:
        """Also wake up for `fd` (the control pipe): its key's data is the fd itself."""
        self.selector.register(fd, selectors.EVENT_READ, fd)

    def wait(self) -> list[Any]:
        """Ready keys' data: an int for a watched fd, a _Conn, or None for new lends."""
        timeout = SWEEP_S if self.conns else None
        # What is ready now arrived while the last requests ran (or since): worth a look if
        # one of them was long. The round after, no more, unless the last round served none
        # (the control pipe was ready too, and goes first).
        self.check_gone = self._long_ran or (self.check_gone and self._deferred)
        self._long_ran = False
        ready = [key.data for key, _ in self.selector.select(timeout)]
        self._deferred = len(ready) > 1 and any(type(item) is int for item in ready)
        if self.conns and time.monotonic() - self._swept > SWEEP_S:
            self._sweep()
        return ready

    def _sweep(self) -> None:
        """Connections idle or stalled too long: as the supervisor's timeouts would."""
        now = self._swept = time.monotonic()
        heads = self.platforms.http_head
        for conn in list(self.conns.values()):
            if not conn.buffer:
                if now - conn.since > heads.KEEPALIVE_TIMEOUT:
                    self._drop(conn)
                    self.send({"op": protocol.DIRECT_CLOSED, "conn": conn.id}, b"")
                continue
            limit = heads.BODY_IDLE_TIMEOUT if b"\r\n\r\n" in conn.buffer else heads.HEAD_TIMEOUT
            if now - conn.since > limit:
                self._hand_back(conn, expired=True)

    # -- lending -------------------------------------------------------------------------
    def take_lent(self) -> bool:
        """Accept one message of lent descriptors; False when none was waiting."""
        try:
            message, fds, _, _ = socket.recv_fds(self.channel, 64 * 1024, 64)
        except (BlockingIOError, InterruptedError):
            return False
        for fd in fds:
            os.set_inheritable(fd, False)  # a handler's child processes must not hold them
        if not message:
            for fd in fds:
                os.close(fd)
            if not fds:  # the supervisor closed its end: stop listening to it
                self.selector.unregister(self.channel)
            return False
        info = json.loads(message.decode("utf-8"))
        self.timeout = float(info.get("timeout", self.timeout))
        key = (str(info.get("platform", "yandex")), info.get("version"))
        if key != self._face_key:
            self.face = self.platforms.faces.face_of(*key)
            self._face_key = key
        self.access = bool(info.get("access"))
        routes = self._routes_of(info)
        ids = [int(conn_id) for conn_id in info["conns"]]
        for conn_id, fd in zip(ids, fds):  # noqa: B905 (3.9 has no strict=)
            sock = socket.socket(fileno=fd)
            sock.setblocking(False)
            conn = _Conn(conn_id, sock, self.check_gone, routes)
            self.conns[conn.id] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)
            if routes is False:  # lent routed with a table never received: back at once
                self._hand_back(conn)
        for conn_id in ids[len(fds) :]:
            # Truncated (this process is out of descriptors): the supervisor keeps those.
            self.send({"op": protocol.HANDBACK, "conn": conn_id}, b"")
        return True

    def _routes_of(self, info: dict[str, Any]) -> Any:
        """The Routes of a lend (None: not routed; False: a generation not received)."""
        generation = info.get("routed")
        if generation is None:
            return None
        if "routes" in info:
            from .routed import Routes

            self._routes = (int(generation), Routes(self.platforms, info["routes"]))
        if self._routes is None or self._routes[0] != int(generation):
            return False
        return self._routes[1]

    def _drop(self, conn: _Conn) -> None:
        self.conns.pop(conn.id, None)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def _hand_back(
        self, conn: _Conn, unsent: bytes = b"", close: bool = False, expired: bool = False
    ) -> None:
        """The connection back to the supervisor, with bytes read but not served, and the
        end of a response this worker could not write without waiting; `expired`: its
        request stalled past the timeout (the supervisor answers 408)."""
        leftover = bytes(conn.buffer)
        self._drop(conn)
        meta: dict[str, Any] = {"op": protocol.HANDBACK, "conn": conn.id}
        if expired:
            meta["expired"] = True
        if unsent:
            meta["unsent"] = len(unsent)
            meta["close"] = close
        self.send(meta, unsent + leftover)

    def release_all(self) -> tuple[dict[str, Any], bytes]:
        """Every connection back to the supervisor, each with the bytes read but not served."""
        while self.take_lent():
            pass  # lent before the release was asked for: those go back too
        ids: list[int] = []
        sizes: list[int] = []
        chunks: list[bytes] = []
        for conn in list(self.conns.values()):
            ids.append(conn.id)
            sizes.append(len(conn.buffer))
            chunks.append(bytes(conn.buffer))
            self._drop(conn)
        return {"op": protocol.RELEASED, "conns": ids, "sizes": sizes}, b"".join(chunks)

    # -- serving -------------------------------------------------------------------------
    @staticmethod
    def _wait_to_be_stopped() -> None:
        """Past the deadline: the supervisor answers 504 and ends this instance."""
        while True:
            time.sleep(3600)

    def serve(self, conn: _Conn) -> None:
        """Read what the connection has and answer every whole request in it."""
        if conn.id not in self.conns:
            return  # handed back since it was found ready
        into = self._read_into
        try:
            size = conn.sock.recv_into(into)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            size = 0
        if not size:
            self._drop(conn)
            self.send({"op": protocol.DIRECT_CLOSED, "conn": conn.id}, b"")
            return
        if not conn.buffer:
            conn.since = time.monotonic()  # a request begins: its head timeout runs from here
        conn.buffer += into[:size]
        while conn.buffer and conn.id in self.conns:
            try:
                parsed = parse_plain(conn.buffer, self.platforms)
            except Exception:  # whatever it is, the supervisor's parser answers it
                parsed = HAND_BACK
            if parsed is NOT_YET:
                return
            if isinstance(parsed, str):
                self._hand_back(conn)
                return
            request, size = parsed
            hit = None
            if conn.routes is not None:
                hit = conn.routes.find(request)
                if hit is None:  # not this function's route: the supervisor routes it
                    self._hand_back(conn)
                    return
            del conn.buffer[:size]
            if (self.check_gone or conn.check) and self._client_left(conn, request):
                return
            conn.check = False
            self._answer(conn, request, hit)

    def _client_left(self, conn: _Conn, request: Plain) -> bool:
        """Whether the client closed the connection while its request waited (it reset it,
        or sent its end of file and holds its socket no more: see peer.py): the request is
        then not run, the connection dropped.

        One look at the socket, only after a long request (see WAITED_S).
        """
        try:
            left = not conn.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            left = True
        else:
            if left:  # end of file: gone, or only half-closed and still reading?
                from .peer import client_closed

                try:
                    server = conn.sock.getsockname()
                except OSError:
                    server = None
                left = bool(server) and client_closed(server[:2], conn.client) is True
        if left:
            target = f"{request.path}?{request.query}" if request.query else request.path
            self._drop(conn)
            meta = {"op": protocol.DIRECT_CLOSED, "conn": conn.id}
            meta["dropped"] = f"{request.method} {target} HTTP/1.1"
            self.send(meta, b"")
        return left

    def _answer(self, conn: _Conn, request: Plain, hit: Any = None) -> None:
        """Run the handler for one request and answer it: as the function's HTTP face
        would, or on a routed connection as its route's gateway (`hit`, worker/routed.py)."""
        p = self.platforms
        http_reply, face = p.http_reply, self.face
        rid = p.runner_env.request_id()
        now = time.time()
        incoming = http_reply.IncomingRequest(
            request.method, request.query, request.headers, request.body, *conn.client
        )
        seconds = self.timeout  # the rule's answer without an init to count (a warm call)
        if self.init_ms:
            seconds = face.failures.call_timeout(self.timeout, self.init_ms / 1000.0)
        if hit is None:
            event = face.event(incoming, request.path, request.host, rid, now)
        else:
            face = hit.face
            port = conn.routes.port
            event = face.event(incoming, hit.path, request.host, port, rid, now, hit.params)
        deadline_ms = int(now * 1000 + seconds * 1000)
        self.init_ms = 0.0
        head_only = request.method == "HEAD"
        start: dict[str, Any] = {"op": protocol.DIRECT_START, "rid": rid, "conn": conn.id}
        if hit is not None:
            start["route"] = hit.index  # the supervisor answers a failure as its gateway
        # For the supervisor, should it answer in this worker's place: a HEAD request gets no
        # body, and a connection closes if the request asked, or if more requests were read
        # from it already (they would be lost with this worker).
        if head_only or not request.keep_alive or conn.buffer:
            start["head"] = head_only
            start["close"] = not request.keep_alive or bool(conn.buffer)
        if self.access:
            target = f"{request.path}?{request.query}" if request.query else request.path
            start["line"] = f"{request.method} {target} HTTP/1.1"
        self.send(start, b"")
        if deadline_ms <= now * 1000:
            self._wait_to_be_stopped()  # init used the whole timeout: the call never runs
        meta = {"op": protocol.INVOKE, "rid": rid, "deadlineMs": deadline_ms, "mode": "json"}
        extra = face.extra()
        if extra:
            meta.update(extra)
        reply, payload = self.invoke(meta, b"", event)
        reply["op"] = protocol.DIRECT_END
        reply["conn"] = conn.id
        # As the supervisor maps the same result (runner/app.py): the same face.
        if hit is None:
            mapped = face.answer(reply, payload)
        else:
            mapped = face.answer(reply, payload, incoming)
        rid_header = (face.request_id_header, rid)
        wire = http_reply.encode_response(
            mapped.status,
            [*mapped.headers, rid_header],
            mapped.body,
            request.keep_alive,
            head_only,
        )
        ended_ms = time.time() * 1000
        if ended_ms >= deadline_ms:
            self._wait_to_be_stopped()
        if ended_ms - now * 1000 >= WAITED_S * 1000:
            self._long_ran = True
        if self.access:
            reply["status"] = mapped.status
            reply["ms"] = ended_ms - now * 1000
        reply["maxRssKb"] = self.max_rss_kb()
        reply["marked"] = self.end_of_op()
        # The end first, then the answer: a supervisor that times the request out and finds
        # no end knows nothing was sent, and answers 504 itself.
        self.send(reply, b"")
        conn.since = time.monotonic()
        self._write(conn, wire, not request.keep_alive)

    def _write(self, conn: _Conn, wire: bytes, close: bool) -> None:
        """Send a response without ever waiting on the client: what does not fit in the
        socket's buffer now goes to the supervisor, which writes it as the client reads."""
        view = memoryview(wire)
        try:
            while view:
                view = view[conn.sock.send(view) :]
        except (BlockingIOError, InterruptedError):
            self._hand_back(conn, bytes(view), close)
            return
        except OSError:
            close = True  # the client is gone
        if close:
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self._drop(conn)
            self.send({"op": protocol.DIRECT_CLOSED, "conn": conn.id}, b"")
