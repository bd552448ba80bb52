"""The plain case: the HTTP requests a worker answers itself on a lent connection (direct.py).

An HTTP/1.1 request with a Content-Length (or no body), one loopback Host, not the Invoke API,
not `?integration=raw`, not big. Anything else goes back to the supervisor, whose answer is
then the one the client gets (400, 403, 413, 431, raw integration…). The head is read by the
supervisor's own parser (platforms/http_head.py), loaded here by path (direct.load_platforms).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Anything whose event could pass the platform's 3.5 MB limit goes back to the supervisor,
# which measures the event and answers 413: a JSON-escaped character takes at most 6 bytes,
# and the header block appears twice in the event (headers, multiValueHeaders).
MAX_EVENT = 3_670_016
INVOKE_PREFIX = "/2015-03-31/functions/"


class Plain:
    """A request this worker can answer."""

    __slots__ = ("method", "path", "query", "headers", "body", "keep_alive", "host")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        keep: bool,
        host: str,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.keep_alive = keep
        self.host = host  # its Host field (one at most), or "localhost"


NOT_YET = "not yet"  # a request whose bytes are not all here
HAND_BACK = "hand back"  # anything but the plain case


def _names_integration(query: str) -> bool:
    """Whether the query has an `integration` parameter, however it is spelt (`%69nt…`)."""
    if "integration" in query:
        return True
    if "%" not in query:
        return False
    return any(key == "integration" for key, _ in parse_qsl(query, keep_blank_values=True))


def parse_plain(buffer: bytes | bytearray, platforms: Any) -> tuple[Plain, int] | str:
    """The first request in `buffer` and its length, `NOT_YET`, or `HAND_BACK`.

    The head is read by the supervisor's own parser (platforms/http_head.py), and the rest is
    strict on purpose: whatever the supervisor would refuse or treat specially goes back to
    it, so the answer is the supervisor's own (400, 403, 413, 431, raw integration…).
    """
    try:
        head = platforms.http_head.parse_head(buffer)
    except platforms.http_head.BadHead:
        return HAND_BACK
    if head is None:
        return NOT_YET
    if head.version != "HTTP/1.1" or head.path.startswith(INVOKE_PREFIX):
        return HAND_BACK
    if _names_integration(head.query) or head.chunked or head.expect is not None:
        return HAND_BACK
    if head.lengths > 1 or head.connections > 1 or len(head.hosts) > 1:
        return HAND_BACK
    loopback = platforms.http_reply.host_is_loopback
    if head.hosts and not loopback(head.hosts[0]):
        return HAND_BACK
    size = head.length or 0
    end = head.end
    # The head goes into the event up to three times (headers, multiValueHeaders, userAgent).
    if 6 * (size + 3 * end) > MAX_EVENT:
        return HAND_BACK
    total = end + 4 + size
    if len(buffer) < total:
        return NOT_YET
    body = bytes(buffer[end + 4 : total])
    host = head.hosts[0] if head.hosts else "localhost"
    plain = Plain(head.method, head.path, head.query, head.headers, body, head.keep_alive, host)
    return plain, total
