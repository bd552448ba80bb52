"""Error logs as people read them, and as programs read them.

AWS's runtime joins an error record's lines with `\\r` (CloudWatch shows one entry of several
lines); in a terminal that overprints, so `serve` and `invoke` show each part on a line of its
own, while `--status-json` and the Invoke API's `X-Amz-Log-Result` keep the bytes as written.
A Yandex load error shows the user's frames only, as Python itself prints the failed import:
in the terminal, in `invoke`'s JSON and in the 502 body, on the worker's lent connections and
on the supervisor's.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.raw_http import socket_inodes
from tests.runner.harness import FIXTURES, Runner, _processes
from tests.runner.terminal import OVERPRINT, Terminal, screen

AWS = FIXTURES / "aws"
AWS_BROKEN = FIXTURES / "aws_broken"
YANDEX_BROKEN = FIXTURES / "yandex_broken"

# Frames of HandlerLens itself and of the import system, which no user wrote.
NOT_USER_FRAMES = ("handlerlens/worker", "handlerlens/runner", "<frozen importlib", "importlib/")


def _env(lend: bool = True) -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if not lend:
        env["HANDLERLENS_LEND"] = "0"
    return env


def _worker_pids(terminal: Terminal) -> list[int]:
    return [pid for pid, parent in _processes() if parent == terminal.process.pid]


def _assert_readable(data: bytes, *rows: str) -> list[str]:
    """No overprinting in what the terminal got, and each of `rows` shown whole on a row."""
    assert not OVERPRINT.search(data), data.decode("utf-8", "replace")
    shown = [row.replace("\u00a0", " ").rstrip() for row in screen(data)]
    for row in rows:
        assert row in shown, f"{row!r} is not a row of:\n" + "\n".join(shown)
    return shown


# --- AWS: \r-joined records ---------------------------------------------------------------


def test_invoke_in_a_terminal_shows_an_aws_traceback_line_by_line():
    terminal = Terminal(["invoke", "app.boom", "--platform", "aws"], AWS, env=_env())
    try:
        assert terminal.wait() == 1
    finally:
        terminal.stop()
    shown = _assert_readable(
        terminal.data,
        "[ERROR] ValueError: bad input: None",
        "Traceback (most recent call last):",
        f'  File "{AWS / "app.py"}", line 59, in boom',
        '    raise ValueError("bad input: " + str(event.get("n")))',
    )
    # The error JSON on stdout is untouched.
    error = json.loads(next(row for row in shown if row.startswith("{")))
    assert error["errorType"] == "ValueError" and error["stackTrace"][0].startswith('  File "')


def test_serve_in_a_terminal_shows_lines_and_the_invoke_api_keeps_the_bytes():
    terminal = Terminal(
        ["serve", "boom=app.boom", "--platform", "aws", "--port", "0", "--no-watch"],
        AWS,
        env=_env(),
    )
    try:
        port = int(terminal.wait_for(r"on http://127\.0\.0\.1:(\d+)").group(1))
        # A plain request: its keep-alive connection is lent to the worker, which answers it.
        lent = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lent.request("GET", "/?n=1")
        answer = lent.getresponse()
        assert answer.status == 500 and answer.read()  # API Gateway's answer to an error
        assert max(len(socket_inodes(pid)) for pid in _worker_pids(terminal)) >= 2
        lent.close()
        terminal.wait_for(r"REPORT RequestId: ")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST",
            "/2015-03-31/functions/boom/invocations",
            body=b'{"n": 7}',
            headers={"X-Amz-Log-Type": "Tail"},
        )
        response = connection.getresponse()
        body = response.read()
        tail = base64.b64decode(response.getheader("X-Amz-Log-Result") or "")
        connection.close()
        terminal.wait_for(r"REPORT RequestId: (.|\n)*REPORT RequestId: ")
    finally:
        terminal.stop()
    assert response.getheader("X-Amz-Function-Error") == "Unhandled"
    assert json.loads(body)["errorMessage"] == "bad input: 7"
    # A program reading the log tail gets the record as the runtime wrote it.
    record = (
        "[ERROR] ValueError: bad input: 7\rTraceback (most recent call last):\r"
        f'\u00a0\u00a0File "{AWS / "app.py"}", line 59, in boom\r'
        '\u00a0\u00a0\u00a0\u00a0raise ValueError("bad input: " + str(event.get("n")))\n'
    )
    assert record.encode() in tail
    _assert_readable(
        terminal.data,
        "[ERROR] ValueError: bad input: None",  # the lent connection's request
        "[ERROR] ValueError: bad input: 7",
        "Traceback (most recent call last):",
        f'  File "{AWS / "app.py"}", line 59, in boom',
        '    raise ValueError("bad input: " + str(event.get("n")))',
    )


def test_an_aws_init_error_reads_as_lines_in_a_terminal():
    terminal = Terminal(
        ["serve", "syntax_bad.handler", "--platform", "aws", "--port", "0", "--no-watch"],
        AWS_BROKEN,
        env=_env(),
    )
    try:
        terminal.wait_for(r"init failed: Runtime\.UserCodeSyntaxError")
    finally:
        terminal.stop()
    _assert_readable(
        terminal.data,
        "Traceback (most recent call last):",
        f'  File "{AWS_BROKEN / "syntax_bad.py"}" Line 1',
        "    def handler(event, context)",
    )
    rows = screen(terminal.data)
    assert any(row.startswith("[ERROR] Runtime.UserCodeSyntaxError: ") for row in rows)


def test_status_json_keeps_the_record_and_stderr_shows_its_lines():
    runner = Runner(["boom=app.boom", "--platform", "aws", "--no-watch"], AWS, env=_env())
    try:
        status, _, _ = runner.request(
            "POST", "/2015-03-31/functions/boom/invocations", body=b'{"n": 3}'
        )
        assert status == 200
        report = runner.wait_for(lambda e: e["event"] == "report")
        lines = [e["line"] for e in runner.logs(report["requestId"])]
        runner.wait_stderr("REPORT RequestId: ")
        stderr = list(runner.stderr)
    finally:
        runner.stop()
    # --status-json: one log event, the line exactly as written.
    assert "[ERROR] ValueError: bad input: 3\rTraceback (most recent call last):\r" in (
        "\n".join(lines)
    )
    # stderr, even when it is not a terminal, is for people.
    assert "[ERROR] ValueError: bad input: 3" in stderr
    assert "Traceback (most recent call last):" in stderr
    assert not any("\r" in line for line in stderr)


def test_a_handlers_own_carriage_returns_show_as_lines_without_blanks(tmp_path: Path):
    (tmp_path / "main.py").write_text(
        "def handler(event, context):\n"
        "    print('\\r10%\\r50%\\r100%')  # a progress bar redrawn with a leading \\r\n"
        "    print('crlf line\\r')  # a \\r\\n line end\n"
        "    print('first\\rsecond')  # a multi-line entry, as Yandex's docs write one\n"
        "    return {'statusCode': 200}\n"
    )
    terminal = Terminal(["invoke", "main.handler", "--platform", "yandex"], tmp_path, env=_env())
    try:
        assert terminal.wait() == 0
    finally:
        terminal.stop()
    shown = _assert_readable(terminal.data)
    start = shown.index("10%")
    assert shown[start : start + 6] == ["10%", "50%", "100%", "crlf line", "first", "second"]


# --- Yandex load errors: the user's frames, as Python shows them --------------------------


def _python_says(module: str) -> str:
    """What Python itself prints for the module's failure, run as a script (no frames of
    anyone else's: no `<string>`, no runner)."""
    result = subprocess.run(
        [sys.executable, str(YANDEX_BROKEN / f"{module}.py")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
    )
    assert result.returncode == 1 and result.stderr
    return result.stderr


def _expected_trace(module: str) -> list[str]:
    """stackTrace's text: Python's report minus its header and its final exception line."""
    lines = _python_says(module).splitlines(keepends=True)
    if lines[0] == "Traceback (most recent call last):\n":
        lines = lines[1:]
    return lines[:-1]


@pytest.mark.parametrize("module", ["syntax_bad", "imports_broken", "raises_at_import"])
def test_invoke_shows_a_yandex_load_error_as_python_does(module: str):
    result = subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", f"{module}.handler"],
        cwd=YANDEX_BROKEN,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert "".join(error["stackTrace"]).splitlines(keepends=True) == _expected_trace(module)
    # The log: Python's own report, word for word, and nothing of ours in between.
    assert _python_says(module) in result.stderr
    assert not any(frame in result.stderr for frame in NOT_USER_FRAMES), result.stderr


def test_a_yandex_syntax_error_names_the_users_file_line_source_and_caret():
    result = subprocess.run(
        [sys.executable, "-m", "handlerlens.runner", "invoke", "syntax_bad.handler"],
        cwd=YANDEX_BROKEN,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    error = json.loads(result.stdout)
    assert error["errorType"] == "SyntaxError"
    assert error["errorMessage"] == "expected ':' (syntax_bad.py, line 3)"
    [location] = error["stackTrace"]
    file_line, source, caret = location.splitlines()
    assert file_line == f'  File "{YANDEX_BROKEN / "syntax_bad.py"}", line 3'
    assert source == "    def handler(event, context)"
    assert caret.strip() == "^" and len(caret) >= len(source)  # where the colon should be
    assert f"{location}SyntaxError: expected ':'\n" in result.stderr


@pytest.mark.parametrize("lend", [True, False], ids=["lending", "HANDLERLENS_LEND=0"])
def test_serve_shows_a_yandex_load_error_with_user_frames_only(lend: bool):
    runner = Runner(
        ["imports_broken.handler", "--platform", "yandex", "--no-watch"],
        YANDEX_BROKEN,
        env=_env(lend),
    )
    try:
        runner.wait_stderr("init failed")
        connection = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=30)
        connection.request("GET", "/?name=Ada")
        response = connection.getresponse()
        body = response.read()
        # A worker whose init failed is never lent a connection (lender.py): the supervisor
        # answers either way, from the error the worker reported at init.
        assert max(len(socket_inodes(pid)) for pid in runner.worker_pids()) < 2
        connection.close()
        report = runner.wait_for(lambda e: e["event"] == "report")
        runner.wait_stderr("REPORT RequestID: ")
        stderr = "\n".join(runner.stderr) + "\n"
        logs = "".join(e["line"] + "\n" for e in runner.logs(report["requestId"]))
    finally:
        runner.stop()
    assert response.status == 502 and response.getheader("X-Function-Error") == "true"
    error = json.loads(body)
    assert error["errorType"] == "SyntaxError"
    assert "".join(error["stackTrace"]).splitlines(keepends=True) == _expected_trace(
        "imports_broken"
    )
    # The terminal got Python's report at start-up, and nothing of ours in it.
    assert _python_says("imports_broken") in stderr
    assert not any(frame in stderr for frame in NOT_USER_FRAMES), stderr
    assert not any(frame in logs for frame in NOT_USER_FRAMES), logs
