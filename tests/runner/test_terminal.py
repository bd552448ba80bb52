"""`serve` and `invoke` in a terminal, as a person runs them: Ctrl+C, and what they read."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.runner.harness import Runner, wait_gone
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


@pytest.mark.parametrize("lend", [True, False], ids=["lent", "supervisor"])
def test_a_save_says_what_changed_and_nothing_about_the_old_worker(project: Path, lend: bool):
    # Every save replaces the worker; the reload's line says so. "replacing worker PID …
    # (SIGTERM)" before it read like a failure, on every save.
    terminal = Terminal(
        ["serve", "main.handler", "--platform", "yandex", "--port", "0"],
        project,
        _env(lend),
        keyboard=True,
    )
    try:
        port = int(terminal.wait_for(r"serving .* on http://127\.0\.0\.1:(\d+)").group(1))
        assert _get(port, "/")[0] == 200
        terminal.wait_for(r"^REPORT RequestID")
        (project / "main.py").write_text(HANDLER + "\n# saved\n")
        terminal.wait_for(r"^handlerlens: main: main\.py changed; reloaded in \d+ ms$")
        assert _get(port, "/")[0] == 200
        terminal.wait_for(r"(?s)reloaded in.*^REPORT RequestID")
        terminal.settle(0.5)  # the old worker is stopped after the reload's line
        for noise in ("replacing", "SIGTERM", "worker PID"):
            assert noise not in terminal.text, terminal.text
        terminal.ctrl_c()
        _assert_quiet_stop(terminal)
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


ACCESS_LINE = r'^handlerlens: "{line}" {status} \d+\.\d ms {rid}$'


@pytest.mark.parametrize("lend", [True, False], ids=["lent", "supervisor"])
def test_the_access_log_has_a_line_per_request_in_a_terminal(project: Path, lend: bool):
    terminal, port = _serve(project, lend=lend)
    try:
        status, headers, _ = _get(port, "/?a=1")
        assert status == 200
        rid = headers["x-request-id"]
        line = terminal.wait_for(
            ACCESS_LINE.format(line=r"GET /\?a=1 HTTP/1\.1", status=200, rid=rid)
        )
        # After the function's own block: START … END, REPORT, then the request's line.
        text = terminal.text
        assert text.index(f"REPORT RequestID: {rid}") < line.start()
        # What never became a request is answered, and logged, too.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"NOT-A-REQUEST\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400")
        terminal.wait_for(ACCESS_LINE.format(line="NOT-A-REQUEST", status=400, rid="-"))
        terminal.ctrl_c()
        assert terminal.wait() == 130
    finally:
        terminal.stop()


def test_the_access_log_times_a_timeout_on_a_lent_connection(project: Path):
    terminal, port = _serve(project, "--timeout", "1")
    try:
        status, headers, _ = _get(port, "/?sleep=5")
        assert status == 504
        found = terminal.wait_for(
            ACCESS_LINE.format(
                line=r"GET /\?sleep=5 HTTP/1\.1", status=504, rid=headers["x-request-id"]
            )
        )
        assert 900 < float(found.group(0).split()[-3]) < 4000  # the time it really took
        terminal.ctrl_c()
        assert terminal.wait() == 130
    finally:
        terminal.stop()


@pytest.mark.parametrize("lend", [True, False], ids=["lent", "supervisor"])
def test_a_timed_out_first_call_reports_the_memory_it_used(project: Path, lend: bool):
    # The worker stopped for its timeout never says its peak: REPORT said "0 MB".
    terminal, port = _serve(project, "--timeout", "1", lend=lend)
    try:
        status, headers, _ = _get(port, "/?sleep=5")
        assert status == 504
        rid = headers["x-request-id"]
        used = terminal.wait_for(rf"^REPORT RequestID: {rid}\s.*Max Memory Used: (\d+) MB")
        assert 5 < int(used.group(1)) < 128, used.group(0)
        # The timeout's own line said what happened; the worker's replacement is no news.
        assert _get(port, "/")[0] == 200
        terminal.wait_for(r"(?s)Max Memory Used.*^REPORT RequestID")
        terminal.settle(0.5)
        assert "replacing" not in terminal.text and "SIGTERM" not in terminal.text, terminal.text
        terminal.ctrl_c()
        assert terminal.wait() == 130
    finally:
        terminal.stop()


def test_no_access_log_with_quiet(project: Path):
    terminal, port = _serve(project, "--quiet")
    try:
        status, headers, _ = _get(port, "/")
        assert status == 200
        terminal.wait_for(f"REPORT RequestID: {headers['x-request-id']}")
        terminal.settle(0.5)
        assert 'handlerlens: "GET' not in terminal.text
        terminal.ctrl_c()
        assert terminal.wait() == 130
    finally:
        terminal.stop()


def test_no_access_log_through_a_pipe(project: Path):
    runner = Runner(["main.handler", "--platform", "yandex", "--no-watch"], project)
    try:
        status, headers, _ = runner.request("GET", "/")
        assert status == 200
        runner.wait_stderr(f"REPORT RequestID: {headers['x-request-id']}")
        time.sleep(0.5)
        assert not [line for line in runner.stderr if 'handlerlens: "' in line]
    finally:
        runner.stop()


def test_the_access_log_never_reaches_status_json(project: Path, tmp_path: Path):
    out = tmp_path / "status.jsonl"
    terminal = Terminal(
        [
            "serve",
            "main.handler",
            "--platform",
            "yandex",
            "--port",
            "0",
            "--no-watch",
            "--status-json",
        ],
        project,
        stdout=out,
        keyboard=True,
    )
    try:
        # stderr is the terminal: the access log is on; stdout is the file, JSON only.
        port = int(terminal.wait_for(r"serving .* on http://127\.0\.0\.1:(\d+)").group(1))
        status, headers, _ = _get(port, "/?b=2")
        assert status == 200
        terminal.wait_for(ACCESS_LINE.format(line=r"GET /\?b=2 HTTP/1\.1", status=200, rid=".*"))
        terminal.ctrl_c()
        assert terminal.wait() == 130
        events = [json.loads(line) for line in out.read_text().splitlines()]
        assert [e["event"] for e in events][-1] == "stopped"
        assert any(e.get("requestId") == headers["x-request-id"] for e in events)
        assert "GET /?b=2" not in out.read_text()
    finally:
        terminal.stop()


def test_a_yandex_timeout_says_which_limit_and_where_it_was_declared(project: Path):
    (project / "pyproject.toml").write_text(
        '[tool.handlerlens]\nplatform = "yandex"\nentry = "main.handler"\nname = "slow"\n'
        "timeout = 1\n"
    )
    (project / "event.json").write_text(json.dumps({"sleep": 10}))
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", "slow", "--event", "event.json"],
        cwd=project,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    log = done.stderr.decode()
    assert re.search(
        r"^ERROR RequestID: \S+ Code: 504 Message: Execution timeout exceeded after 1\.00 "
        r"seconds \(the function's timeout, 1 s, declared in pyproject\.toml; init took "
        r"\d\.\d\d s of it\)$",
        log,
        re.M,
    ), log
    assert "cancelled" not in log


def test_ctrl_c_during_handlerlens_test_stops_quietly_with_130(project: Path):
    # `handlerlens test` said nothing but ^C; now the same line as serve and invoke.
    (project / "pyproject.toml").write_text(
        '[tool.handlerlens]\nplatform = "yandex"\nname = "main"\nentry = "main.handler"\n'
        "timeout = 60\n"
    )
    events = project / ".handlerlens" / "events" / "main"
    events.mkdir(parents=True)
    (events / "slow.json").write_text('{"sleep": 30}')
    terminal = Terminal(["test"], project, keyboard=True, module="handlerlens")
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while not workers and time.monotonic() < deadline:  # the event is running
            workers = [pid for pid in terminal.descendants() if pid != terminal.process.pid]
            time.sleep(0.2)
        assert workers, terminal.text
        terminal.settle(1.0)
        terminal.ctrl_c()
        _assert_quiet_stop(terminal)
        assert wait_gone(workers) == []
    finally:
        terminal.stop()
