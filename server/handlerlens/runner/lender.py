"""Lending HTTP connections to a worker, which then answers them itself (worker/direct.py).

The runner's throughput on the platforms' HTTP faces was its supervisor's: every request was
parsed, turned into an event, forwarded, answered and logged there, waking two processes per
request. A lent connection wakes one: the worker reads the request, builds the event with the
same platform modules, runs the handler and writes the response. The supervisor still
hears of each request (`direct-start`, `direct-end`) and keeps everything that needs a second
process: START / END / REPORT and the log, the timeout and memory watch (it kills the worker and
answers 504 / 502 itself, on its own copy of the connection), and every other kind of request.

The lender holds the function's one instance while connections are lent to it: the pool's
one-request-at-a-time promise holds because that worker is single-threaded. A request that
must go through the pool (the Invoke API, a connection the worker handed back, a reload)
makes the lender give the instance back: the worker returns every connection with the bytes
it read but did not serve, and the supervisor serves those connections from then on.

Lending applies where it can be exact: one instance, no debugger, a worker that said it can
take connections, and either one function served (Yandex, or AWS behind API Gateway: lent as
each connection opens) or routes declared (a whole app): a routed connection is lent once the
supervisor has answered two requests in a row on it for one function, to that function's
worker, with the route table (worker/routed.py), and comes back for any request that is not
that function's to answer (another function's route, an unknown route, a preflight); a
connection that came back so stays in the supervisor. A function's routes whose gateway would
time out before the function (its integration timeout) are not lent: the supervisor answers
those.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any, Protocol

from handlerlens.runner.http_messages import Respond, Response
from handlerlens.runner.http_server import HttpProtocol
from handlerlens.runner.lend_socket import CAN_LEND, LendSocket
from handlerlens.worker import protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from handlerlens.platforms.faces import HttpFace
    from handlerlens.platforms.gateway_base import GatewayFace
    from handlerlens.runner.outcome import Outcome
    from handlerlens.runner.pool import Instance, Pool
    from handlerlens.runner.status import Status
    from handlerlens.runner.targets import ServedFunction

log = logging.getLogger("handlerlens.runner")

# After a request through the supervisor wanted the instance, the seconds during which no
# routed connection is lent to it (Lender.lend_routed).
CONTENDED_S = 1.0


class LendingHost(Protocol):
    """What the lender needs of the function it lends for (runner/host.py's FunctionHost,
    which in turn knows nothing of lending but the give_back hook)."""

    fn: ServedFunction
    pool: Pool
    status: Status
    face: HttpFace
    give_back: Callable[[], None] | None

    def begin_direct(
        self, instance: Instance, rid: str, done: Callable[[Outcome], None]
    ) -> None: ...


class Lender:
    """The connections lent to one function's instance, and that instance while it has them."""

    def __init__(self, host: LendingHost) -> None:
        self.host = host
        self.instance: Instance | None = None
        self.conns: dict[int, HttpProtocol] = {}
        self._next_id = 0
        # Asked the worker for everything back (a reload, a queued request): lend nothing new.
        self._releasing = False
        # The request in flight on a lent connection: request id, connection id, and whether
        # it is a HEAD request and whether it asked to close the connection.
        self._current: tuple[str, int, bool, bool] | None = None
        # Routed lending (worker/routed.py): the connections lent routed, the route table's
        # generation the instance has, and the gateway faces of the routes it answers.
        self.routed: set[int] = set()
        self._generation: int | None = None
        self._faces: dict[int, GatewayFace] = {}
        # The connection of the last request the worker said it answered.
        self._last_conn = -1
        # Requests the worker could not finish: their connection and how to answer them.
        self._unfinished: dict[int, tuple[HttpProtocol, Respond]] = {}
        host.pool.on_wanted = self._wanted
        host.give_back = self.give_back
        # When a request through the supervisor last wanted the instance lent here: routed
        # connections are not lent for a while after (see lend_routed).
        self._wanted_at = -CONTENDED_S
        # One handler per frame about lent connections (the protocol's LENDING).
        self._handlers = {
            protocol.DIRECT_START: self._direct_start,
            protocol.DIRECT_END: self._direct_end,
            protocol.DIRECT_CLOSED: self._direct_closed,
            protocol.HANDBACK: self._handback,
            protocol.RELEASED: self._released,
        }
        fn = host.fn
        # What the worker needs to answer as the platform would (worker/direct.py): its
        # timeout, and the HTTP face (platforms/faces.py:face_of).
        face = host.face
        self._settings: dict[str, Any] = {
            "timeout": fn.timeout,
            "platform": fn.platform,
            "version": face.version,
        }
        # The access log (Status.access): the worker then says each request's line, status
        # and duration in the frames it sends anyway. Per request id: [line, when it began
        # here, status and milliseconds once the worker answered].
        self._access: dict[str, list[Any]] | None = None
        if host.status.access_log:
            self._settings["access"] = True
            self._access = {}

    # -- lending -------------------------------------------------------------------------
    def lend(self, connection: HttpProtocol) -> bool:
        """Offered a new connection: True if a worker took it."""
        return self._lend(connection, self._settings) is not None

    def lend_routed(
        self,
        connection: HttpProtocol,
        generation: int,
        routes: dict[str, Any],
        faces: dict[int, GatewayFace],
    ) -> bool:
        """Offered a routed connection between two requests, with the route table's
        `generation`, what the worker needs of it (`routes`, sent once per generation and
        instance) and the gateway faces of the routes it answers (by index in the table).

        Not while requests through the supervisor want this function's instance (other
        connections' first requests, those of connections kept there): lending then would
        take the instance back and forth, a release for every request."""
        if time.monotonic() - self._wanted_at < CONTENDED_S:
            return False
        if self.instance is None or self._generation != generation:
            settings = {**self._settings, "routed": generation, "routes": routes}
        else:
            settings = {**self._settings, "routed": generation}
        conn_id = self._lend(connection, settings)
        if conn_id is None:
            return False
        self._generation = generation
        self._faces = faces
        self.routed.add(conn_id)
        return True

    def _lend(self, connection: HttpProtocol, settings: dict[str, Any]) -> int | None:
        instance = self._holding()
        if instance is None:
            return None
        fd = connection.fileno()
        if fd < 0:
            return None
        conn_id = self._next_id
        self._next_id += 1
        if not instance.worker.lend({conn_id: fd}, settings):
            return None
        self.conns[conn_id] = connection
        return conn_id

    def _holding(self) -> Instance | None:
        """The instance connections go to, taken from the pool if need be; None: none now."""
        if self._releasing:
            return None
        instance = self.instance
        if instance is not None:
            # A dead one is let go once its last frames are read (WorkerProcess.on_gone).
            return instance if instance.worker.alive else None
        pool = self.host.pool
        instance = pool.try_take()
        if instance is None:
            return None
        usable = instance.direct and instance.error is None and not instance.dead_init
        if not usable or not instance.worker.alive:
            pool.release(instance)  # a dead one is discarded (and replaced) there
            return None
        worker = instance.worker
        worker.lend_sink = self._on_frame
        worker.on_gone = self._on_gone
        self.instance = instance
        return instance

    def _wanted(self) -> None:
        """A request through the supervisor waits for an instance: give back the one lent
        here, if any (and if connections held it, lend no routed connection to it for a
        while: see lend_routed)."""
        if self.instance is not None and self.conns and not self._releasing:
            self._wanted_at = time.monotonic()  # (not when it is being given back anyway)
        self.give_back()

    def give_back(self) -> None:
        """Ask the worker to return every connection; the instance goes back to the pool
        once it has (after the request it may be running)."""
        instance = self.instance
        if instance is None or self._releasing or not instance.worker.alive:
            return  # (a dead worker's end, when read, gives everything back)
        self._releasing = True
        instance.worker.send_op({"op": protocol.RELEASE})

    # -- the worker's frames -------------------------------------------------------------
    def _on_frame(self, meta: dict[str, Any], payload: bytes) -> None:
        """A frame about lent connections (protocol.LENDING), to its handler."""
        handler = self._handlers.get(str(meta.get("op")))
        if handler is not None:
            handler(meta, payload)

    def _direct_start(self, meta: dict[str, Any], payload: bytes) -> None:
        rid = str(meta.get("rid"))
        conn_id = int(meta.get("conn", -1))
        self._current = (rid, conn_id, bool(meta.get("head")), bool(meta.get("close")))
        if self._access is not None:
            self._access[rid] = [str(meta.get("line", "-")), time.perf_counter(), None, 0.0]
        instance = self.instance
        if instance is not None:
            face = self._faces.get(int(meta["route"])) if "route" in meta else None
            self.host.begin_direct(instance, rid, self._answering(conn_id, face))

    def _direct_end(self, meta: dict[str, Any], payload: bytes) -> None:
        current, self._current = self._current, None
        entry = None
        if self._access is not None and current is not None:
            entry = self._access.get(current[0])
        if entry is not None and "status" in meta:
            entry[2] = meta["status"]
            entry[3] = float(meta.get("ms", 0.0))
        self._last_conn = int(meta.get("conn", -1))
        if self.instance is not None and self.instance.worker.timed_out:
            # Read after the worker was stopped for its timeout: it was answering just
            # then, and whether its answer got out whole is unknown. Close that one.
            connection = self.conns.pop(int(meta.get("conn", -1)), None)
            if connection is not None:
                connection.close()
        warning = meta.get("warning")
        if warning:
            self.host.status.human(f"handlerlens: {self.host.fn.name}: {warning}")

    def _direct_closed(self, meta: dict[str, Any], payload: bytes) -> None:
        connection = self.conns.pop(int(meta.get("conn", -1)), None)
        if connection is not None:
            connection.close()
        self._unrouted(int(meta.get("conn", -1)))
        dropped = meta.get("dropped")
        if dropped:  # its client left while it waited behind a long request: not run
            status = self.host.status
            status.human(
                f'handlerlens: {self.host.fn.name}: "{dropped}" not run: its client closed '
                "the connection while it waited for an instance"
            )
            if status.access_log:
                status.access(str(dropped), 499, 0.0, None)

    def _handback(self, meta: dict[str, Any], payload: bytes) -> None:
        conn_id = int(meta.get("conn", -1))
        connection = self.conns.pop(conn_id, None)
        if conn_id in self.routed:
            self._unrouted(conn_id)
            if connection is not None:
                # A request for another function (or the supervisor's): lent no more.
                connection.lend_again = False
        if connection is not None:
            unsent = int(meta.get("unsent", 0))
            if unsent:  # a response the worker could not write without waiting
                connection.write_through(payload[:unsent], close=bool(meta.get("close")))
            connection.reclaim(payload[unsent:], expired=bool(meta.get("expired")))

    def _released(self, meta: dict[str, Any], payload: bytes) -> None:
        offset = 0
        for conn_id, size in zip(meta.get("conns", []), meta.get("sizes", []), strict=False):
            connection = self.conns.pop(int(conn_id), None)
            leftover = payload[offset : offset + int(size)]
            offset += int(size)
            if connection is not None:
                connection.reclaim(leftover)
        self._let_go(release=True)

    def _unrouted(self, conn_id: int) -> None:
        """A routed connection is back or closed: with none lent any more, the instance goes
        back to the pool, where the supervisor's requests for this function find it."""
        if conn_id in self.routed:
            self.routed.discard(conn_id)
            if not self.conns:
                self.give_back()

    def _let_go(self, release: bool) -> None:
        """Forget the instance; back to the pool if `release` (else it is being discarded)."""
        instance = self.instance
        self.instance = None
        self._releasing = False
        self._current = None
        self._generation = None
        self.routed.clear()
        if instance is None:
            return
        instance.worker.lend_sink = None
        instance.worker.on_gone = None
        for connection in self.conns.values():  # never returned: the worker is gone
            connection.reclaim(b"")
        self.conns.clear()
        if release:
            self.host.pool.release(instance)

    def _on_gone(self) -> None:
        """The worker died: its connections come back (the one mid-request stays busy until
        its error is answered); the pool replaces the instance."""
        current = self._current
        instance = self.instance
        if current is None and instance is not None:
            worker = instance.worker
            if worker.out_of_memory is not None or worker.timed_out or worker.interrupted:
                # Stopped by the runner: it may have been writing that answer just then.
                connection = self.conns.pop(self._last_conn, None)
                if connection is not None:
                    connection.close()
        if current is not None:
            connection = self.conns.pop(current[1], None)
            if connection is not None:
                respond = connection.reclaim(b"", busy=True, head=current[2], close=current[3])
                if respond is not None:
                    self._unfinished[current[1]] = (connection, respond)
        self._let_go(release=False)
        if current is None and instance is not None:
            # Nothing was running to report it: replace the instance here.
            self.host.pool.discard(instance)

    def _answering(self, conn_id: int, gateway: GatewayFace | None = None) -> Any:
        """The `done` of a request on a lent connection: the worker answered it, unless the
        request timed out or the worker died, when the supervisor answers on its copy (as
        the route's `gateway` would, on a routed connection)."""

        def done(outcome: Outcome) -> None:
            entry = self._access.pop(outcome.request_id, None) if self._access else None
            if outcome.status not in ("timeout", "crash"):
                unfinished = self._unfinished.pop(conn_id, None)
                if unfinished is not None:
                    # It answered just as it was stopped: whether whole is unknown.
                    unfinished[0].close()
                if entry is not None and entry[2] is not None:
                    self.host.status.access(entry[0], entry[2], entry[3], outcome.request_id)
                return  # the worker answered
            if conn_id in self.conns:  # its end of file not read yet: take them back now
                self._on_gone()
            unfinished = self._unfinished.pop(conn_id, None)
            if unfinished is None:
                return
            face = gateway or self.host.face  # as app.py answers a failed call
            rid_header = (face.request_id_header, outcome.request_id)
            reply = face.failed(outcome.status, outcome.error, outcome.detail)
            if entry is not None:
                ms = (time.perf_counter() - entry[1]) * 1000.0
                self.host.status.access(entry[0], reply.status, ms, outcome.request_id)
            unfinished[1](Response(reply.status, [*reply.headers, rid_header], reply.body))

        return done


def can_lend(host: LendingHost, functions: int, routed: bool = False) -> bool:
    """Whether `host`'s connections can be lent (see the module's docstring)."""
    pool = host.pool
    return (functions == 1 or routed) and pool.size == 1 and not pool.debug


def lender_for(host: LendingHost, functions: int, routed: bool = False) -> Lender | None:
    """The supervisor's lender for `host`'s connections, where lending is exact (one of
    `functions` served, or routes declared: `routed`; see the module's docstring); None
    otherwise, or with HANDLERLENS_LEND=0 in the environment, which keeps every request in
    the supervisor."""
    if os.environ.get("HANDLERLENS_LEND", "1") == "0" or not CAN_LEND:
        return None
    if not can_lend(host, functions, routed):
        return None
    if routed and functions > 1:
        LendSocket.load_later = True  # (see there)
    host.pool.lending = True  # its workers get a socket for lent connections
    return Lender(host)
