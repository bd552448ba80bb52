"""The timeouts of one connection of the runner's HTTP server (runner/http_server.py): the
deadline for a request's head (HEAD_TIMEOUT from its first byte, so a client trickling its
header a byte at a time is still cut off), the idle limit while a body arrives, and the idle
limit between keep-alive requests; all on one timer, re-armed lazily.
"""

from __future__ import annotations

import asyncio

from handlerlens.platforms.http_head import BODY_IDLE_TIMEOUT, HEAD_TIMEOUT, KEEPALIVE_TIMEOUT


class ConnectionTimeouts:
    """The timer half of HttpProtocol, which sets these attributes and says what a timeout
    does (_timed_out)."""

    buffer: bytearray
    timer: asyncio.TimerHandle | None
    deadline: float | None  # loop time the connection times out at
    head_started: float | None

    def _timed_out(self) -> None:
        raise NotImplementedError

    def _arm_for_buffer(self) -> None:
        if not self.buffer:
            self.head_started = None
            self._arm(KEEPALIVE_TIMEOUT)
            return
        loop = asyncio.get_running_loop()
        if b"\r\n\r\n" in self.buffer:
            self._arm(BODY_IDLE_TIMEOUT)
            return
        if self.head_started is None:
            self.head_started = loop.time()
        self._arm(max(0.0, self.head_started + HEAD_TIMEOUT - loop.time()))

    def _arm(self, seconds: float) -> None:
        """The connection times out `seconds` from now unless re-armed or disarmed.

        Lazily: a pending timer due no later than the new deadline is kept (when it fires it
        re-arms for what is left), so a keep-alive request costs no timer at all, where
        cancelling and scheduling one per request showed in the runner's profile.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self.deadline = deadline
        timer = self.timer
        if timer is not None:
            if timer.when() <= deadline:
                return
            timer.cancel()
        self.timer = loop.call_at(deadline, self._on_timer)

    def _disarm(self) -> None:
        self.deadline = None  # a pending timer finds nothing to do

    def _cancel_timer(self) -> None:
        self.deadline = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _on_timer(self) -> None:
        self.timer = None
        deadline = self.deadline
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < deadline:
            self.timer = loop.call_at(deadline, self._on_timer)
            return
        self.deadline = None
        self._timed_out()
