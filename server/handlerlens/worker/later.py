"""`--direct-later`: a worker of a whole app loads nothing of lending until its first lend.

Most of a whole app's functions never get a lent connection (runner/lender.py lends a routed
connection only after the supervisor answered a request on it), so their workers start,
weigh and reload as without lending: until a lend comes, this module (standard library and
relative imports only, nothing loaded at import) watches the lending socket beside the
control pipe. At the first lend, direct.py and the platform modules load, with the
interpreter's own module path, as they load at the start of a worker lent to from the first
(`--direct`): the function's code root must not stand in for the standard library. Where a
module the function's code imported already does (its own `socket.py`, `base64.py`), nothing
loads: every lend goes back to the supervisor, unread, and the function's log says why once.
"""

from __future__ import annotations

import json
import os
import sys

from . import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .direct import DirectServer

# The standard library's top-level modules where sys.stdlib_module_names (3.10) is missing:
# those lending's modules use.
_STDLIB = frozenset(
    "array base64 binascii collections datetime email enum http importlib ipaddress json math "
    "os random re select selectors socket string struct sys time types typing urllib uuid "
    "zlib".split()
)
# Lending's modules besides direct.py's own: the gateways, for routed lends (routed.py).
_GATEWAYS = ("gateway_match", "gateway_base", "gateway_cors", "gateway_yandex", "gateways")


def shadowed(base_path: list[str]) -> str | None:
    """Which module of the function's (found through a sys.path entry not in `base_path`)
    stands in for a standard library module, or None."""
    ours = [os.path.abspath(entry or ".") for entry in sys.path if entry not in base_path]
    names = getattr(sys, "stdlib_module_names", _STDLIB)
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if not where or name.partition(".")[0] not in names:
            continue
        for entry in ours:
            if where.startswith(entry.rstrip(os.sep) + os.sep):
                return f"{where} stands in for the standard library's {name}"
    return None


class Later:
    """The lending socket until the first lend (then direct.DirectServer takes it over)."""

    def __init__(self, fd: int, base_path: list[str]) -> None:
        self.fd = fd
        self.base_path = base_path
        # What init took, for the first call's time limit (direct.py's init_ms).
        self.init_ms = 0.0
        # Nothing could load: every lend goes back.
        self.refusing = False
        # The supervisor closed its end: only the control pipe is watched.
        self.closed = False
        self._sock: Any = None

    def wait(self, control: int) -> bool:
        """Until the control pipe or the lending socket can be read: True when a lend
        waits and no operation does (the control pipe goes first)."""
        if self.closed:
            return False
        import select

        ready = select.select([control, self.fd], [], [])[0]
        return control not in ready

    def server(
        self,
        invoke: Callable[[dict[str, Any], bytes, Any], tuple[dict[str, Any], bytes]],
        send: Callable[[dict[str, Any], bytes], None],
        end_of_op: Callable[[], list[int]],
        max_rss_kb: Callable[[], int],
    ) -> DirectServer | None:
        """A lend waits: the server that answers lent connections, loaded now; None when
        nothing can load (the lend went back to the supervisor)."""
        if not self.refusing:
            why = shadowed(self.base_path)
            if why is None:
                saved = sys.path[:]
                sys.path[:] = self.base_path
                try:
                    import importlib

                    from . import direct

                    platforms = direct.load_platforms()
                    for name in _GATEWAYS:
                        importlib.import_module(f"{direct.PLATFORMS}.{name}")
                except Exception as exc:
                    why = repr(exc)
                finally:
                    sys.path[:] = saved
                if why is None:
                    server = direct.DirectServer(
                        self.fd, platforms, invoke, send, end_of_op, max_rss_kb
                    )
                    server.init_ms = self.init_ms
                    return server
            sys.stderr.write(f"handlerlens: connections stay with the runner here: {why}\n")
            self.refusing = True
        for conn_id in self._take() or ():
            send({"op": protocol.HANDBACK, "conn": conn_id}, b"")
        return None

    def release(self) -> tuple[dict[str, Any], bytes]:
        """RELEASE's answer before any lend was served: the connections of the lends that
        wait, unread."""
        ids: list[int] = []
        while True:
            taken = self._take()
            if not taken:
                break
            ids.extend(taken)
        return {"op": protocol.RELEASED, "conns": ids, "sizes": [0] * len(ids)}, b""

    def _take(self) -> list[int] | None:
        """The connection ids of one waiting lend, their descriptors closed here (the
        supervisor keeps its own); [] if none waits, None once the supervisor closed."""
        import _socket
        import array

        if self._sock is None:
            self._sock = _socket.socket(fileno=os.dup(self.fd))
        size = array.array("i").itemsize
        try:
            message, ancillary, _, _ = self._sock.recvmsg(
                256 * 1024, _socket.CMSG_SPACE(64 * size), _socket.MSG_DONTWAIT
            )
        except (BlockingIOError, InterruptedError):
            return []
        for level, kind, data in ancillary:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(data[: len(data) - len(data) % size])
                for fd in fds:
                    os.close(fd)
        if not message:
            self.closed = True
            return None
        return [int(conn_id) for conn_id in json.loads(message.decode("utf-8"))["conns"]]
