"""What the runner's HTTP server and its handlers pass each other: a parsed Request, the
Response a handler gives, the callbacks between them, and the runner's own answers (plain text,
its 500, a platform's reply as a Response, the 499 for a request whose client left).

The server that reads and writes them is runner/http_server.py. A request names the connection
it came on only by what a handler may ask of it (Connection, below), so this module imports
nothing of the server and the server imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from handlerlens.platforms.http_reply import HttpReply
    from handlerlens.runner.outcome import Outcome


class Connection(Protocol):
    """What a handler may ask of the connection its request came on (runner/http_server.py's
    HttpProtocol is the one there is; runner/app.py lends it, knowing that)."""

    def client_gone(self) -> bool: ...


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
    connection: Connection | None = None

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


@dataclass
class Response:
    """What a handler returns."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


# handler(request, respond): answers by calling respond(response) exactly once, at once or
# later (a callback rather than a coroutine: the hot path needs no task per request).
Respond = Callable[[Response], None]
Handler = Callable[[Request, Respond], None]
# Where the runner puts a request's id in its answer (Yandex, API Gateway, the Invoke API).
_REQUEST_ID_HEADERS = frozenset({"x-request-id", "apigw-requestid", "x-amzn-requestid"})


def request_id_of(headers: list[tuple[str, str]]) -> str | None:
    """The request id an answer carries (the runner adds its own header last)."""
    for name, value in reversed(headers):
        if name.lower() in _REQUEST_ID_HEADERS:
            return value
    return None


def plain(status: int, message: str) -> Response:
    """A plain-text answer of the runner's own (not the function's)."""
    return Response(status, [("Content-Type", "text/plain; charset=utf-8")], message.encode())


def internal_error() -> Response:
    """The 500 for a bug in the runner itself (the traceback goes to the runner's log)."""
    return plain(500, "Internal runner error (see the runner's log)")


def to_response(reply: HttpReply, *extra: tuple[str, str]) -> Response:
    """The answer a platform's reply (platforms/) makes, with `extra` headers after its own."""
    return Response(reply.status, [*reply.headers, *extra], reply.body)


def not_run(outcome: Outcome, *extra: tuple[str, str]) -> Response:
    """A request not run because its client left first: nginx's 499 "client closed request"
    (the client is gone: this is for the access log, or a client that only half-closed)."""
    message = (outcome.error or {}).get("errorMessage", "Not run")
    return Response(499, [("Content-Type", "text/plain; charset=utf-8"), *extra], message.encode())
