"""A request whose client gave up while it waited for an instance is never run."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.runner.harness import Runner

HANDLER = """\
import time


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    with open("ran.txt", "a") as log:
        log.write(query.get("tag", "") + "\\n")
    time.sleep(float(query.get("sleep", "0")))
    return {"statusCode": 200, "body": "ran " + query.get("tag", "")}
"""


def _send(port: int, tag: str, sleep: float = 0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET /?tag={tag}&sleep={sleep} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    return sock


def _status(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data and (chunk := sock.recv(65536)):
        data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("lend", [False, True], ids=["supervisor", "lent"])
def test_a_request_whose_client_left_while_it_waited_is_not_run(tmp_path: Path, lend: bool):
    (tmp_path / "main.py").write_text(HANDLER)
    env = dict(os.environ, HANDLERLENS_LEND="1" if lend else "0")
    # --writable: the handler keeps its record in its code root, read-only deployed (#18).
    runner = Runner(
        ["main.handler", "--platform", "yandex", "--no-watch", "--timeout", "10", "--writable"],
        tmp_path,
        env,
    )
    try:
        assert runner.request("GET", "/?tag=warm")[0] == 200
        busy = _send(runner.port, "busy", sleep=1.5)  # holds the one instance
        time.sleep(0.3)
        _send(runner.port, "gone").close()  # waits behind it, then its client gives up
        # One that only shuts down its sending side (`nc -N`) still waits for its answer.
        half = _send(runner.port, "half")
        half.shutdown(socket.SHUT_WR)
        statuses: dict[str, bytes] = {}
        waiting = [
            threading.Thread(target=lambda s=sock, t=tag: statuses.update({t: _status(s)}))
            for sock, tag in ((busy, "busy"), (half, "half"))
        ]
        for thread in waiting:
            thread.start()
        for thread in waiting:
            thread.join(20)
        assert statuses == {"busy": b"HTTP/1.1 200 OK", "half": b"HTTP/1.1 200 OK"}
        busy.close()
        half.close()
        assert runner.request("GET", "/?tag=after")[0] == 200
        said = runner.wait_stderr("not run: its client closed the connection while it waited")
        # The worker that held the connection checked it (lent), or the supervisor did.
        assert ('"GET /?tag=gone&sleep=0 HTTP/1.1" not run' in said) == lend, said
        assert (tmp_path / "ran.txt").read_text().split() == ["warm", "busy", "half", "after"]
    finally:
        runner.stop()
