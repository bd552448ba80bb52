"""What the runner tells people (stderr) and programs (`--status-json`, one object per line)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any, TextIO

from handlerlens.platforms.runner_logs import readable_lines

FLUSH_DELAY_S = 0.005


class Status:
    """Fan-out of runner events: JSON lines on stdout and/or readable lines on stderr."""

    def __init__(
        self,
        json_mode: bool,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        access_log: bool = False,
    ):
        self.json_mode = json_mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.multi = False
        self._pending_out: list[str] = []
        self._pending_err: list[str] = []
        self._flush_scheduled = False
        self.listeners: list[Any] = []
        # One line per HTTP request on stderr (`serve` in a terminal, unless --quiet).
        self.access_log = access_log
        # Access lines held while a function's request ends (see hold_access()).
        self._held: list[str] | None = None

    def emit(self, event: dict[str, Any]) -> None:
        """One machine-readable event."""
        for listener in self.listeners:
            listener(event)
        if self.json_mode:
            self._pending_out.append(json.dumps(event, ensure_ascii=False) + "\n")
            self._schedule()

    def human(self, line: str) -> None:
        """One line for people, on stderr."""
        self._pending_err.append(line + "\n")
        self._schedule()

    def access(self, request_line: str, status: int, ms: float, request_id: str | None) -> None:
        """The access log's line for one answered request, as werkzeug and `sam local` print
        one: `"GET /?a=1 HTTP/1.1" 200 1.2 ms <request id>` (stderr only, never in the JSON).
        """
        line = f'handlerlens: "{request_line}" {status} {ms:.1f} ms {request_id or "-"}'
        if self._held is not None:
            self._held.append(line)
        else:
            self.human(line)

    def hold_access(self) -> None:
        """A function's request is answered and its END and REPORT follow: access lines wait
        for release_access(), so the request's line closes its block in the log."""
        self._held = []

    def release_access(self) -> None:
        """The held access lines go out (after the END and REPORT just written)."""
        held, self._held = self._held, None
        if held:
            self._pending_err.extend(f"{line}\n" for line in held)
            self._schedule()

    def log_handler(self) -> logging.Handler:
        """A logging handler for the runner's own messages that writes them as human lines,
        in order with the function's log (a plain StreamHandler on stderr would put them
        ahead of the lines still batched here)."""
        return _HumanHandler(self)

    @property
    def wants_events(self) -> bool:
        """Whether anyone reads machine-readable events (build them only then)."""
        return self.json_mode or bool(self.listeners)

    def log(self, function: str, request_id: str | None, stream: str, line: str) -> None:
        """One line of a function's log (its own output, or a system line).

        Programs get it as written; people get its `\\r`-separated parts as lines (see
        `readable_lines`: an AWS error's traceback would otherwise overprint itself).
        """
        if self.json_mode or self.listeners:  # (wants_events, inline: the hot path)
            self.emit(
                {
                    "event": "log",
                    "function": function,
                    "requestId": request_id,
                    "stream": stream,
                    "line": line,
                }
            )
        prefix = f"[{function}] " if self.multi else ""
        if "\r" in line:
            for part in readable_lines(line):
                self.human(prefix + part)
        else:  # (human(), inline)
            self._pending_err.append(f"{prefix}{line}\n")
            if not self._flush_scheduled:
                self._schedule()

    def _schedule(self) -> None:
        # Batch writes over a few milliseconds: back-to-back requests share one write (and
        # one loop wake-up) for all their START/END/REPORT lines; people see no delay.
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_later(FLUSH_DELAY_S, self.flush)

    def flush(self) -> None:
        """Write everything pending."""
        self._flush_scheduled = False
        for pending, stream in ((self._pending_out, self.out), (self._pending_err, self.err)):
            if pending:
                text = "".join(pending)
                pending.clear()
                try:
                    stream.write(text)
                    stream.flush()
                except (OSError, ValueError):
                    pass


class _HumanHandler(logging.Handler):
    def __init__(self, status: Status) -> None:
        super().__init__()
        self.status = status

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.status.human(self.format(record))
        except Exception:
            self.handleError(record)
