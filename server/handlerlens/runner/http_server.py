"""A small, strict HTTP/1.1 server on asyncio's Protocol API, for the runner's front end.

Why not a library: the runner's budget per warm request is a few tens of microseconds, the
surface is tiny (no TLS, no HTTP/2, loopback only), and nothing suitable is in the standard
library. A Protocol (not streams) avoids a task and two buffers per request. Limits are
explicit: header block size and count, body size (oversized bodies are drained and answered
413 so clients that are still writing get a response), timeouts for slow or idle clients.
What a handler answers with is runner/http_messages.py; a connection's timer,
runner/http_timeouts.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from handlerlens.platforms.http_head import (
    HEAD_TIMEOUT,
    MAX_HEAD,
    BadHead,
    dechunk,
    parse_head,
)
from handlerlens.platforms.http_reply import encode_response
from handlerlens.runner.http_messages import Respond, Response, internal_error, plain, request_id_of
from handlerlens.runner.http_timeouts import ConnectionTimeouts

log = logging.getLogger("handlerlens.runner")

# Bodies above max_body are read and thrown away up to this size, then the connection closes.
MAX_DRAIN = 64 * 1024 * 1024


@dataclass
class Request:
    """One parsed request; `body` is None when it exceeded the server's limit."""

    method: str
    target: str
    path: str
    query: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes | None
    client: tuple[str, int]
    body_size: int = 0
    # The connection it came on (None: not from a connection, e.g. built in a test).
    connection: HttpProtocol | None = None

    def client_gone(self) -> bool:
        """Whether the client has closed its connection (see HttpProtocol.client_gone)."""
        return self.connection is not None and self.connection.client_gone()

    def header(self, name: str) -> str | None:
        """The last value of a header, by case-insensitive name."""
        lowered = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == lowered:
                found = value
        return found


# What the server calls with each request (see Respond, runner/http_messages.py).
Handler = Callable[[Request, Respond], None]
# Offered each new connection: True if it took it (see runner/lender.py).
Lender = Callable[["HttpProtocol"], bool]
# The access log: (request line, status, milliseconds, request id or None) per answer.
Access = Callable[[str, int, float, "str | None"], None]

# A request refused before it reached the handler (the head's, or the body's, fault).
_BadRequest = BadHead


class HttpProtocol(ConnectionTimeouts, asyncio.Protocol):
    """One connection: parse, dispatch one request at a time, keep alive."""

    def __init__(
        self,
        handler: Handler,
        max_body: int,
        lender: Lender | None = None,
        access: Access | None = None,
    ) -> None:
        self.handler = handler
        self.lender = lender
        self.access = access
        # Lent to a worker, which reads and answers it; this side reads nothing meanwhile.
        self.lent = False
        # False once a worker handed it back for a request not its own (runner/lender.py):
        # a connection whose requests go to several functions stays here.
        self.lend_again = True
        # The function that answered its last routed request here (runner/app.py lends it
        # to that function's worker when two in a row go to one function).
        self.routed_to: str | None = None
        self.max_body = max_body
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.client: tuple[str, int] = ("127.0.0.1", 0)
        self.busy = False
        self.closing = False
        self.timer: asyncio.TimerHandle | None = None
        self.deadline: float | None = None  # loop time the connection times out at
        self.paused = False
        self.continued = False
        # When the current request's head began: HEAD_TIMEOUT is a deadline from there, so a
        # client trickling its header a byte at a time is still cut off.
        self.head_started: float | None = None
        # Inside _process's loop: a response given synchronously lets the loop go on to the
        # next pipelined request instead of recursing into it.
        self.processing = False
        # The client shut down its side (it sends nothing more): answer, then close.
        self.peer_done = False

    # -- connection events -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not a subclass of asyncio.Transport).
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client = (str(peer[0]), int(peer[1]))
        self._arm(HEAD_TIMEOUT)
        if self.lender is not None:
            # Next turn: before 3.11 the transport starts reading only after this returns,
            # so pausing it here would not stick.
            asyncio.get_running_loop().call_soon(self._offer)

    def _offer(self) -> None:
        """Lend the connection if nothing has been read from it yet and a worker takes it."""
        transport = self.transport
        if transport is None or self.closing or self.buffer or self.lender is None:
            return
        if self.busy or self.head_started is not None:
            return  # already being read here (a loop that reads before this turn)
        self.offer(self.lender)

    def offer(self, lend: Lender) -> bool:
        """Lend the connection now if nothing of it is read or unsent here and `lend` takes
        it (at its start, or between two requests: runner/lender.py's routed lending)."""
        transport = self.transport
        if transport is None or self.closing or self.busy or self.buffer or self.lent:
            return False
        if self.peer_done or transport.get_write_buffer_size():
            return False
        transport.pause_reading()
        if lend(self):
            self.lent = True
            self._cancel_timer()
            return True
        transport.resume_reading()
        return False

    def client_gone(self) -> bool:
        """The client closed the connection before its answer: it reset it, or it sent its
        end of file and holds its socket no more (one that only shut down its sending side
        after its request, as `nc -N` does, still waits for the answer; see worker/peer.py).
        """
        if self.transport is None:
            return True
        if not self.peer_done:
            return False
        from handlerlens.worker.peer import client_closed

        server = self.transport.get_extra_info("sockname")
        return isinstance(server, tuple) and client_closed(server[:2], self.client) is True

    def fileno(self) -> int:
        """The connection's descriptor (-1 once closed)."""
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        return sock.fileno() if sock is not None else -1

    def reclaim(
        self,
        leftover: bytes,
        busy: bool = False,
        head: bool = False,
        close: bool = False,
        expired: bool = False,
    ) -> Respond | None:
        """A lent connection comes back, with the bytes the worker read but did not serve.

        `busy`: the worker died in the middle of a request on it (a HEAD request if `head`,
        one that asked to close the connection if `close`); the returned `respond` answers
        it (the platform's error), and reading resumes after it. `expired`: its request
        stalled past the timeout in the worker: 408, as here.
        """
        self.lent = False
        if self.transport is None or self.closing:
            return None
        self.transport.resume_reading()
        self.buffer += leftover
        if expired:
            self._timed_out()
            return None
        if busy:
            self.busy = True
            answered = False

            def respond(response: Response) -> None:
                nonlocal answered
                if not answered:
                    answered = True
                    self._answer(response, keep_alive=not close, head_only=head)

            return respond
        self._next()
        return None

    def write_through(self, data: bytes, close: bool) -> None:
        """The end of a response a worker began on a lent connection (then close, if asked)."""
        if self.transport is None or self.closing:
            return
        self.transport.write(data)
        if close:
            self.close()

    def close(self) -> None:
        """Close the connection (a worker closed its copy of a lent one)."""
        self.lent = False
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def eof_received(self) -> bool:
        """A client that half-closes after its request (`nc -N`, a script that shuts down
        its sending side) still gets its answers; the connection closes once they are out."""
        self.peer_done = True
        if self.busy:
            return True
        self._next()
        return not self.closing and self.transport is not None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._cancel_timer()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._next()
        elif len(self.buffer) > MAX_HEAD + self.max_body and self.transport and not self.paused:
            # A pipelining client ran ahead of us: stop reading until the handler is done.
            self.transport.pause_reading()
            self.paused = True

    # -- timeouts (the timer itself: runner/http_timeouts.py) ---------------------------
    def _timed_out(self) -> None:
        if self.transport is not None and not self.busy:
            if self.buffer:
                self._log_unparsed(408)
                self._send(plain(408, "Request timed out"), keep_alive=False, head_only=False)
            else:
                self.transport.close()

    # -- parsing -------------------------------------------------------------------------
    def _process(self) -> None:
        self.processing = True
        try:
            while not self.busy and not self.closing and self.transport is not None:
                try:
                    parsed = self._parse_one()
                except _BadRequest as bad:
                    self._log_unparsed(bad.status)
                    self._send(plain(bad.status, str(bad)), keep_alive=False, head_only=False)
                    return
                if parsed is None:
                    return
                request, keep_alive = parsed
                self.busy = True
                self._disarm()
                self._dispatch(request, keep_alive)
        finally:
            self.processing = False

    def _parse_one(self) -> tuple[Request, bool] | None:
        head = parse_head(self.buffer)  # one parser for both processes: platforms/http_head
        if head is None:
            return None
        length, chunked, expect = head.length, head.chunked, head.expect or ""
        start = head.end + 4
        if chunked:
            decoded = dechunk(self.buffer, self.max_body, start, MAX_DRAIN)
            if decoded is None:
                return None
            body, consumed, size = decoded
        else:
            size = length or 0
            if len(self.buffer) - start < size:
                if size > MAX_DRAIN or (expect == "100-continue" and size > self.max_body):
                    # Refuse before the client uploads a body that would only be thrown away.
                    raise _BadRequest(413, "Request body too large")
                if expect == "100-continue" and self.transport and not self.continued:
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.continued = True
                return None
            body = bytes(self.buffer[start : start + size]) if size <= self.max_body else None
            consumed = start + size
        self.continued = False
        self.head_started = None
        del self.buffer[:consumed]
        request = Request(
            head.method,
            head.target,
            head.path,
            head.query,
            head.version,
            head.headers,
            body,
            self.client,
            size,
            self,
        )
        return request, head.keep_alive

    # -- dispatch ------------------------------------------------------------------------
    def _log_unparsed(self, status: int) -> None:
        """The access log's line for an answer to what never became a request."""
        if self.access is not None:
            first = bytes(self.buffer[:200]).split(b"\r\n", 1)[0].decode("latin-1")
            self.access(first.strip() or "-", status, 0.0, None)

    def _dispatch(self, request: Request, keep_alive: bool) -> None:
        answered = False
        head_only = request.method == "HEAD"
        access = self.access
        started = time.perf_counter() if access is not None else 0.0

        def respond(response: Response) -> None:
            nonlocal answered
            if answered:
                return
            answered = True
            if access is not None:
                access(
                    f"{request.method} {request.target} {request.version}",
                    response.status,
                    (time.perf_counter() - started) * 1000.0,
                    request_id_of(response.headers),
                )
            self._answer(response, keep_alive, head_only)

        try:
            self.handler(request, respond)
        except Exception:
            log.exception("runner: request handler failed")
            respond(internal_error())

    def _answer(self, response: Response, keep_alive: bool, head_only: bool) -> None:
        if self.transport is None:
            return
        self._send(response, keep_alive, head_only)
        self.busy = False
        if self.paused and self.transport is not None:
            self.transport.resume_reading()
            self.paused = False
        if self.processing:
            return  # answered from inside _process: its loop takes the next request
        if self.transport is not None and not self.closing:
            self._next()

    def _next(self) -> None:
        """Start on the next buffered request; if it is not all here yet, arm its timeout.

        Parsing first spares a keep-alive request (which comes whole) a timer it would
        cancel at once.
        """
        self._process()
        if not self.busy and self.transport is not None and not self.closing:
            if self.peer_done:  # nothing more will come: what is left is not a request
                self.closing = True
                self.transport.close()
                return
            self._arm_for_buffer()

    def _send(self, response: Response, keep_alive: bool, head_only: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(
            encode_response(response.status, response.headers, response.body, keep_alive, head_only)
        )
        if not keep_alive:
            self.closing = True
            self.transport.close()


async def serve(
    handler: Handler,
    host: str,
    port: int,
    max_body: int,
    lender: Lender | None = None,
    access: Access | None = None,
) -> asyncio.base_events.Server:
    """Listen on host:port; raises OSError (e.g. EADDRINUSE) if the port is taken.
    `access`, if given, hears of every answer (the access log)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: HttpProtocol(handler, max_body, lender, access),
        host,
        port,
        reuse_address=True,
        backlog=512,
    )
