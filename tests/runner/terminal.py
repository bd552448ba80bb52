"""The CLI in a pseudo-terminal: what a person running it in a terminal would see."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# A carriage return that does not end a line: the terminal goes back to column 0 and the
# next text overprints what the line showed.
OVERPRINT = re.compile(rb"\r(?!\n)")


def screen(data: bytes) -> list[str]:
    """The rows a terminal shows for `data`: each `\\r` returns to column 0 and overprints."""
    rows = []
    for raw in data.decode("utf-8", "replace").split("\n"):
        row = ""
        for part in raw.split("\r"):
            row = part + row[len(part) :]
        rows.append(row)
    return rows


class Terminal:
    """`python -m handlerlens.runner ARGS` with stdout and stderr on a pseudo-terminal."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        master, slave = os.openpty()
        self._master = master
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "handlerlens.runner", *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        self._data = bytearray()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self._master], [], [], 0.2)
            if not ready:
                if self.process.poll() is not None and not self._pending():
                    break
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            with self._changed:
                self._data += chunk
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _pending(self) -> bool:
        ready, _, _ = select.select([self._master], [], [], 0)
        return bool(ready)

    @property
    def data(self) -> bytes:
        """Every byte written to the terminal so far."""
        with self._changed:
            return bytes(self._data)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The first match of `pattern` in what the terminal shows, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                text = "\n".join(screen(bytes(self._data)))
                found = re.search(pattern, text)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise AssertionError(f"{pattern!r} not shown; the terminal shows:\n{text}")
                self._changed.wait(min(left, 0.2))

    def wait(self, timeout: float = 60) -> int:
        """The exit status, once everything written has been read."""
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def stop(self) -> None:
        """SIGTERM (SIGKILL if need be), wait, close the terminal."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        os.close(self._master)
