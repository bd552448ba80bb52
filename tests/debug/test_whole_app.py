"""`serve --debug` on a whole app: every function behind its gateway routes, one debugger.

A SAM app with two functions in two modules of one code root, one behind a REST API and one
behind an HTTP API. One attached editor: a request to each route stops at that function's
breakpoint with the gateway's event in the frame; a save of one module reloads that function
alone and its worker stops again at the moved breakpoint, with no new attach; each function's
worker (a debuggee, a child session) starts only when a request first needs it, and gets its
breakpoints before its module is imported.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.debug.dap import Editor, Session, Stop, _bp_args
from tests.runner.harness import Runner

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: src/
    Timeout: 3
Resources:
  GetItem:
    Type: AWS::Serverless::Function
    Properties:
      Handler: items.handler
      Events:
        Get:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: get
  PutThing:
    Type: AWS::Serverless::Function
    Properties:
      Handler: things.handler
      Events:
        Put:
          Type: HttpApi
          Properties:
            Path: /things
            Method: post
"""

# Line numbers matter: the tests set breakpoints on them.
ITEMS = """\
import json

VERSION = "v0"


def handler(event, context):
    item = event["pathParameters"]["id"]
    return {"statusCode": 200, "body": json.dumps({"item": item, "version": VERSION})}
"""
ITEMS_LINE = 7

THINGS = """\
import json

CALLS = []


def handler(event, context):
    CALLS.append(event["routeKey"])
    return {"statusCode": 201, "body": json.dumps({"calls": len(CALLS)})}
"""
THINGS_IMPORT_LINE = 3
THINGS_LINE = 7


def items_source(version: str, shift: int = 0) -> str:
    head, sep, tail = ITEMS.partition("def handler(")
    padding = "".join(f"# edit {i}\n" for i in range(shift))
    return (head + padding + sep + tail).replace('"v0"', f'"{version}"')


class App:
    """The app's runner under --debug and the editor attached to it."""

    def __init__(self, project: Path, breakpoints: dict[str, list[int]], *options: str) -> None:
        self.project = project
        self.runner = Runner(["--debug", *options], project)
        try:
            listening = self.runner.wait_for(lambda e: e["event"] == "listening")
            self.editor = Editor(int(listening["debugPort"]), breakpoints)
            self.editor.attach()
        except BaseException:
            self.runner.stop()
            raise

    def path(self, name: str) -> str:
        return str(self.project / "src" / name)

    def send_later(
        self, method: str, target: str, body: bytes | None = None
    ) -> tuple[threading.Thread, list[tuple[int, Any]]]:
        """A request on a thread (it waits while paused); the thread and its answer."""
        answer: list[tuple[int, Any]] = []

        def send() -> None:
            status, _, data = self.runner.request(method, target, body, timeout=60)
            answer.append((status, json.loads(data) if data else None))

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        return thread, answer

    def stop_at(self, mark: int, path: str, line: int, name: str = "handler") -> Stop:
        stop = self.editor.wait_stop(mark, timeout=60)
        assert (stop.reason, stop.path, stop.line, stop.name) == ("breakpoint", path, line, name)
        return stop

    def event_of(self, stop: Stop) -> dict[str, str]:
        """The frame's `event`, as the editor's Variables view shows its members."""
        event = self.editor.variables(stop)["event"]
        return {k: v["value"] for k, v in self.editor.children_of(event, stop.session).items()}

    def finish(self, stop: Stop, thread: threading.Thread, answer: list[Any]) -> tuple[int, Any]:
        self.editor.resume(stop)
        thread.join(30)
        assert len(answer) == 1
        return answer[0]

    def close(self) -> None:
        self.editor.close()
        self.runner.stop()


def _pid(stop: Stop) -> str:
    found = stop.session.request(
        "evaluate",
        {
            "expression": "__import__('os').getpid()",
            "frameId": stop.frames[0]["id"],
            "context": "repl",
        },
    )
    return str(found["result"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "items.py").write_text(ITEMS)
    (tmp_path / "src" / "things.py").write_text(THINGS)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


@pytest.mark.timeout(150)
def test_breakpoints_in_two_functions_stop_on_their_routes_and_again_after_a_save(
    project: Path,
) -> None:
    items, things = str(project / "src" / "items.py"), str(project / "src" / "things.py")
    app = App(project, {items: [ITEMS_LINE], things: [THINGS_IMPORT_LINE, THINGS_LINE]})
    editor = app.editor
    sessions: list[Session] = []
    try:
        app.runner.wait_stderr("debugger attached")
        assert app.runner.wait_stderr("each function starts when a request first needs it")
        # Nothing started yet: no function's worker is a debug session before its request.
        assert editor.children == []

        # The REST route stops in GetItem, with API Gateway's REST event in the frame.
        thread, answer = app.send_later("GET", "/items/7?q=1")
        stop = app.stop_at(0, items, ITEMS_LINE)
        event = app.event_of(stop)
        assert event["'resource'"] == "'/items/{id}'"
        assert event["'httpMethod'"] == "'GET'"
        assert json.loads(event["'pathParameters'"].replace("'", '"')) == {"id": "7"}
        assert [(f["name"], f["source"]["path"]) for f in stop.frames] == [("handler", items)]
        assert app.finish(stop, thread, answer) == (200, {"item": "7", "version": "v0"})
        assert len(editor.children) == 1  # GetItem's worker alone
        sessions.append(stop.session)

        # The HTTP API route starts PutThing now: its breakpoints came before its import.
        thread, answer = app.send_later("POST", "/things", b'{"a": 1}')
        init = app.stop_at(1, things, THINGS_IMPORT_LINE, "<module>")
        editor.resume(init)
        stop = app.stop_at(2, things, THINGS_LINE)
        event = app.event_of(stop)
        assert event["'routeKey'"] == "'POST /things'"
        assert event["'version'"] == "'2.0'"
        things_pid = _pid(stop)
        assert app.finish(stop, thread, answer) == (201, {"calls": 1})
        assert len(editor.children) == 2
        assert stop.session is not sessions[0]

        # A save of items.py with lines inserted above the breakpoint: the editor moves it and
        # sends the new line; GetItem alone reloads and stops there, with no new attach.
        mark = len(app.runner.events)
        (project / "src" / "items.py").write_text(items_source("v1", shift=2))
        editor.set_breakpoints(items, [ITEMS_LINE + 2])
        reloaded = app.runner.wait_for(
            lambda e: e["event"] == "reloaded" and e["function"] == "GetItem", 30, mark
        )
        assert reloaded["ok"] is True
        thread, answer = app.send_later("GET", "/items/8")
        stop = app.stop_at(3, items, ITEMS_LINE + 2)
        assert json.loads(app.event_of(stop)["'pathParameters'"].replace("'", '"')) == {"id": "8"}
        assert app.finish(stop, thread, answer) == (200, {"item": "8", "version": "v1"})

        # PutThing kept its warm worker: its global list holds the first call, and it stopped
        # in the same process.
        thread, answer = app.send_later("POST", "/things", b"{}")
        stop = app.stop_at(4, things, THINGS_LINE)
        assert _pid(stop) == things_pid
        assert app.finish(stop, thread, answer) == (201, {"calls": 2})
        assert not [
            e
            for e in app.runner.events[mark:]
            if e["event"] in ("reloading", "reloaded") and e.get("function") == "PutThing"
        ]
        assert editor.errors == []
    finally:
        app.close()


@pytest.mark.timeout(90)
def test_a_request_before_the_editor_attached_starts_its_function_alone_once_it_has(
    project: Path,
) -> None:
    items = str(project / "src" / "items.py")
    runner = Runner(["--debug"], project)
    editor: Editor | None = None
    try:
        debug_port = int(runner.wait_for(lambda e: e["event"] == "listening")["debugPort"])
        assert runner.wait_stderr("the functions start once one is attached, each on its first")
        answer: list[tuple[int, Any]] = []

        def send() -> None:
            status, _, data = runner.request("GET", "/items/5", timeout=60)
            answer.append((status, json.loads(data)))

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        runner.wait_stderr(f"waiting for a debugger on 127.0.0.1:{debug_port}")
        thread.join(0.5)
        assert answer == []
        editor = Editor(debug_port, {items: [ITEMS_LINE]})
        editor.attach()
        stop = editor.wait_stop(0, timeout=60)
        assert (stop.path, stop.line, stop.name) == (items, ITEMS_LINE, "handler")
        editor.resume(stop)
        thread.join(30)
        assert answer == [(200, {"item": "5", "version": "v0"})]
        # PutThing had no request: no worker of its own, so one child session in all.
        assert len(editor.children) == 1
        assert [e["function"] for e in runner.events if e["event"] == "reloaded"] == ["GetItem"]
    finally:
        if editor is not None:
            editor.close()
        assert runner.stop() == 0


@pytest.mark.timeout(120)
def test_a_functions_first_start_after_a_save_waits_for_the_moved_breakpoints(
    project: Path,
) -> None:
    """A save that moves a breakpoint in a function not started yet, then its first request:
    the editor re-sends the moved line to the runner's session at once and to the new
    worker's session a second later (a loaded machine's order); the worker, whose session
    attached with the old line, waits for the new one before importing the module, as a
    reload's does. With the old line, `def handler` (which the save moved onto it) would stop
    the import instead. (Without watching: a function not started has nothing to reload, and
    the watcher's reload, had it come after this request's start, would be another worker.)"""
    things = str(project / "src" / "things.py")
    app = App(project, {things: [THINGS_LINE]}, "--no-watch")
    editor = app.editor
    try:
        app.runner.wait_stderr("each function starts when a request first needs it")
        assert editor.children == []
        # One line inserted above `def handler`: the def is now on the breakpoint's old line.
        head, sep, tail = THINGS.partition("def handler(")
        (project / "src" / "things.py").write_text(head + "# edited\n" + sep + tail)
        assert (project / "src" / "things.py").read_text().splitlines()[THINGS_LINE - 1] == (
            "def handler(event, context):"
        )
        assert editor.parent is not None
        editor.parent.request("setBreakpoints", _bp_args(things, [THINGS_LINE + 1]))
        thread, answer = app.send_later("POST", "/things", b"{}")
        child = editor.wait_children(1, timeout=30)[0]
        time.sleep(1.0)
        child.request("setBreakpoints", _bp_args(things, [THINGS_LINE + 1]))
        editor.breakpoints[things] = [THINGS_LINE + 1]
        stop = app.stop_at(0, things, THINGS_LINE + 1)
        assert app.finish(stop, thread, answer) == (201, {"calls": 1})
        assert len(editor.stops) == 1
        assert editor.errors == []
    finally:
        app.close()
