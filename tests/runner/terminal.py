"""The CLI in a pseudo-terminal: what a person running it in a terminal would see.

With `keyboard=True` the terminal is also the runner's stdin and controlling terminal, as in
a shell: Ctrl+C (the byte 0x03 written to it) makes the terminal send SIGINT to the whole
foreground process group, workers included unless they are in a group of their own.
"""

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

# Run first in the child, a session leader: takes the terminal on stdin as its controlling
# terminal (so it is the foreground process group), then becomes the command itself.
# Take the terminal as the controlling one, and Ctrl+C's default meaning, as a shell gives the
# command it starts: a test run started in the background (`make test &`, nohup) ignores SIGINT,
# and a process keeps an ignored signal ignored across exec.
_TAKE_TERMINAL = (
    "import fcntl, os, signal, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)

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
    """`python -m handlerlens.runner ARGS` (or `-m module`), its output on a pseudo-terminal."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        *,
        keyboard: bool = False,
        stdout: Path | None = None,
        module: str = "handlerlens.runner",
    ) -> None:
        """`keyboard`: the terminal is stdin and the controlling terminal too (ctrl_c()
        works); `stdout`: stdout goes to that file instead (`> FILE`); `module`: what runs
        (`handlerlens` for every command, as the console script)."""
        master, slave = os.openpty()
        self._master = master
        command = [sys.executable, "-m", module, *args]
        if keyboard:
            command[1:1] = ["-c", _TAKE_TERMINAL]
        out = open(stdout, "wb") if stdout is not None else None  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=slave if keyboard else subprocess.DEVNULL,
                stdout=out if out is not None else slave,
                stderr=slave,
                start_new_session=True,
            )
        finally:
            os.close(slave)
            if out is not None:
                out.close()
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
                found = re.search(pattern, text, re.M)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise AssertionError(f"{pattern!r} not shown; the terminal shows:\n{text}")
                self._changed.wait(min(left, 0.2))

    @property
    def text(self) -> str:
        """What the terminal shows so far, its rows joined with line breaks."""
        return "\n".join(screen(self.data))

    def settle(self, seconds: float) -> None:
        """Let the runner write for `seconds` more."""
        time.sleep(seconds)

    def ctrl_c(self) -> None:
        """Press Ctrl+C (with `keyboard=True`)."""
        os.write(self._master, b"\x03")

    def descendants(self) -> list[int]:
        """Every process below the runner (its workers, what they started)."""
        from tests.runner.harness import _processes

        table = _processes()
        found: list[int] = []
        parents = {self.process.pid}
        while True:
            more = [pid for pid, ppid in table if ppid in parents and pid not in found]
            if not more:
                return found
            found += more
            parents = set(more)

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
