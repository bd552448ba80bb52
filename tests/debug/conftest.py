"""A runner under `--debug` with an editor attached, on a handler project written per test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.debug.dap import Editor
from tests.runner.harness import Runner

# The handler project every test starts from. Line numbers matter: tests set breakpoints
# on them (`BREAK_LINE` is `name = …`, `IMPORT_LINE` runs at import).
HANDLER = """\
import os
import time

VERSION = "v0"
LOADED_AT = time.time()


def handler(event, context):
    name = event.get("name", "world")
    if event.get("crash"):
        os._exit(3)
    if event.get("remaining"):
        return {"remaining": context.get_remaining_time_in_millis(), "version": VERSION}
    return {"version": VERSION, "hello": name}
"""
IMPORT_LINE = 5
BREAK_LINE = 9


def handler_source(version: str, shift: int = 0) -> str:
    """The handler at `version`, with `shift` comment lines pushed in above `handler`."""
    head, sep, tail = HANDLER.partition("def handler(")
    padding = "".join(f"# edit {i}\n" for i in range(shift))
    return (head + padding + sep + tail).replace('"v0"', f'"{version}"')


@dataclass
class Debugged:
    """A runner started with --debug, its project, and the editor attached to it."""

    runner: Runner
    project: Path
    editor: Editor
    debug_port: int

    @property
    def main(self) -> str:
        return str(self.project / "main.py")

    def invoke(self, event: dict[str, Any], timeout: float = 30) -> tuple[int, Any]:
        """POST `event` to the Invoke API; (status, parsed body)."""
        status, _, body = self.runner.request(
            "POST",
            "/2015-03-31/functions/function/invocations",
            json.dumps(event).encode(),
            {"Content-Type": "application/json"},
            timeout=timeout,
        )
        return status, json.loads(body) if body else None

    def invoke_later(self, event: dict[str, Any]) -> tuple[threading.Thread, list[tuple[int, Any]]]:
        """Invoke on a thread (the request waits while paused); the thread and its outcome."""
        outcome: list[tuple[int, Any]] = []
        thread = threading.Thread(target=lambda: outcome.append(self.invoke(event)), daemon=True)
        thread.start()
        return thread, outcome

    def hit(self, event: dict[str, Any], line: int = BREAK_LINE) -> tuple[int, Any]:
        """Invoke, expect a stop on `line` of main.py, continue; the response."""
        mark = len(self.editor.stops)
        thread, outcome = self.invoke_later(event)
        stop = self.editor.wait_stop(mark)
        assert (stop.path, stop.line) == (self.main, line)
        self.editor.resume(stop)
        thread.join(15)
        assert len(outcome) == 1
        return outcome[0]

    def save(self, text: str) -> int:
        """Write main.py as an editor's save does; the event index to wait from."""
        mark = len(self.runner.events)
        (self.project / "main.py").write_text(text)
        return mark

    def wait_reloaded(self, mark: int, timeout: float = 20) -> dict[str, Any]:
        """The `reloaded` event that follows a save."""
        return self.runner.wait_for(lambda e: e["event"] == "reloaded", timeout=timeout, start=mark)


def start_debugged(
    project: Path,
    breakpoints: dict[str, list[int]] | None = None,
    extra: list[str] | None = None,
) -> Debugged:
    """Serve main.handler under --debug and attach an editor with `breakpoints`."""
    runner = Runner(
        ["main.handler", "--platform", "aws", "--debug", "--timeout", "5", *(extra or [])],
        project,
    )
    try:
        listening = runner.wait_for(lambda e: e["event"] == "listening")
        port = int(listening["debugPort"])
        editor = Editor(port, breakpoints)
        editor.attach()
    except BaseException:
        runner.stop()
        raise
    return Debugged(runner, project, editor, port)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "main.py").write_text(handler_source("v0"))
    return root


@pytest.fixture
def debugged(project: Path) -> Iterator[Debugged]:
    """The runner under --debug with a breakpoint on BREAK_LINE, its function loaded.

    Loaded first: a test that saves right away would otherwise race the first init (under
    debugpy it takes most of a second), and take its `reloaded` event for the save's.
    """
    served = start_debugged(project, {str(project / "main.py"): [BREAK_LINE]})
    try:
        served.wait_reloaded(0)
    except BaseException:
        served.editor.close()
        served.runner.stop()
        raise
    yield served
    served.editor.close()
    served.runner.stop()
