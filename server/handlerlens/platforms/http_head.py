"""One HTTP/1.1 request-head parser, with one set of limits, for both processes that read HTTP.

The supervisor's server (runner/http_server.py) answers whatever it refuses (400, 431, 501…);
a worker serving lent connections (worker/direct.py) hands anything but the plain case back
to the supervisor, which then gives that answer. Both read a head here, so they cannot
disagree on what a request is, nor on how large or slow a client may be. A chunked body is
read here too (dechunk); only the supervisor reads one (a worker hands such a request back).

Standard library and relative imports only: a worker loads this package by path under a
private name.
"""

from __future__ import annotations

# A head (request line and header fields) larger than this is refused with 431; so is one
# with more fields than MAX_HEADERS.
MAX_HEAD = 64 * 1024
MAX_HEADERS = 100
# Seconds a client may take to send a head, to send the next part of a body, and to send
# its next request on an idle keep-alive connection.
HEAD_TIMEOUT = 10.0
BODY_IDLE_TIMEOUT = 30.0
KEEPALIVE_TIMEOUT = 75.0


class BadHead(Exception):
    """A head the server refuses: the status to answer with, and the reason as its text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Head:
    """A parsed request head. `end` is the offset of the blank line (the body starts 4 bytes
    later); `length` the Content-Length, if any (`lengths`: how many fields gave it)."""

    __slots__ = (
        "method",
        "target",
        "path",
        "query",
        "version",
        "headers",
        "length",
        "lengths",
        "chunked",
        "connection",
        "connections",
        "expect",
        "hosts",
        "end",
    )

    def __init__(self, method: str, target: str, version: str, end: int) -> None:
        self.method = method
        self.target = target
        self.path, _, self.query = target.partition("?")
        self.version = version
        self.headers: list[tuple[str, str]] = []
        self.length: int | None = None
        self.lengths = 0
        self.chunked = False
        self.connection = ""  # the last Connection field, lowered
        self.connections = 0
        self.expect: str | None = None  # lowered; None without an Expect field
        self.hosts: list[str] = []
        self.end = end

    @property
    def keep_alive(self) -> bool:
        """Whether the connection stays open after this request (HTTP/1.1: unless `close`)."""
        if self.version == "HTTP/1.1":
            return "close" not in self.connection
        return self.connection == "keep-alive"


def parse_head(buffer: bytes | bytearray) -> Head | None:
    """The head at the start of `buffer`; None while it is incomplete; BadHead if refused."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise BadHead(431, "Request header fields too large")
        return None
    if end > MAX_HEAD:
        raise BadHead(431, "Request header fields too large")
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadHead(400, "Malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadHead(505, "HTTP version not supported")
    if not method.isalpha() or not method.isupper():
        raise BadHead(400, "Malformed method")
    if len(lines) - 1 > MAX_HEADERS:
        raise BadHead(431, f"Too many header fields (limit {MAX_HEADERS})")
    head = Head(method, target, version, end)
    headers = head.headers
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or " " in name:
            raise BadHead(400, "Malformed header field")
        value = value.strip(" \t")
        headers.append((name, value))
        lowered = name.lower()
        if lowered == "content-length":
            valid = value.isascii() and value.isdigit()  # not "²", which int() refuses
            if not valid or (head.length is not None and head.length != int(value)):
                raise BadHead(400, "Invalid Content-Length")
            head.length = int(value)
            head.lengths += 1
        elif lowered == "host":
            head.hosts.append(value)
        elif lowered == "transfer-encoding":
            if value.lower() != "chunked":
                raise BadHead(501, "Only chunked transfer coding is supported")
            head.chunked = True
        elif lowered == "connection":
            head.connection = value.lower()
            head.connections += 1
        elif lowered == "expect":
            head.expect = value.lower()
    if head.chunked and head.length is not None:
        raise BadHead(400, "Both Content-Length and Transfer-Encoding")
    if not target.startswith("/"):
        raise BadHead(400, "Only origin-form request targets are accepted")
    return head


def dechunk(
    buffer: bytearray, max_body: int, start: int, max_drain: int
) -> tuple[bytes | None, int, int] | None:
    """A chunked body read from `buffer` at `start`: (the body, None past `max_body`; where
    the message ends; the body's size), or None while it is incomplete. BadHead for a
    malformed chunk size (400) or a body past `max_drain` (413)."""
    position = start
    chunks: list[bytes] = []
    total = 0
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size_text = bytes(buffer[position:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadHead(400, "Malformed chunk size") from None
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", position)
            while trailer_end > position:  # skip trailer fields
                position = trailer_end + 2
                trailer_end = buffer.find(b"\r\n", position)
            if trailer_end < 0:
                return None
            body = b"".join(chunks) if total <= max_body else None
            return body, trailer_end + 2, total
        if len(buffer) < position + size + 2:
            return None
        total += size
        if total > max_drain:
            raise BadHead(413, "Request body too large")
        if total <= max_body:
            chunks.append(bytes(buffer[position : position + size]))
        position += size + 2
