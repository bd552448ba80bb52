"""What the runner tells people (stderr) and programs (`--status-json`, one object per line)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from handlerlens.platforms.runner_logs import readable_lines

FLUSH_DELAY_S = 0.005


class Status:
    """Fan-out of runner events: JSON lines on stdout and/or readable lines on stderr."""

    def __init__(self, json_mode: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.json_mode = json_mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.multi = False
        self._pending_out: list[str] = []
        self._pending_err: list[str] = []
        self._flush_scheduled = False
        self.listeners: list[Any] = []

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

    @property
    def wants_events(self) -> bool:
        """Whether anyone reads machine-readable events (build them only then)."""
        return self.json_mode or bool(self.listeners)

    def log(self, function: str, request_id: str | None, stream: str, line: str) -> None:
        """One line of a function's log (its own output, or a system line).

        Programs get it as written; people get its `\\r`-separated parts as lines (see
        `readable_lines`: an AWS error's traceback would otherwise overprint itself).
        """
        if self.wants_events:
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
        else:
            self.human(prefix + line)

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
