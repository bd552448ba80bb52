"""Framing of supervisor <-> worker messages on a dedicated pipe pair.

A frame is an 8-byte header (meta length, payload length; big-endian), a JSON object (meta)
and raw payload bytes. Events and results travel as payload, so a JSON body is never parsed
and re-encoded on its way through.
"""

from __future__ import annotations

import json
import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEADER = struct.Struct(">II")


def encode(meta: dict[str, Any], payload: bytes = b"") -> bytes:
    """One frame as bytes."""
    head = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(head), len(payload)) + head + payload


def send(fd: int, meta: dict[str, Any], payload: bytes = b"") -> None:
    """Write one frame to `fd`, looping over partial writes."""
    view = memoryview(encode(meta, payload))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = []
    remaining = size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv(fd: int) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame from `fd`; None at end of file (the supervisor is gone)."""
    head = _read_exactly(fd, HEADER.size)
    if head is None:
        return None
    meta_len, payload_len = HEADER.unpack(head)
    meta = _read_exactly(fd, meta_len) if meta_len else b"{}"
    payload = _read_exactly(fd, payload_len) if payload_len else b""
    if meta is None or payload is None:
        return None
    return json.loads(meta), payload
