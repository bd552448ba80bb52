"""`invoke`'s log on stderr: the worker's stdout and stderr (one pipe) routed as under
`serve` (runner/log_router.py), each `\\r`-separated part of a line on a line of its own, and
the platform's system lines in order with the function's own."""

from __future__ import annotations

import sys

from handlerlens.platforms import runner_logs


class InvokeOutput:
    """The worker's stdout and stderr (one pipe) to our stderr, routed as under `serve`
    (runner/log_router.py: the end-of-op marks go, and an operation's log is complete once
    its marks are through), with each `\\r`-separated part of a line on its own line
    (runner_logs.readable_lines). Bytes that are not UTF-8 come out as they went in."""

    def __init__(self, fd: int) -> None:
        from handlerlens.runner.log_router import LogRouter

        self.fd = fd
        self.router = LogRouter({fd: "log"}, self._line, max_line=None)
        self._lines: list[bytes] = []

    def _line(self, label: str | None, stream: str, raw: bytes) -> None:
        self._lines.append(_readable(raw))

    def feed(self, data: bytes) -> None:
        self.router.output(self.fd, data)
        self._flush()

    def close(self) -> None:
        self.router.closed(self.fd)
        self._flush()

    def system(self, line: str) -> None:
        """A system line (START), in order with the function's lines routed so far."""
        self._lines.append(line.encode("utf-8") + b"\n")
        self._flush()

    def _flush(self) -> None:
        if self._lines:
            data = b"".join(self._lines)
            self._lines.clear()
            sys.stderr.flush()
            sys.stderr.buffer.write(data)
            sys.stderr.flush()


def _readable(line: bytes) -> bytes:
    """One line of the log, newline-terminated, as people read it (runner_logs.readable_lines)."""
    if b"\r" not in line:
        return line + b"\n"
    # surrogateescape: bytes that are not UTF-8 come out as they went in.
    text = line.decode("utf-8", "surrogateescape")
    parts = runner_logs.readable_lines(text)
    return "".join(part + "\n" for part in parts).encode("utf-8", "surrogateescape")
