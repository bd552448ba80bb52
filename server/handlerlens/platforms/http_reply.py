"""HTTP shapes the platform modules share: the request they read, the reply they build."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpReply:
    """An HTTP response as the platform's front end would send it."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # True when the function failed (the client shows it as an error, not as a result).
    function_error: bool = False

    @staticmethod
    def json(status: int, payload: Any, *extra: tuple[str, str]) -> HttpReply:
        """A JSON reply with `Content-Type: application/json`."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return HttpReply(status, [("Content-Type", "application/json"), *extra], body)


@dataclass(frozen=True)
class IncomingRequest:
    """What the front end knows about one HTTP request."""

    method: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str
    client_port: int
