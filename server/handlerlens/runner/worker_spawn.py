"""Spawning a worker interpreter: its three pipes, the process, and what hears it.

The worker is spawned (never forked: the supervisor has threads) with three pipes passed by
number (`pass_fds`): control (supervisor → worker: operations), result (worker → supervisor:
frames, worker/protocol.py) and a lifeline whose closing tells the worker its supervisor is
gone. Its stdout and stderr are the function's log. What arrives is handed to the worker's
owner (runner/worker_process.py's WorkerProcess) through the `WorkerEvents` it implements.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from handlerlens.runner.lend_socket import LendSocket
from handlerlens.worker import protocol

WORKER_SCRIPT = str(Path(__file__).resolve().parent.parent / "worker" / "__main__.py")


class WorkerEvents(Protocol):
    """What a spawned worker's pipes and process tell its owner."""

    def on_frame(self, meta: dict[str, Any], payload: bytes) -> None: ...
    def on_result_eof(self) -> None: ...
    def on_output(self, fd: int, data: bytes) -> None: ...
    def on_output_closed(self, fd: int) -> None: ...
    def on_exit(self, returncode: int | None) -> None: ...


class ResultReader(asyncio.Protocol):
    """The result pipe: frames, decoded incrementally, to the owner."""

    def __init__(self, events: WorkerEvents) -> None:
        self.events = events
        self.frames = protocol.FrameReader()

    def data_received(self, data: bytes) -> None:
        frames = self.frames
        frames.feed(data)
        while (frame := frames.take()) is not None:
            self.events.on_frame(*frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.on_result_eof()


class _ProcessProtocol(asyncio.SubprocessProtocol):
    def __init__(self, events: WorkerEvents) -> None:
        self.events = events
        self.transport: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.events.on_output(fd, data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.events.on_output_closed(fd)

    def process_exited(self) -> None:
        assert self.transport is not None
        self.events.on_exit(self.transport.get_returncode())


@dataclass
class Spawned:
    """A running worker's handles, for its owner to keep and close."""

    transport: asyncio.SubprocessTransport
    pid: int
    control: asyncio.WriteTransport
    reader: ResultReader
    result_fd: int  # the supervisor's end of the result pipe (read directly to drain it)
    lifeline: int  # the supervisor's end of the lifeline (closed: the worker ends)


async def spawn(
    events: WorkerEvents,
    python: str,
    root: str,
    env: dict[str, str],
    debug: bool,
    lend_socket: LendSocket | None,
) -> Spawned:
    """Start the worker in `root` with `env`, its own process group (stopped as one)."""
    loop = asyncio.get_running_loop()
    control_r, control_w = os.pipe()
    result_r, result_w = os.pipe()
    lifeline_r, lifeline_w = os.pipe()
    child_fds: tuple[int, ...] = (control_r, result_w, lifeline_r)
    extra: tuple[str, ...] = ("--debug",) if debug else ()
    if lend_socket is not None:
        child_fds += (lend_socket.child_fd,)
        extra += lend_socket.worker_args()
    try:
        transport, _ = await loop.subprocess_exec(
            lambda: _ProcessProtocol(events),
            python,
            WORKER_SCRIPT,
            *(str(fd) for fd in child_fds[:3]),
            *extra,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=root,
            env=env,
            pass_fds=child_fds,
            start_new_session=True,
        )
    except BaseException:
        for fd in (control_r, control_w, result_r, result_w, lifeline_r, lifeline_w):
            os.close(fd)
        raise
    for fd in child_fds[:3]:
        os.close(fd)
    if lend_socket is not None:
        lend_socket.spawned()
    control, _ = await loop.connect_write_pipe(
        asyncio.Protocol, os.fdopen(control_w, "wb", buffering=0)
    )
    _, reader = await loop.connect_read_pipe(
        lambda: ResultReader(events), os.fdopen(result_r, "rb", buffering=0)
    )
    return Spawned(transport, transport.get_pid(), control, reader, result_r, lifeline_w)
