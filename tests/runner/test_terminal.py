"""`serve` and `invoke` in a terminal, as a person runs them: Ctrl+C, and what they read."""

from __future__ import annotations

import http.client
import json
import os
import threading
from pathlib import Path

import pytest

from tests.runner.harness import wait_gone
from tests.runner.terminal import Terminal

HANDLER = """\
import json
import os
import time


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    seconds = float(query.get("sleep", event.get("sleep", 0)))
    if seconds:
        print(f"sleeping {seconds} s in PID {os.getpid()}", flush=True)
        time.sleep(seconds)
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.py").write_text(HANDLER)
    return tmp_path


def _env(lend: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env["HANDLERLENS_LEND"] = "1" if lend else "0"
    return env


def _serve(project: Path, *args: str, lend: bool = True) -> tuple[Terminal, int]:
    terminal = Terminal(
        ["serve", "main.handler", "--platform", "yandex", "--port", "0", "--no-watch", *args],
        project,
        _env(lend),
        keyboard=True,
    )
    try:
        port = int(terminal.wait_for(r"serving .* on http://127\.0\.0\.1:(\d+)").group(1))
    except AssertionError:
        terminal.stop()
        raise
    return terminal, port


def _get(port: int, path: str, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


def _assert_quiet_stop(terminal: Terminal) -> None:
    assert terminal.wait() == 130, terminal.text
    text = terminal.text
    assert text.rstrip().endswith("handlerlens: stopped"), text
    for noise in ("Traceback", "KeyboardInterrupt", "replacing", "broken", "SIGTERM"):
        assert noise not in text, text


@pytest.mark.parametrize("lend", [True, False], ids=["lent", "supervisor"])
def test_ctrl_c_after_a_request_stops_quietly_with_130(project: Path, lend: bool):
    terminal, port = _serve(project, lend=lend)
    try:
        status, _, body = _get(port, "/")
        assert status == 200
        worker = json.loads(body)["pid"]
        terminal.wait_for(r"^REPORT RequestID")
        workers = terminal.descendants()
        assert worker in workers  # and its standby
        terminal.ctrl_c()
        _assert_quiet_stop(terminal)
        # Workers never outlive the runner.
        assert wait_gone(workers) == []
    finally:
        terminal.stop()


def test_ctrl_c_while_a_request_runs_stops_quietly(project: Path):
    terminal, port = _serve(project)
    try:
        answers: list[object] = []

        def call() -> None:
            try:
                answers.append(_get(port, "/?sleep=30")[0])
            except OSError as exc:
                answers.append(exc)

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        terminal.wait_for(r"sleeping 30\.0 s in PID (\d+)")
        workers = terminal.descendants()
        terminal.ctrl_c()
        _assert_quiet_stop(terminal)
        assert "Runtime exited with error" not in terminal.text  # the stop is not a crash
        thread.join(10)
        assert answers and answers[0] != 200  # answered or cut off, never left hanging
        assert wait_gone(workers) == []
    finally:
        terminal.stop()


def test_ctrl_c_during_invoke_stops_quietly_with_130(project: Path):
    event = project / "event.json"
    event.write_text(json.dumps({"sleep": 30}))
    terminal = Terminal(
        [
            "invoke",
            "main.handler",
            "--platform",
            "yandex",
            "--timeout",
            "60",
            "--event",
            "event.json",
        ],
        project,
        keyboard=True,
    )
    try:
        worker = int(terminal.wait_for(r"sleeping 30\.0 s in PID (\d+)").group(1))
        terminal.ctrl_c()
        _assert_quiet_stop(terminal)
        assert wait_gone([worker]) == []
    finally:
        terminal.stop()
