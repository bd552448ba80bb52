"""The worker's end of the pipes: blocking reads and writes of whole frames.

The frames, their names and types are the protocol's (protocol.py), shared with the runner.
"""

from __future__ import annotations

import os

from .protocol import HEADER_SIZE, decode_meta, encode, split_header

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["encode", "pending", "recv", "send"]


def send(fd: int, meta: Mapping[str, Any], payload: bytes = b"") -> None:
    """Write one frame to `fd`, looping over partial writes."""
    view = memoryview(encode(meta, payload))
    while view:
        written = os.write(fd, view)
        view = view[written:]


# Bytes read past the end of the last frame, per descriptor (one read usually brings a whole
# frame: a system call per frame instead of three).
_pending: dict[int, bytes] = {}


def pending(fd: int) -> bool:
    """True if bytes past the last frame read from `fd` wait here (maybe a whole frame)."""
    return fd in _pending


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = []
    have = _pending.pop(fd, b"")
    if have:
        chunks.append(have)
    remaining = size - len(have)
    while remaining > 0:
        chunk = os.read(fd, max(remaining, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks) if len(chunks) != 1 else chunks[0]
    if len(data) > size:
        _pending[fd] = data[size:]
        data = data[:size]
    return data


def recv(fd: int) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame from `fd`; None at end of file (the supervisor is gone)."""
    head = _read_exactly(fd, HEADER_SIZE)
    if head is None:
        return None
    meta_len, payload_len = split_header(head)
    meta = _read_exactly(fd, meta_len) if meta_len else b""
    payload = _read_exactly(fd, payload_len) if payload_len else b""
    if meta is None or payload is None:
        return None
    return decode_meta(meta), payload
