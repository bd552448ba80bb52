"""Load for a real runner: a handler that reports who ran it and when, clients, a saver, faults.

The handler's module is generated: `GENERATION` says which save produced the code, and every
answer carries the worker's PID and the handler's start and end times, so the test can tell
old code from new and check that no worker ever ran two requests at once.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDLER = '''\
"""Load-test handler, generation {generation} (written by tests/reliability/load.py)."""

import ctypes
import json
import os
import subprocess
import sys
import time

GENERATION = {generation}
MARKER = {marker!r}


def handler(event, context):
    params = event.get("queryStringParameters") or {{}}
    fault = params.get("fault", "")
    started = time.time()
    if fault == "raise":
        raise RuntimeError("injected fault")
    if fault == "hang":
        time.sleep(300)
    if fault == "exit":
        sys.exit(4)
    if fault == "os_exit":
        os._exit(9)
    if fault == "segfault":
        ctypes.string_at(0)
    if fault == "spew":
        line = "y" * 1023
        for _ in range(2048):
            print(line)
    if fault == "memory":
        # Past the function's memory size (128 MB by default): the instance is killed.
        hog = bytearray(160 * 1024 * 1024)
        hog[-1] = 1
    if fault == "unserialisable":
        return {{"statusCode": 200, "body": {{1, 2}}}}
    if fault == "huge":
        return {{"statusCode": 200, "body": "x" * 10_000_000}}
    if fault == "child":
        # Outlives the request; the runner must still take it down when it stops.
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", MARKER])
    time.sleep(0.002)
    return {{
        "statusCode": 200,
        "body": json.dumps(
            {{
                "generation": GENERATION,
                "pid": os.getpid(),
                "start": started,
                "end": time.time(),
                "seq": params.get("seq"),
                "fault": fault,
            }}
        ),
    }}
'''


class LoadProject:
    """A code root holding the generated handler; each save is a new generation."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.generation = 0
        self.save()

    def save(self, atomic: bool = False) -> int:
        """Write the next generation, in place (like most editors) or by rename."""
        self.generation += 1
        text = HANDLER.format(generation=self.generation, marker=str(self.root))
        target = self.root / "main.py"
        if atomic:
            temporary = self.root / "main.py.tmp"
            temporary.write_text(text)
            os.replace(temporary, target)
        else:
            target.write_text(text)
        return self.generation


@dataclass
class Answer:
    """One request's fate: status and parsed body, or the exception that lost it."""

    seq: int
    client: int
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    raw: bytes = b""
    error: str = ""
    sent: float = 0.0
    received: float = 0.0


def get(
    port: int,
    path: str,
    connection: http.client.HTTPConnection | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], bytes]:
    """One GET; on a fresh connection unless one is given (which is then kept alive)."""
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, body
    finally:
        if own:
            conn.close()


class Load:
    """`total` requests from `clients` threads; half keep their connection alive."""

    def __init__(self, port: int, total: int, clients: int) -> None:
        self.port = port
        self.total = total
        self.clients = clients
        self.answers: list[Answer] = []
        self.done = 0
        self._next = 0
        self._lock = threading.Lock()
        self.finished = threading.Event()

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= self.total:
                return None
            self._next += 1
            return self._next - 1

    def _client(self, index: int) -> None:
        keep_alive = index % 2 == 0
        connection: http.client.HTTPConnection | None = None
        while (seq := self._take()) is not None:
            answer = Answer(seq, index, sent=time.monotonic())
            if keep_alive and connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                status, _, raw = get(self.port, f"/?seq={seq}", connection)
                answer.status, answer.raw = status, raw
                if status == 200:
                    answer.body = json.loads(raw)
            except Exception as exc:  # a lost request is a finding, not a crash of the test
                answer.error = repr(exc)
                if connection is not None:
                    connection.close()
                    connection = None
            answer.received = time.monotonic()
            with self._lock:
                self.answers.append(answer)
                self.done += 1
        if connection is not None:
            connection.close()

    def run(self, alongside: list[Callable[[], None]], deadline: float) -> None:
        """Run the clients and the `alongside` jobs (saver, faults) until all finish."""
        threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True)
            for i in range(self.clients)
        ]
        helpers = [threading.Thread(target=job, daemon=True) for job in alongside]
        for thread in threads + helpers:
            thread.start()
        end = time.monotonic() + deadline
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
        self.finished.set()
        for thread in helpers:
            thread.join(max(0.0, end - time.monotonic()))
        stuck = [t for t in threads + helpers if t.is_alive()]
        assert not stuck, f"{len(stuck)} load threads still running after {deadline} s"

    def wait_done(self, fraction: float) -> bool:
        """Wait until `fraction` of the requests are answered; False if the load ended."""
        while self.done < self.total * fraction:
            if self.finished.is_set():
                return False
            time.sleep(0.01)
        return True


def overlaps(answers: list[Answer]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Pairs of answers whose handler runs overlapped in one worker process."""
    by_pid: dict[int, list[dict[str, Any]]] = {}
    for answer in answers:
        if answer.status == 200 and answer.body:
            by_pid.setdefault(int(answer.body["pid"]), []).append(answer.body)
    found = []
    for pid, runs in by_pid.items():
        runs.sort(key=lambda run: run["start"])
        for before, after in zip(runs, runs[1:], strict=False):
            if after["start"] < before["end"]:
                found.append((pid, before, after))
    return found


def processes_under(directory: Path) -> list[tuple[int, str]]:
    """Live processes whose command line or working directory mentions `directory`."""
    marker = str(directory)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("latin-1")
            if stat[stat.rfind(")") + 2 :].startswith("Z"):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if marker in cmdline or cwd == marker or cwd.startswith(marker + os.sep):
            found.append((int(entry), cmdline.strip()))
    return found


def wait_no_processes_under(directory: Path, timeout: float = 10) -> list[tuple[int, str]]:
    """Wait until nothing runs under `directory`; what is left after `timeout`."""
    deadline = time.monotonic() + timeout
    while (left := processes_under(directory)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
