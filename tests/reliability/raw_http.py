"""Raw HTTP over sockets, for clients no library would be: slow, oversized, malformed."""

from __future__ import annotations

import os
import socket
import time


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response from `sock` (status, lower-cased headers, body); status 0 on EOF first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, {}, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def exchange(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send `data` on a fresh connection and read one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def wait_closed(sock: socket.socket, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closes `sock` (or `limit`), and what it sent before."""
    started = time.monotonic()
    received = b""
    while True:
        left = limit - (time.monotonic() - started)
        if left <= 0:
            return limit, received
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started, received
        if not chunk:
            return time.monotonic() - started, received
        received += chunk


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets a process holds open (empty once it is gone)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _listening() -> list[tuple[str, str, int, str]]:
    """(family, local address as /proc writes it, port, inode) of every listening TCP socket."""
    found = []
    for family in ("tcp", "tcp6"):
        with open(f"/proc/net/{family}") as table:
            for line in table.read().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A":  # TCP_LISTEN
                    address, port = local.split(":")
                    found.append((family, address, int(port, 16), inode))
    return found


def listening_sockets(pids: list[int]) -> list[tuple[str, str, int]]:
    """(family, local address, port) of every listening TCP socket the processes hold."""
    inodes: set[str] = set()
    for pid in pids:
        inodes |= socket_inodes(pid)
    return [(f, a, p) for f, a, p, inode in _listening() if inode in inodes]


def listeners(port: int) -> dict[int, list[tuple[str, str, int]]]:
    """Processes listening on `port` (any address), with all their listening sockets."""
    wanted = {inode for _, _, p, inode in _listening() if p == port}
    holders = [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and socket_inodes(int(entry)) & wanted
    ]
    return {pid: listening_sockets([pid]) for pid in holders}


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("latin-1")
        except OSError:
            continue
        parent = int(stat[stat.rfind(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry))
    out, queue = [], [pid]
    while queue:
        current = queue.pop()
        out.append(current)
        queue.extend(children.get(current, []))
    return out
