"""HTTP shapes the platform modules share: the request they read, the reply they build."""

from __future__ import annotations

import base64
import json

TYPE_CHECKING = False  # typing and dataclasses are not loaded: a worker imports this module
if TYPE_CHECKING:
    from typing import Any


def event_body(body: bytes, as_text: bool) -> tuple[str, bool]:
    """An HTTP event's `body` string and `isBase64Encoded` flag: the body itself when the
    platform passes it as text (`as_text`, its rule for the content type) and it is UTF-8,
    else base64; "" for no body."""
    if not body:
        return "", False
    if as_text:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


class HttpReply:
    """An HTTP response as the platform's front end would send it."""

    __slots__ = ("status", "headers", "body", "function_error")

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        function_error: bool = False,
    ) -> None:
        self.status = status
        self.headers: list[tuple[str, str]] = [] if headers is None else headers
        self.body = body
        # True when the function failed (the client shows it as an error, not as a result).
        self.function_error = function_error

    def __repr__(self) -> str:
        return f"HttpReply({self.status}, {self.headers!r}, {self.body[:80]!r})"

    @staticmethod
    def json(status: int, payload: Any, *extra: tuple[str, str]) -> HttpReply:
        """A JSON reply with `Content-Type: application/json`."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return HttpReply(status, [("Content-Type", "application/json"), *extra], body)


_REASONS: dict[int, str] = {}


def _reason(status: int) -> str:
    if not _REASONS:
        import http  # loaded on the first response, not with the module

        _REASONS.update((s.value, s.phrase) for s in http.HTTPStatus)
    return _REASONS.get(status, "Unknown")


def encode_response(
    status: int, headers: list[tuple[str, str]], body: bytes, keep_alive: bool, head_only: bool
) -> bytes:
    """An HTTP/1.1 response on the wire: status line, headers, Content-Length, body.

    One encoder for both places that answer HTTP (the supervisor, and a worker serving the
    connections lent to it), so a response is byte for byte the same whichever sends it.
    """
    out = [f"HTTP/1.1 {status} {_reason(status)}\r\n"]
    for name, value in headers:
        # Header values come from user code: strip CR/LF so they cannot split the response.
        clean_name = name.replace("\r", "").replace("\n", "")
        clean_value = value.replace("\r", " ").replace("\n", " ")
        out.append(f"{clean_name}: {clean_value}\r\n")
    out.append(f"Content-Length: {len(body)}\r\n")
    if not keep_alive:
        out.append("Connection: close\r\n")
    out.append("\r\n")
    head = "".join(out).encode("latin-1", "replace")
    return head if head_only else head + body


class IncomingRequest:
    """What the front end knows about one HTTP request."""

    __slots__ = ("method", "query", "headers", "body", "client_ip", "client_port")

    def __init__(
        self,
        method: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        client_ip: str,
        client_port: int,
    ) -> None:
        self.method = method
        self.query = query
        self.headers = headers
        self.body = body
        self.client_ip = client_ip
        self.client_port = client_port


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")


def host_is_loopback(host: str | None) -> bool:
    """True for `localhost`, `*.localhost`, `127.0.0.1`, `[::1]`, with an optional port.

    Anything else — another name, junk after `]`, a non-numeric port — is refused: a web page
    must not reach the runner through a name it controls (DNS rebinding).
    """
    if host is None:
        return True
    name = host.strip().lower()
    port = ""
    if name.startswith("["):
        close = name.find("]")
        if close < 0:
            return False
        name, rest = name[: close + 1], name[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                return False
            port = rest[1:]
    elif ":" in name:
        name, _, port = name.partition(":")
    if port and not port.isdigit():
        return False
    return name in LOOPBACK_NAMES or name.endswith(".localhost")
