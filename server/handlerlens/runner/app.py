"""The runner's HTTP surface: each request routed to the Invoke API or a platform's HTTP face.

With one function served (the common case), most plain requests never reach this module: the
supervisor lends the connection to the function's worker, which answers them itself
(worker/direct.py, see runner/lender.py). Both build the event and map the result with the same
platform faces (platforms/faces.py) and failure phrasebook (platforms/failures.py), so a change
to a platform's response mapping belongs there, not here: this module only routes, checks the
Host header, hands the Invoke API to runner/invoke_api.py, and answers what the worker hands back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from handlerlens.platforms import aws_invoke_api, runner_env
from handlerlens.platforms.http_reply import HttpReply, IncomingRequest, host_is_loopback
from handlerlens.runner import invoke_api
from handlerlens.runner.host import FunctionHost
from handlerlens.runner.http_messages import (
    Respond,
    Response,
    internal_error,
    not_run,
    plain,
    to_response,
)
from handlerlens.runner.http_server import Request
from handlerlens.runner.outcome import Outcome
from handlerlens.runner.route_table import RouteTable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from handlerlens.runner.http_server import HttpProtocol
    from handlerlens.runner.lender import Lender
    from handlerlens.runner.route_table import Hit

log = logging.getLogger("handlerlens.runner")

# One encoder for every event (json.dumps with options builds one per call).
_EVENT_JSON = json.JSONEncoder(ensure_ascii=False)


def _incoming(request: Request) -> tuple[IncomingRequest, str]:
    """What a platform face reads of a request (its body kept), and the Host it came to."""
    assert request.body is not None
    incoming = IncomingRequest(
        request.method,
        request.query,
        request.headers,
        request.body,
        request.client[0],
        request.client[1],
    )
    return incoming, request.header("Host") or "localhost"


def _answering(respond: Respond, build: Callable[[Outcome], Response]) -> Callable[[Outcome], None]:
    """A `done` for FunctionHost.run: the response built from the outcome, or a 500 if
    building it failed — the client is answered either way, never left waiting."""

    def done(outcome: Outcome) -> None:
        try:
            response = build(outcome)
        except Exception:
            log.exception("runner: building the response failed")
            response = internal_error()
        respond(response)

    return done


def _mapped(
    outcome: Outcome,
    host: FunctionHost,
    rid_header: tuple[str, str],
    failed: Callable[[str, dict[str, Any] | None, str], HttpReply],
    reply: Callable[[str, bytes], tuple[HttpReply, str | None]],
) -> Response:
    """The answer to how a call ended, by a face's `failed` and `reply`: 499 if its client
    left, the face's failure, or the result mapped (a warning about it goes to the log)."""
    if outcome.status == "gone":
        return not_run(outcome, rid_header)
    if outcome.status != "ok":
        return to_response(failed(outcome.status, outcome.error, outcome.detail), rid_header)
    answer, why = reply(outcome.kind, outcome.payload)
    if why:
        host.status.human(f"handlerlens: {host.fn.name}: {why}")
    return to_response(answer, rid_header)


class App:
    """Routes requests to served functions: by their declared gateway routes (routes), else
    by path prefix (`/<name>/…`) and by function name (the Invoke API)."""

    def __init__(self, hosts: dict[str, FunctionHost], routes: RouteTable | None = None) -> None:
        self.hosts = hosts
        self.routes = routes
        # The port the runner listens on (API Gateway's X-Forwarded-Port); set once listening.
        self.port = 0
        # The first reading of the routes, while serve starts: requests wait for it.
        self.routes_ready: asyncio.Future[Any] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        # Each function's lender, where its routed connections can be lent (runner/lender.py):
        # a connection whose request a function answered may then go to its worker.
        self.lenders: dict[str, Lender] = {}

    def handle(self, request: Request, respond: Respond) -> None:
        """Answer one HTTP request: `respond(response)`, at once or when the function is done.

        The platforms' HTTP faces run on callbacks (see FunctionHost.run); the Invoke API and
        raw integration, rarer and with more to await, run in a task.
        """
        hosts = [value for key, value in request.headers if key.lower() == "host"]
        if len(hosts) > 1:
            # RFC 9112 §3.2: a request with several Host fields is answered 400.
            respond(plain(400, "Bad Request: several Host header fields"))
            return
        if not host_is_loopback(hosts[0] if hosts else None):
            # DNS rebinding: a web page must not reach the runner through a name it controls.
            respond(
                plain(403, "Forbidden: the runner only answers requests addressed to localhost")
            )
            return
        match = aws_invoke_api.INVOKE_PATH.match(request.path)
        if match and request.method == "POST":
            self._in_task(
                invoke_api.answer(request, match.group("name"), self.hosts, self._background),
                respond,
            )
            return
        routes = self.routes
        ready = self.routes_ready
        if routes is not None and not routes.loaded and ready is not None and not ready.done():
            self._after(ready, request, respond)
            return
        if routes is not None and routes.active:
            if request.method == "OPTIONS":
                answered = routes.preflight(request.path, request.headers)
                if answered is not None:
                    respond(to_response(answered))
                    return
            shadowed = routes.shadowed_hosts()
            if shadowed:
                # Another API's routes take every path this function's routes declare on this
                # one port: its `/<name>/…` prefix reaches it.
                host, path = self._route(request.path, set(self.hosts) - shadowed)
                if host is not None:
                    self._http(host, request, path, respond)
                    return
            hit = routes.find(request.method, request.path, request.header("Host"))
            if hit is not None:
                self._routed(hit, request, respond)
                return
            # A function no route reaches keeps its `/<name>/…` prefix.
            host, path = self._route(request.path, routes.routed_hosts())
            if host is None:
                respond(to_response(routes.unknown()))
                return
            self._http(host, request, path, respond)
            return
        host, path = self._route(request.path)
        if host is None:
            names = ", ".join(sorted(self.hosts))
            respond(
                plain(
                    404,
                    f"No function here. Served functions: {names}; use /<name>/… or the "
                    "Invoke API /2015-03-31/functions/<name>/invocations",
                )
            )
            return
        self._http(host, request, path, respond)

    def _after(self, ready: asyncio.Future[Any], request: Request, respond: Respond) -> None:
        """Answer `request` once the routes are read (as serve starts)."""

        async def wait() -> None:
            await asyncio.wait({ready})
            self.handle(request, respond)

        task = asyncio.get_running_loop().create_task(wait())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _in_task(self, answer: Coroutine[Any, Any, Response], respond: Respond) -> None:
        async def run() -> None:
            try:
                response = await answer
            except Exception:
                log.exception("runner: request handler failed")
                response = internal_error()
            respond(response)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _route(
        self, path: str, routed: set[str] | frozenset[str] = frozenset()
    ) -> tuple[FunctionHost | None, str]:
        """The host a path prefix names, and the rest of the path; `routed` functions (those
        a gateway route reaches) are not reached by prefix."""
        hosts = self.hosts
        if routed:
            hosts = {name: host for name, host in hosts.items() if name not in routed}
            if not hosts:
                return None, path
        elif len(hosts) == 1:
            return next(iter(hosts.values())), path
        first, _, rest = path.lstrip("/").partition("/")
        host = hosts.get(first)
        if host is None:
            # A qualified name (`svc-a/hello`, two functions named `hello`) spans segments.
            parts = path.lstrip("/").split("/")
            for end in range(2, len(parts) + 1):
                host = hosts.get("/".join(parts[:end]))
                if host is not None:
                    return host, "/" + "/".join(parts[end:])
        return host, "/" + rest

    # -- the platform's HTTP face ----------------------------------------------------------
    def _http(self, host: FunctionHost, request: Request, path: str, respond: Respond) -> None:
        face = host.face
        refused = face.refuse(request.body, request.body_size)
        if refused is not None:
            respond(to_response(refused))
            return
        assert request.body is not None  # every face refuses a body the server did not keep
        if face.raw(request.query):
            self._in_task(self._raw(host, request.body, request.client_gone), respond)
            return
        rid = runner_env.request_id()
        incoming, host_name = _incoming(request)
        event = face.event(incoming, path, host_name, rid, time.time())
        data = _EVENT_JSON.encode(event).encode("utf-8")
        refused = face.refuse_event(len(data))
        if refused is not None:
            respond(to_response(refused))
            return
        rid_header = (face.request_id_header, rid)

        def build(outcome: Outcome) -> Response:
            return _mapped(outcome, host, rid_header, face.failed, face.reply)

        done = _answering(respond, build)
        host.run(data, done, request_id=rid, extra=face.extra(), gone=request.client_gone)

    # -- a declared gateway route ---------------------------------------------------------
    def _routed(self, hit: Hit, request: Request, respond: Respond) -> None:
        """A request on a declared route: the gateway's event, checks and answers
        (platforms/gateways.py), the function's run as for any request."""
        entry = hit.entry
        host, face = entry.host, entry.face
        if host is None or face is None:
            respond(to_response(RouteTable.no_function()))
            return
        route_key = entry.route.route_key

        def log_why(why: str) -> None:
            host.status.human(f"handlerlens: {host.fn.name}: {route_key}: {why}")

        refused = face.refuse(request.body_size)
        if refused is None and request.body is None:
            # Over the runner's own limit (8 MB) yet under the gateway's: over Lambda's too.
            refused = face.refuse_event(request.body_size)
        if refused is not None:
            log_why(refused[1])
            respond(to_response(refused[0]))
            return
        assert request.body is not None
        incoming, host_name = _incoming(request)
        refused = face.unauthorized(incoming)
        if refused is not None:
            log_why(refused[1])
            respond(to_response(refused[0]))
            return
        rid = runner_env.request_id()
        event = face.event(incoming, hit.path, host_name, self.port, rid, time.time(), hit.params)
        data = _EVENT_JSON.encode(event).encode("utf-8")
        refused = face.refuse_event(len(data))
        if refused is not None:
            log_why(refused[1])
            respond(to_response(refused[0]))
            return
        rid_header = (face.request_id_header, rid)
        answer = respond
        lender = self.lenders.get(host.fn.name)
        connection = request.connection
        if lender is not None and connection is not None and connection.lend_again:
            # Lent once two requests in a row went to this function: a connection whose
            # requests alternate between functions is never lent only to come back.
            if connection.routed_to == host.fn.name:
                answer = self._then_lend(answer, lender, host, connection)
            connection.routed_to = host.fn.name
        gateway_timeout = face.integration_timeout()
        if gateway_timeout is not None and gateway_timeout[0] < host.fn.timeout:
            answer = self._gateway_timer(gateway_timeout, host, route_key, rid, rid_header, answer)

        def build(outcome: Outcome) -> Response:
            def reply(kind: str, payload: bytes) -> tuple[HttpReply, str | None]:
                return face.reply(kind, payload, incoming)

            return _mapped(outcome, host, rid_header, face.failed, reply)

        done = _answering(answer, build)
        host.run(data, done, request_id=rid, extra=face.extra(), gone=request.client_gone)

    def _then_lend(
        self, respond: Respond, lender: Lender, host: FunctionHost, connection: HttpProtocol
    ) -> Respond:
        """A `respond` that, once the answer is out, lends the connection to `host`'s worker
        for its next requests (runner/lender.py), once that worker is back in its pool."""

        def lend() -> None:
            routes = self.routes
            if routes is None or not connection.lend_again:
                return
            lent = routes.lent_routes(host, self.port)
            if lent is not None:
                connection.offer(
                    lambda conn: lender.lend_routed(conn, lent.generation, lent.info, lent.faces)
                )

        def then_lend(response: Response) -> None:
            respond(response)
            # Next turn: the instance goes back to its pool after this request's END line.
            asyncio.get_running_loop().call_soon(lend)

        return then_lend

    @staticmethod
    def _gateway_timer(
        timeout: tuple[float, HttpReply, str],
        host: FunctionHost,
        route_key: str,
        rid: str,
        rid_header: tuple[str, str],
        respond: Respond,
    ) -> Respond:
        """A `respond` that the gateway's integration timeout answers first if the function
        runs past it (the function runs on, to its own timeout, as it does deployed)."""
        seconds, reply, where = timeout
        answered = False

        def once(response: Response) -> None:
            nonlocal answered
            if not answered:
                answered = True
                timer.cancel()
                respond(response)

        def expired() -> None:
            host.status.human(
                f"handlerlens: {host.fn.name}: {route_key}: request {rid} ran past the "
                f"gateway's integration timeout ({where}): it answered {reply.status} "
                f"{reply.body.decode()}; the function runs on, to its own timeout "
                f"({host.fn.timeout:g} s)"
            )
            once(to_response(reply, rid_header))

        timer = asyncio.get_running_loop().call_later(seconds, expired)
        return once

    async def _raw(
        self, host: FunctionHost, body: bytes, gone: Callable[[], bool] | None = None
    ) -> Response:
        """Yandex's `?integration=raw`: the body is the event, the result the response."""
        face = host.face
        rid = runner_env.request_id()
        rid_header = (face.request_id_header, rid)
        refused = face.refuse_event(len(body))
        if refused is not None:
            return to_response(refused)
        outcome = await host.invoke(body, mode="raw", request_id=rid, gone=gone)
        return _mapped(
            outcome,
            host,
            rid_header,
            face.failed,
            lambda _, payload: (face.raw_reply(payload), None),
        )
