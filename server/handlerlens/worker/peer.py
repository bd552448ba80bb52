"""Whether a loopback HTTP client that sent its end of file is gone, or only half-closed.

Both look the same on the server's socket: the client's FIN arrived, reads return end of
file. A client that gave up (closed its socket, or died) will never read an answer; one that
only shut down its sending side after its request (`nc -N`, a script) still waits for it.
The runner only listens on 127.0.0.1, so the client's socket is on this machine, and Linux
tells them apart: a socket closed by its owner lives on as an orphan (owned by no process:
inode 0 in /proc/net/tcp) until its connection is over; a half-closed one is still owned.

Used by the supervisor (runner/http_server.py) and a worker serving lent connections
(direct.py), only for a request that waited and whose client sent its end of file.
"""

from __future__ import annotations

import socket
import sys

TCP_TABLE = "/proc/net/tcp"


def _hex_address(address: tuple[str, int]) -> str:
    # /proc/net/tcp prints an IPv4 address as the 32-bit value in host byte order.
    packed = socket.inet_aton(address[0])
    return f"{int.from_bytes(packed, sys.byteorder):08X}:{address[1]:04X}"


def client_closed(server: tuple[str, int], client: tuple[str, int]) -> bool | None:
    """True if the client at `client`, connected to `server` (both IPv4 on this machine),
    has closed its socket or no longer has one; False if it still holds it (it may have
    shut down only its sending side); None where this cannot be told (no /proc/net/tcp)."""
    try:
        ours, theirs = _hex_address(client), _hex_address(server)
    except (OSError, ValueError, TypeError, IndexError):
        return None
    try:
        with open(TCP_TABLE, encoding="ascii", errors="replace") as table:
            next(table, None)  # the header
            for row in table:
                fields = row.split()
                # sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
                if len(fields) > 9 and fields[1] == ours and fields[2] == theirs:
                    return fields[9] == "0"
    except OSError:
        return None
    return True  # no socket at all on its side any more
