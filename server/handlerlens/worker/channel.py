"""Framing of supervisor <-> worker messages on a dedicated pipe pair.

A frame is an 8-byte header (meta length, payload length; big-endian), a JSON object (meta)
and raw payload bytes. Events and results travel as payload, so a JSON body is never parsed
and re-encoded on its way through.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The two lengths, 4 bytes each, big-endian (struct's ">II", without loading struct).
HEADER_SIZE = 8


def split_header(head: bytes | bytearray) -> tuple[int, int]:
    """(meta length, payload length) from a frame's first HEADER_SIZE bytes."""
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")


# json.dumps with options builds an encoder per call: one for every frame instead.
_META_JSON = json.JSONEncoder(separators=(",", ":"))


def encode(meta: dict[str, Any], payload: bytes = b"") -> bytes:
    """One frame as bytes."""
    head = _META_JSON.encode(meta).encode("utf-8")
    return len(head).to_bytes(4, "big") + len(payload).to_bytes(4, "big") + head + payload


def send(fd: int, meta: dict[str, Any], payload: bytes = b"") -> None:
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
    meta = _read_exactly(fd, meta_len) if meta_len else b"{}"
    payload = _read_exactly(fd, payload_len) if payload_len else b""
    if meta is None or payload is None:
        return None
    return json.loads(meta), payload
