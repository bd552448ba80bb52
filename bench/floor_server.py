"""The floor: an in-process asyncio HTTP server that calls the handler directly.

What any local runner costs at the least: parse a request, build a small event, call
`handler(event, context)` in the same process, map `statusCode`/`body` back to HTTP.
Standard library only. Run: python bench/floor_server.py ROOT PORT [ENTRY]
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any


class _Protocol(asyncio.Protocol):
    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
            lowered = {k.lower(): v for k, v in headers.items()}
            length = int(lowered.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, target, _ = lines[0].split(" ", 2)
            self._respond(method, target, headers, body, lowered.get("connection") == "close")

    def _respond(
        self, method: str, target: str, headers: dict[str, str], body: bytes, close: bool
    ) -> None:
        event = {
            "httpMethod": method,
            "path": target,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "isBase64Encoded": False,
        }
        try:
            result = self.handler(event, None)
            status = int(result.get("statusCode", 200))
            payload = result.get("body", "")
            out = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        except Exception as exc:  # the floor still answers, as a runner would
            status, out = 502, repr(exc).encode()
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\n%s\r\n"
            % (status, len(out), b"Connection: close\r\n" if close else b"")
            + out
        )
        if close:
            self.transport.close()
            self.transport = None


async def _serve(root: str, port: int, entry: str) -> None:
    sys.path.insert(0, root)
    module_name, _, function = entry.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Protocol(handler), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Serve until killed."""
    root, port = sys.argv[1], int(sys.argv[2])
    entry = sys.argv[3] if len(sys.argv) > 3 else "main.handler"
    try:
        asyncio.run(_serve(root, port, entry))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
