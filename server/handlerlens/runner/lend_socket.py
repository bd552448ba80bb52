"""The socket on which the supervisor lends HTTP connections to one worker (runner/lender.py
lends them, worker/direct.py takes them): a Unix socket pair whose messages carry the
connections' descriptors (SCM_RIGHTS) and what the worker needs to answer them."""

from __future__ import annotations

import json
import socket
from typing import Any

# Whether this platform can pass descriptors between processes.
CAN_LEND = hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")
# json.dumps with options builds an encoder per call: one for every lend.
_SETTINGS_JSON = json.JSONEncoder(separators=(",", ":"))


class LendSocket:
    """The supervisor's end, and until the worker is spawned, the worker's (`child`)."""

    # Whether workers load what answering lent connections takes (the platform modules) at
    # their first lend rather than as they start: on a whole app (runner/lender.py sets it),
    # where most functions' workers never get a connection, and a connection comes only
    # after a first request anyway — their start, their memory and a reload stay as lean as
    # without lending. With one function, connections are lent as they open: loaded first.
    load_later = False

    def __init__(self) -> None:
        # Messages keep their bounds (one lend, one message), unlike a stream.
        kind = getattr(socket, "SOCK_SEQPACKET", socket.SOCK_DGRAM)
        self._sock: socket.socket | None
        self._sock, self._child = socket.socketpair(socket.AF_UNIX, kind)
        self._sock.setblocking(False)

    @property
    def child_fd(self) -> int:
        """The worker's end, to pass to it (`--direct FD`)."""
        return self._child.fileno()

    def worker_args(self) -> tuple[str, ...]:
        """The worker's arguments for it: `--direct FD`, or `--direct-later FD`."""
        return ("--direct-later" if self.load_later else "--direct", str(self.child_fd))

    def spawned(self) -> None:
        """The worker has its end: ours goes."""
        self._child.close()

    def lend(self, conns: dict[int, int], settings: dict[str, Any]) -> bool:
        """Pass connection descriptors ({id: fd}) with `settings` (the protocol's
        LendSettings); False if the worker cannot take them now (it then never sees them)."""
        if self._sock is None:
            return False
        message = _SETTINGS_JSON.encode({"conns": list(conns), **settings}).encode()
        try:
            sent = socket.send_fds(self._sock, [message], list(conns.values()))
        except OSError:
            return False
        return sent == len(message)

    def close(self) -> None:
        """Both ends (the worker's end of file tells it no more comes)."""
        self._child.close()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
