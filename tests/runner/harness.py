"""Real runners for the tests: `python -m handlerlens.runner serve` as a child process."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runner"


class Runner:
    """A served runner: its process, port and the status events it printed."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        stderr_file: Path | None = None,
    ) -> None:
        """`stderr_file`: the runner's stderr goes there, as with `2> FILE` (no stderr lines)."""
        command = [sys.executable, "-m", "handlerlens.runner", "serve", *args]
        command += ["--port", "0", "--status-json", "--root", str(cwd)]
        with open(stderr_file or os.devnull, "ab") as file:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if stderr_file is None else file,
            )
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self.changed = threading.Condition()
        self._threads = [threading.Thread(target=self._read_events, daemon=True)]
        if stderr_file is None:
            self._threads.append(threading.Thread(target=self._read_stderr, daemon=True))
        for thread in self._threads:
            thread.start()
        try:
            listening = self.wait_for(lambda e: e["event"] == "listening", timeout=30)
        except AssertionError:
            self.stop()
            raise
        self.port = int(listening["port"])

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self.changed:
                self.events.append(json.loads(raw))
                self.changed.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self.changed:
                self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.changed.notify_all()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10, start: int = 0
    ) -> dict[str, Any]:
        """The first event (from index `start`) matching `predicate`, waiting for it."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for event in self.events[start:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None and not self._alive_readers():
                    raise AssertionError("event not seen; stderr:\n" + "\n".join(self.stderr[-30:]))
                self.changed.wait(min(left, 0.2))

    def wait_stderr(self, text: str, timeout: float = 10) -> str:
        """The first stderr line containing `text`, waiting for it."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.stderr:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not in stderr:\n" + "\n".join(self.stderr))
                self.changed.wait(min(left, 0.2))

    def _alive_readers(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def logs(self, request_id: str) -> list[dict[str, Any]]:
        """Log events of one request, once its report is out."""
        self.wait_for(lambda e: e["event"] == "report" and e["requestId"] == request_id)
        with self.changed:
            return [
                e for e in self.events if e["event"] == "log" and e.get("requestId") == request_id
            ]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on a fresh connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            headers: dict[str, str] = {}
            for name, value in response.getheaders():
                key = name.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            return response.status, headers, data
        finally:
            connection.close()

    def worker_pids(self) -> list[int]:
        """PIDs of this runner's worker processes (from /proc)."""
        return [pid for pid, ppid in _processes() if ppid == self.process.pid]

    def stop(self) -> int:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for thread in self._threads:
            thread.join(5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        if self.process.stderr is not None:
            self.process.stderr.close()
        return self.process.returncode


def _processes() -> list[tuple[int, int]]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("latin-1")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        found.append((int(entry), int(fields[1])))
    return found


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    return any(p == pid for p, _ in _processes())


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    """Wait until none of `pids` is alive; the survivors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def copy_fixture(name: str, destination: Path) -> Path:
    """A writable copy of a fixture project."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target)
    return target
