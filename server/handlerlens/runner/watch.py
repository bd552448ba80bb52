"""The watch on a busy worker: its operation's timeout and its memory, on one timer.

Arming and cancelling two timers per request showed in the runner's profile; instead, one
timer per worker ticks while an operation runs (every MEMORY_POLL_S when the function has a
memory size, or at the deadline if sooner) and is left alone between operations: back to
back requests reuse the pending tick instead of scheduling their own. Under a debugger, the
timeout stands still while a thread sits at a breakpoint: time spent looking at variables is
not the function's running time. How long the timeout is, is the platform's rule
(platforms/failures.py:call_timeout); what happens when it passes is the worker's
(runner/worker_process.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# How often a busy worker's resident memory is compared with the function's memory size.
MEMORY_POLL_S = 0.02


class Deadline:
    """An operation's timeout, standing still while the worker is paused in a debugger."""

    __slots__ = ("at", "left")

    def __init__(self, now: float, seconds: float) -> None:
        self.at: float | None = now + seconds  # None while paused
        self.left = seconds

    def pause(self, now: float) -> None:
        if self.at is not None:
            self.left = self.at - now
            self.at = None

    def resume(self, now: float) -> None:
        if self.at is None:
            self.at = now + max(self.left, 0.0)


class Watch:
    """One worker's timer. `busy()`: whether an operation runs (an idle worker's tick does
    nothing and is not re-armed); `expired(loop)`: the operation's deadline passed;
    `over_memory(limit)`: True if the worker was over `limit` bytes (and was stopped)."""

    __slots__ = ("memory_limit", "deadline", "_tick", "_busy", "_expired", "_over_memory")

    def __init__(
        self,
        memory_limit: int | None,
        busy: Callable[[], bool],
        expired: Callable[[asyncio.AbstractEventLoop], None],
        over_memory: Callable[[int], bool],
    ) -> None:
        self.memory_limit = memory_limit
        self.deadline: Deadline | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._busy = busy
        self._expired = expired
        self._over_memory = over_memory

    def start(
        self, loop: asyncio.AbstractEventLoop, timeout: float | None, paused: bool = False
    ) -> None:
        """An operation began: `timeout` seconds from now (None: the one before still
        stands), standing still from the start if the worker is `paused`."""
        if timeout is not None:
            self.deadline = Deadline(loop.time(), timeout)
            if paused:
                self.deadline.pause(loop.time())
        self.arm(loop)

    def stop(self) -> None:
        """The operation ended (or its end is handled elsewhere): no deadline any more."""
        self.deadline = None

    def paused(self, loop: asyncio.AbstractEventLoop, paused: bool) -> None:
        """The worker stopped at a breakpoint, or went on."""
        deadline = self.deadline
        if deadline is None:
            return
        if paused:
            deadline.pause(loop.time())
        else:
            deadline.resume(loop.time())
            self.arm(loop)

    def cancel(self) -> None:
        """No more ticks (the worker is gone)."""
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make sure a tick comes by the next time anything is due."""
        at = loop.time() + MEMORY_POLL_S if self.memory_limit else None
        deadline = self.deadline
        if deadline is not None and deadline.at is not None:
            at = deadline.at if at is None else min(at, deadline.at)
        if at is None:
            return
        tick = self._tick
        if tick is not None:
            if tick.when() <= at:
                return  # fires first, and re-arms if the operation still runs
            tick.cancel()
        self._tick = loop.call_at(at, self._on_tick, loop)

    def _on_tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._tick = None
        if not self._busy():
            return  # idle: no more ticks until the next operation
        deadline = self.deadline
        if deadline is not None and deadline.at is not None and loop.time() >= deadline.at:
            self._expired(loop)
            return
        if self.memory_limit and self._over_memory(self.memory_limit):
            return
        self.arm(loop)
