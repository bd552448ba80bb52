"""`serve --debug` before a debugger attaches: requests are told to wait, and a request whose
client left while it waited is never run (it would otherwise stop at a breakpoint later)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.debug.dap import Editor
from tests.runner.harness import Runner

HANDLER = """\
def handler(event, context):
    tag = (event.get("queryStringParameters") or {}).get("tag", "")
    with open("ran.txt", "a") as log:
        log.write(tag + "\\n")
    return {"statusCode": 200, "body": "ran " + tag}
"""
BREAK_LINE = 2


def _send(port: int, tag: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(f"GET /?tag={tag} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"ran second"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.timeout(90)
def test_requests_before_the_debugger_wait_and_a_gone_client_is_not_run(tmp_path: Path):
    (tmp_path / "main.py").write_text(HANDLER)
    # --writable: the handler keeps its record in its code root, read-only deployed (#18).
    runner = Runner(
        ["main.handler", "--platform", "yandex", "--debug", "--no-watch", "--writable"], tmp_path
    )
    editor: Editor | None = None
    try:
        debug_port = int(runner.wait_for(lambda e: e["event"] == "listening")["debugPort"])
        # A client that gives up: it sends its request, then closes the connection.
        _send(runner.port, "gone").close()
        waiting = runner.wait_stderr("waiting for a debugger")
        assert f"waiting for a debugger on 127.0.0.1:{debug_port}" in waiting
        # One that waits: said once, not per request.
        patient = _send(runner.port, "second")
        time.sleep(1.0)
        assert sum("waiting for a debugger" in line for line in runner.stderr) == 1
        assert not (tmp_path / "ran.txt").exists()  # nothing runs before the debugger

        editor = Editor(debug_port, {str(tmp_path / "main.py"): [BREAK_LINE]})
        editor.attach()
        # The waiting request runs under the debugger: it stops at the breakpoint.
        stop = editor.wait_stop(0, timeout=60)
        assert (stop.path, stop.line) == (str(tmp_path / "main.py"), BREAK_LINE)
        editor.resume(stop)
        answer = _answer(patient)
        patient.close()
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ran second"), answer
        runner.wait_stderr("not run: its client closed the connection while it waited")
        # The request whose client had gone never ran, and never stopped at the breakpoint.
        assert (tmp_path / "ran.txt").read_text() == "second\n"
        assert len(editor.stops) == 1
    finally:
        if editor is not None:
            editor.close()
        assert runner.stop() == 0
