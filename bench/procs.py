"""Processes the benchmark starts: where the subjects live, wall times, RSS, clean stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parent.parent
VENV_PY = REPO / ".venv" / "bin" / "python"
HANDLERLENS = REPO / ".venv" / "bin" / "handlerlens"
PEERS = REPO / "bench" / ".peers"
PEER_BIN = PEERS / "venv" / "bin"
PYRIGHT_LANGSERVER = PEERS / "node" / "node_modules" / "pyright" / "langserver.index.js"


class Budget:
    """The run's time limit: sections and sessions not started by the deadline are skipped."""

    deadline = float("inf")
    skipped: ClassVar[list[str]] = []  # one budget per process

    @classmethod
    def start(cls, seconds: float) -> None:
        """Start the clock."""
        cls.deadline = time.perf_counter() + seconds

    @classmethod
    def spent(cls, what: str) -> str:
        """'' while time is left; otherwise record `what` as skipped and say why."""
        if time.perf_counter() < cls.deadline:
            return ""
        cls.skipped.append(what)
        return "not measured: the run's time budget was spent before this started"


@dataclass(frozen=True)
class Subject:
    """A program under measurement: its display name and command line, or why it is absent."""

    name: str
    argv: list[str]
    missing: str = ""


def _needs(name: str, argv: list[str], *paths: Path) -> Subject:
    absent = [str(p) for p in paths if not p.exists()]
    if absent:
        return Subject(
            name, argv, f"not measured: {absent[0]} missing (run scripts/bench-setup.sh)"
        )
    return Subject(name, argv)


def language_servers() -> list[Subject]:
    """HandlerLens and the peer language servers, each as its stdio command."""
    node = "node"
    return [
        _needs("HandlerLens", [str(VENV_PY), "-m", "handlerlens", "lsp"], VENV_PY),
        _needs(
            "jedi-language-server",
            [str(PEER_BIN / "jedi-language-server")],
            PEER_BIN / "jedi-language-server",
        ),
        _needs("pylsp", [str(PEER_BIN / "pylsp")], PEER_BIN / "pylsp"),
        _needs(
            "pyright",
            [node, str(PYRIGHT_LANGSERVER), "--stdio"],
            PYRIGHT_LANGSERVER,
        ),
    ]


class _ByteCode:
    """Every measured Python program caches its byte code, as installed tools do."""

    note = ""

    def cache(self) -> None:
        if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
            self.note = (
                "- byte code: this machine's environment sets `PYTHONDONTWRITEBYTECODE=1`, which "
                "makes every start-up compile its Python sources again; pip-installed tools (the "
                "peers, a user's HandlerLens) start from cached byte code, so the bench unsets it "
                "for every subject, peers and floors alike, and warms each one up before measuring."
            )


BYTECODE = _ByteCode()


async def pause_before_save(settle: float = 0.5) -> None:
    """The pause between two timed saves: `settle` seconds for the previous reload to be over,
    and up to 100 ms more at random. A fixed pause locks every save to one phase of a
    reloader's periodic loop (HandlerLens's watcher steps every 20 ms; 0.5 s is 25 steps), so a
    whole series fell in its fast or its slow half: same code, medians 39 or 47 ms from one run
    to the next. At a random phase, each series samples the whole step."""
    await asyncio.sleep(settle + random.uniform(0.0, 0.1))


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wall_time(argv: list[str], cwd: Path, timeout: float = 60.0) -> float:
    """Seconds from spawn to exit of `argv`; raises if it fails or overruns."""
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {' / '.join(tail)}")
    return elapsed


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB, from /proc/PID/status."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


class Service:
    """A long-running server process in its own session, stopped with its whole group."""

    def __init__(self, argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None):
        self.argv = argv
        self.cwd = cwd
        self.log = log
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Spawn the process, output to its log file."""
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.proc is not None and self.proc.returncode is None

    async def stop(self) -> None:
        """SIGTERM to the group, a bounded wait, then SIGKILL to the group."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(self.proc.wait(), 5)

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the process's output, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return " / ".join(text.strip().splitlines()[-lines:])
