"""A minimal asyncio HTTP/1.1 client: keep-alive or one connection per request.

Written for the benchmark so every server is measured through the same few lines of code:
Content-Length and chunked bodies, `Connection: close`, HTTP/1.0 servers (read to EOF).
"""

from __future__ import annotations

import asyncio
import contextlib


class HttpError(Exception):
    """The connection failed or the response was malformed."""


class Connection:
    """One TCP connection to 127.0.0.1:port, reopened when the server closes it."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0  # connections opened so far

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.opened += 1

    async def close(self) -> None:
        """Close the connection, if open."""
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def get(self, path: str = "/", close: bool = False) -> tuple[int, bytes]:
        """GET `path`; returns (status, body). `close` asks for a fresh connection each time."""
        try:
            return await asyncio.wait_for(self._get(path, close), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            await self.close()
            raise HttpError(f"GET {path}: {exc!r}") from None

    async def _get(self, path: str, close: bool) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        connection = "close" if close else "keep-alive"
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Connection: {connection}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        if close or not keep:
            await self.close()
        return int(status), body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


async def wait_until_serving(port: int, expect: bytes, timeout: float, alive: object) -> bool:
    """Poll GET / until a 200 whose body contains `expect`; False on timeout or exit."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    conn = Connection(port, timeout=2.0)
    while loop.time() < deadline:
        if callable(alive) and not alive():
            return False
        try:
            status, body = await conn.get("/", close=True)
            if status == 200 and expect in body:
                return True
        except HttpError:
            pass
        await asyncio.sleep(0.05)
    return False
