"""What a handler of the runner's HTTP server (runner/http_server.py) answers with: the
Response, the callback that takes it, and the runner's own answers (plain text, its 500, a
platform's reply as a Response, the 499 for a request whose client left).

The Request stays with the server: it names the connection it came on (HttpProtocol), which
the supervisor lends to workers (runner/app.py, runner/lender.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from handlerlens.platforms.http_reply import HttpReply
    from handlerlens.runner.outcome import Outcome


@dataclass
class Response:
    """What a handler returns."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


# handler(request, respond): answers by calling respond(response) exactly once, at once or
# later (a callback rather than a coroutine: the hot path needs no task per request).
Respond = Callable[[Response], None]
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
