"""The early look's stdio (lsp/early_look.py): LSP messages read from stdin's descriptor as they
come, every byte kept for pygls, and messages written on stdout as pygls writes them.

Standard library only: it runs before pygls is imported.
"""

from __future__ import annotations

import json
import os
import select
import time

from handlerlens.lsp.early_initialize import content_length

TYPE_CHECKING = False  # not typing's: this runs before anything else of the server loads
if TYPE_CHECKING:
    from typing import Any, BinaryIO

# More read than this before the look is done (a huge file opened): left to pygls' reader.
MAX_EARLY_BYTES = 64 << 20


class WireEnded(Exception):
    """The input ended, grew past MAX_EARLY_BYTES, or holds a message that does not read: what
    is left is pygls' to read (and to report)."""


class EarlyWire:
    """Messages from `fd`, starting at `pos` of what was read already (`consumed`)."""

    def __init__(self, fd: int, stdout: BinaryIO, consumed: bytes, pos: int) -> None:
        self.fd = fd
        self.stdout = stdout
        # Every byte read (Early.read once the look is done); a bytearray, so that appending a
        # big didOpen piece by piece stays linear.
        self.buffer = bytearray(consumed)
        self.pos = pos  # where the next message starts in `buffer`
        self.closed = False

    def message(self, timeout: float) -> dict[str, Any] | None:
        """The next message; None when none came within `timeout` (0: what the pipe holds now,
        no wait). WireEnded at the end of input or on a message that does not read."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._parse()
            if message is not None:
                return message
            if self.closed:
                raise WireEnded
            left = max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if chunk:
                self.buffer += chunk
                if len(self.buffer) > MAX_EARLY_BYTES:
                    raise WireEnded  # pygls' reader for files that size
            else:
                self.closed = True

    def _parse(self) -> dict[str, Any] | None:
        data = self.buffer
        head_end = data.find(b"\r\n\r\n", self.pos)
        if head_end < 0:
            return None
        length = content_length(data[self.pos : head_end])
        if length is None:
            raise WireEnded
        start = head_end + 4
        if len(data) < start + length:
            return None
        try:
            message = json.loads(data[start : start + length])
        except ValueError:
            raise WireEnded from None
        if not isinstance(message, dict):
            raise WireEnded
        self.pos = start + length
        return message

    def write(self, message: dict[str, Any]) -> None:
        """`message` on stdout, framed. ASCII JSON, as pygls writes it: a lone surrogate from
        the editor's text is escaped, not an encoding error."""
        body = json.dumps(message).encode("ascii")
        self.stdout.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.stdout.flush()
