"""Faults under the debugger: save while paused, a crash, the editor leaving and coming back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.debug.conftest import BREAK_LINE, Debugged, handler_source, start_debugged
from tests.debug.dap import INITIALIZE_ARGS, Editor, Session
from tests.runner.harness import _processes, wait_gone
from tests.runner.terminal import Terminal


@pytest.mark.timeout(60)
def test_a_save_while_paused_replaces_the_worker_and_the_paused_request_gets_an_error(
    debugged: Debugged,
):
    editor = debugged.editor
    thread, outcome = debugged.invoke_later({"name": "paused"})
    stop = editor.wait_stop()
    time.sleep(0.2)  # the runner learns of the pause within its 50 ms poll
    mark = debugged.save(handler_source("v1"))
    thread.join(10)
    status, body = outcome[0]
    assert status == 200  # the Invoke API answers function errors with 200 …
    assert body["errorType"] == "Runner"  # … and the error as the body
    assert "reloaded" in body["errorMessage"] and "paused in the debugger" in body["errorMessage"]
    assert debugged.wait_reloaded(mark)["ok"] is True
    assert stop.session.wait_event("terminated", timeout=10)
    assert debugged.hit({"name": "after"}) == (200, {"version": "v1", "hello": "after"})


@pytest.mark.timeout(60)
def test_a_save_while_import_time_code_is_paused_does_not_wedge_reloads(project: Path):
    import_line = 4  # VERSION = …
    served = start_debugged(project, {str(project / "main.py"): [import_line]})
    try:
        editor = served.editor
        editor.wait_stop(0)
        editor.resume(editor.stops[0])
        served.runner.wait_for(lambda e: e["event"] == "reloaded")
        served.save(handler_source("v1"))
        paused = editor.wait_stop(1)
        assert paused.line == import_line
        time.sleep(0.2)
        mark = served.save(handler_source("v2"))
        fresh = editor.wait_stop(2)
        assert fresh.line == import_line
        assert editor.variables(fresh, "Globals").get("VERSION") is None  # not yet assigned
        editor.resume(fresh)
        assert served.wait_reloaded(mark)["ok"] is True
        assert served.invoke({"name": "x"}) == (200, {"version": "v2", "hello": "x"})
    finally:
        served.editor.close()
        served.runner.stop()


@pytest.mark.timeout(60)
def test_a_worker_crash_while_attached_is_a_function_error_and_the_next_one_stops(
    debugged: Debugged,
):
    editor = debugged.editor
    editor.set_breakpoints(debugged.main, [])
    status, body = debugged.invoke({"crash": True})
    assert status == 200 and body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    editor.set_breakpoints(debugged.main, [BREAK_LINE])
    assert debugged.hit({"name": "again"}) == (200, {"version": "v0", "hello": "again"})


@pytest.mark.timeout(90)
def test_the_editor_can_leave_and_come_back(debugged: Debugged):
    assert debugged.hit({"name": "first"})[0] == 200
    debugged.editor.disconnect()
    # Without an editor the function keeps serving, reloads included, and never stops.
    assert debugged.invoke({"name": "alone"}) == (200, {"version": "v0", "hello": "alone"})
    mark = debugged.save(handler_source("v1"))
    assert debugged.wait_reloaded(mark)["ok"] is True
    assert debugged.invoke({"name": "alone"}) == (200, {"version": "v1", "hello": "alone"})
    # A new editor on the same port gets every live worker as a child session again.
    debugged.editor = Editor(debugged.debug_port, {debugged.main: [BREAK_LINE]})
    debugged.editor.attach()
    debugged.editor.wait_children(2)
    assert debugged.hit({"name": "back"}) == (200, {"version": "v1", "hello": "back"})
    mark = debugged.save(handler_source("v2"))
    assert debugged.wait_reloaded(mark)["ok"] is True
    assert debugged.hit({"name": "reloaded"}) == (200, {"version": "v2", "hello": "reloaded"})


@pytest.mark.timeout(60)
def test_an_interpreter_without_debugpy_is_debugged_with_the_runners(project: Path):
    python = "/usr/bin/python3"
    if not os.path.exists(python) or os.system(f"{python} -c 'import debugpy' 2>/dev/null") == 0:
        pytest.skip("needs an interpreter without debugpy at /usr/bin/python3")
    served = start_debugged(
        project, {str(project / "main.py"): [BREAK_LINE]}, extra=["--python", python]
    )
    try:
        assert served.hit({"name": "system"}) == (200, {"version": "v0", "hello": "system"})
    finally:
        served.editor.close()
        served.runner.stop()


@pytest.mark.timeout(60)
def test_stopping_leaves_no_worker_or_adapter_behind_and_no_debugger_noise(project: Path):
    served = start_debugged(project, {str(project / "main.py"): [BREAK_LINE]})
    try:
        assert served.hit({"name": "x"})[0] == 200
        workers = served.runner.worker_pids()
        assert len(workers) == 2  # the instance and the standby
        # The adapter debugpy.listen() spawned shares its access token with the workers.
        token = _cmdline(workers[0]).split("--access-token ")[1].split()[0]
        adapters = [
            pid for pid, _ in _processes() if f"--server-access-token {token}" in _cmdline(pid)
        ]
        assert len(adapters) == 1
    finally:
        served.editor.close()
        assert served.runner.stop() == 0
    assert wait_gone(workers + adapters) == []
    lines = served.runner.stderr + [
        e.get("line", "") for e in served.runner.events if e["event"] == "log"
    ]
    assert not [line for line in lines if "frozen" in line or "pydevd" in line.lower()]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@pytest.mark.timeout(30)
def test_a_taken_debug_port_is_a_clear_error(project: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "handlerlens.runner", "serve", "main.handler"]
            + ["--root", str(project), "--port", "0", "--debug-port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert f"cannot listen for the debugger on 127.0.0.1:{port}" in done.stderr
    assert "Pick another --debug-port" in done.stderr


def _attach_parent_only(port: int) -> Session:
    """A DAP client that attaches to the runner but knows nothing of child sessions (neither
    `startDebugging` nor debugpy's `debugpyAttach` event): no worker is ever attached."""
    session = Session("127.0.0.1", port, "parent-only")
    arguments = {k: v for k, v in INITIALIZE_ARGS.items() if k != "supportsStartDebuggingRequest"}
    session.request("initialize", arguments)
    attach = session.send_request("attach", {"subProcess": True, "justMyCode": True})
    session.wait_event("initialized")
    session.request("configurationDone", {})
    session.response(attach)
    return session


@pytest.mark.timeout(90)
def test_ctrl_c_stops_the_runner_while_a_worker_waits_for_its_child_session(project: Path):
    # The worker waits for the editor to attach it, for ever with a client that never does;
    # Ctrl+C used to leave `serve --debug` running there, not even started.
    terminal = Terminal(
        ["serve", "main.handler", "--platform", "yandex", "--port", "0", "--no-watch", "--debug"],
        project,
        keyboard=True,
    )
    client: Session | None = None
    try:
        terminal.wait_for(r"serving .* on http://127\.0\.0\.1:\d+")
        debug_port = int(terminal.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        client = _attach_parent_only(debug_port)
        terminal.wait_for("debugger attached; starting the function")
        terminal.settle(1.0)
        below = terminal.descendants()
        assert below  # the workers waiting for their session, and debugpy's adapter
        pressed = time.monotonic()
        terminal.ctrl_c()
        assert terminal.wait(30) == 130, terminal.text
        assert time.monotonic() - pressed < 10, terminal.text
        assert terminal.text.rstrip().endswith("handlerlens: stopped"), terminal.text
        assert "Traceback" not in terminal.text
        assert wait_gone(below) == []
    finally:
        if client is not None:
            client.close()
        terminal.stop()
