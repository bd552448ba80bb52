"""The first problems and lenses are sent before pygls is imported (lsp/early_look.py): the same
payloads pygls would send, once each, and the server goes on as before behind them."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from handlerlens.core.problems import Position, Problem, Severity, Span
from handlerlens.lsp.convert import to_diagnostic
from handlerlens.lsp.main import build_server
from handlerlens.lsp.payloads import diagnostic_json, to_uri

REPO = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "handlerlens", "lsp"]

# Holds the import of lsprotocol.types (pygls cannot load without it) until the gate file
# exists: what arrives before that was sent without pygls. The module's execution waits, not
# the finder (a finder runs under the global import lock, which would hold every import).
GATE = """\
import importlib.util, os, sys, time


class GateLoader:
    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        while not os.path.exists(os.environ["HANDLERLENS_TEST_GATE"]):
            time.sleep(0.01)
        self.real.exec_module(module)


class Gate:
    def find_spec(self, name, path=None, target=None):
        if name != "lsprotocol.types":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        spec.loader = GateLoader(spec.loader)
        return spec


sys.meta_path.insert(0, Gate())
"""


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Wire:
    """A `handlerlens lsp` process and the messages it sends, read as they come."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=folder,
            env=env,
        )
        self.buffer = b""
        self.received: list[dict[str, Any]] = []

    def send(self, *messages: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"".join(map(_frame, messages)))  # all at once, as VS Code
        self.proc.stdin.flush()

    def until(self, wanted: Any, timeout: float = 30.0) -> dict[str, Any]:
        """The first message (received from now on or already) for which `wanted` holds."""
        for message in self.received:
            if wanted(message):
                return message
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    break
                chunk = os.read(fd, 1 << 16)
                assert chunk, "the server closed its output"
                self.buffer += chunk
                for message in self._parse():
                    self.received.append(message)
                    if wanted(message):
                        return message
        raise AssertionError(f"not received in {timeout} s; got {self.received}")

    def published(self, uri: str, wanted: Any = lambda d: True) -> list[dict[str, Any]]:
        """The diagnostics of the first publish for `uri` (received from now on or already)
        for which `wanted(diagnostics)` holds."""
        message = self.until(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and wanted(m["params"]["diagnostics"])
            )
        )
        return list(message["params"]["diagnostics"])

    def _parse(self) -> list[dict[str, Any]]:
        out = []
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            if len(rest) < length:
                break
            out.append(json.loads(rest[:length]))
            self.buffer = rest[length:]
        return out

    def close(self) -> str:
        """Shut the server down; its stderr."""
        try:
            self.send({"jsonrpc": "2.0", "id": 99, "method": "shutdown"})
            self.until(lambda m: m.get("id") == 99)
            self.send({"jsonrpc": "2.0", "method": "exit"})
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            assert self.proc.wait(timeout=30) == 0
        finally:
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                self.proc.stdin.close()
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stderr is not None and self.proc.stdout is not None
        try:
            return self.proc.stderr.read().decode()
        finally:
            self.proc.stderr.close()
            self.proc.stdout.close()


def _initialize(folder: Path) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "processId": None,
            "rootUri": to_uri(str(folder)),
            "workspaceFolders": [{"uri": to_uri(str(folder)), "name": folder.name}],
            "capabilities": {"workspace": {"codeLens": {"refreshSupport": True}}},
            "initializationOptions": {"clientCommands": True, "settings": {}},
        },
    }


def _opened(path: Path, text: str | None = None) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "textDocument/didOpen",
        "params": {
            "textDocument": {
                "uri": to_uri(str(path)),
                "languageId": "python",
                "version": 1,
                "text": path.read_text() if text is None else text,
            }
        },
    }


def _lenses(msg_id: int, path: Path) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "textDocument/codeLens",
        "params": {"textDocument": {"uri": to_uri(str(path))}},
    }


def _gated(tmp_path: Path, folder: Path) -> tuple[Wire, Path]:
    """A server in `folder` whose import of lsprotocol.types waits for the returned gate file."""
    (tmp_path / "sitecustomize.py").write_text(GATE)
    gate = tmp_path / "open"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HANDLERLENS_TEST_GATE": str(gate)}
    return Wire(folder, env), gate


def _hover(msg_id: int, path: Path) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "textDocument/hover",
        "params": {
            "textDocument": {"uri": to_uri(str(path))},
            "position": {"line": 0, "character": 0},
        },
    }


def _publishes(wire: Wire) -> list[dict[str, Any]]:
    return [
        m["params"] for m in wire.received if m.get("method") == "textDocument/publishDiagnostics"
    ]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "orders"
    shutil.copytree(REPO / "examples" / "orders", folder)
    return folder


def test_problems_and_lenses_come_before_pygls_and_match_its_own(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    app, template = folder / "app.py", folder / "template.yaml"
    wire, gate = _gated(tmp_path, folder)
    try:
        wire.send(_initialize(folder))
        wire.until(lambda m: m.get("id") == 1)
        # The editor's buffer, not the file on disk: create_order lost its `context`.
        buffer = app.read_text().replace("create_order(event, context)", "create_order(event)")
        assert buffer != app.read_text()
        wire.send(
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            _opened(app, buffer),
            _lenses(2, app),
        )
        # With lsprotocol held back: the template's misspelt handler, the buffer's handler
        # arity, and app.py's lenses.
        arity = wire.published(to_uri(str(app)))
        assert "handler-arity" in [d["code"] for d in arity]
        problem = wire.published(to_uri(str(template)))
        codes = [d["code"] for d in problem]
        assert "entry-point-function-missing" in codes
        early = wire.until(lambda m: m.get("id") == 2)["result"]
        titles = [lens["command"]["title"] for lens in early]
        assert titles == ["▶ Run handler", "Debug handler"]
        assert early[0]["command"]["command"] == "handlerlens.runHandler"
        assert early[0]["command"]["arguments"][0]["name"] == "CreateOrder"
        gate.touch()
        # pygls now: the same lenses for the same file, and nothing answered twice.
        # A hover ends the early look (it answers lenses only): pygls answers from here on.
        wire.send(_hover(3, app))
        wire.until(lambda m: m.get("id") == 3)
        wire.send(_lenses(4, app))
        again = wire.until(lambda m: m.get("id") == 4)
        assert again["result"] == early
        assert [m["id"] for m in wire.received if "id" in m] == [1, 2, 3, 4]
        # An edit is the server's as before: the buffer is the file on disk again.
        edited = app.read_text()
        wire.send(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didChange",
                "params": {
                    "textDocument": {"uri": to_uri(str(app)), "version": 2},
                    "contentChanges": [{"text": edited}],
                },
            }
        )
        wire.published(to_uri(str(app)), lambda ds: "handler-arity" not in [d["code"] for d in ds])
    finally:
        gate.touch()
        stderr = wire.close()
    assert "HandlerLens: before the LSP library loaded: " in stderr
    assert "1 lens request(s) answered" in stderr
    # Each file's problems were sent once: the server did not publish what the client had.
    sent = [(p["uri"], json.dumps(p["diagnostics"], sort_keys=True)) for p in _publishes(wire)]
    assert len(sent) == len(set(sent)), sent


def test_a_request_before_the_files_leaves_everything_to_pygls(tmp_path: Path) -> None:
    # A hover right behind `initialized`: the early look reads no further and publishes
    # nothing; pygls answers it all, in order, as without the early look.
    folder = _folder(tmp_path)
    app, template = folder / "app.py", folder / "template.yaml"
    wire = Wire(folder)
    try:
        wire.send(_initialize(folder))
        wire.until(lambda m: m.get("id") == 1)
        wire.send(
            {"jsonrpc": "2.0", "method": "initialized", "params": {}}, _hover(2, app), _opened(app)
        )
        wire.until(lambda m: m.get("id") == 2)
        wire.send(_lenses(3, app))
        lenses = wire.until(lambda m: m.get("id") == 3)["result"]
        assert [lens["command"]["title"] for lens in lenses] == ["▶ Run handler", "Debug handler"]
        wire.published(to_uri(str(template)))
    finally:
        stderr = wire.close()
    assert "before the LSP library loaded" not in stderr


def test_the_diagnostic_payload_is_lsprotocols() -> None:
    server = build_server()
    span = Span(Position(3, 4), Position(3, 19))
    problems = [
        Problem("/tmp/x/app.py", span, severity, "some-code", f"message {severity.name}")
        for severity in Severity
    ]
    problems.append(
        Problem(
            "/tmp/x/app.py",
            span,
            Severity.ERROR,
            "entry-point-function-missing",
            "with a related place, non-ASCII: ё",
            related=(("/tmp/x/template.yaml", Span(Position(9, 2), Position(9, 20)), "here"),),
        )
    )
    for problem in problems:
        theirs = json.loads(
            json.dumps(to_diagnostic(problem), default=server.protocol._serialize_message)
        )
        assert diagnostic_json(problem) == theirs


def test_a_file_of_no_folder_and_a_message_that_does_not_read_are_left_to_pygls(
    tmp_path: Path,
) -> None:
    # A file open outside every folder becomes a workspace of its own in the server: the early
    # look leaves the start to it. So does a message that is not JSON (pygls logs it and goes
    # on). Either way the answers are pygls', and right.
    folder = _folder(tmp_path)
    loose = tmp_path / "loose" / "index.py"
    loose.parent.mkdir()
    loose.write_text("def handler(event, context):\n    return {}\n")
    for before in ([_opened(loose)], []):
        wire = Wire(folder)
        try:
            wire.send(_initialize(folder))
            wire.until(lambda m: m.get("id") == 1)
            if not before:
                assert wire.proc.stdin is not None
                wire.proc.stdin.write(b"Content-Length: 9\r\n\r\n{not json")
            wire.send(
                {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                *before,
                _opened(folder / "app.py"),
                _lenses(2, folder / "app.py"),
            )
            lenses = wire.until(lambda m: m.get("id") == 2)["result"]
            assert [lens["command"]["title"] for lens in lenses] == [
                "▶ Run handler",
                "Debug handler",
            ]
            wire.published(to_uri(str(folder / "template.yaml")))
        finally:
            stderr = wire.close()
        assert "before the LSP library loaded" not in stderr


def test_a_file_changed_on_disk_while_pygls_loads_is_read_again(tmp_path: Path) -> None:
    # The early look reads the folder before the editor's file watching is registered (at
    # `initialized`, once pygls has loaded): a declaring file changed in between is read
    # again then, as a watched change would be.
    folder = _folder(tmp_path)
    app, template = folder / "app.py", folder / "template.yaml"
    wire, gate = _gated(tmp_path, folder)
    try:
        wire.send(_initialize(folder))
        wire.until(lambda m: m.get("id") == 1)
        wire.send({"jsonrpc": "2.0", "method": "initialized", "params": {}}, _opened(app))
        uri = to_uri(str(template))
        wire.published(uri, lambda d: d)
        time.sleep(0.05)  # a later modification time than the read's start, on any clock
        template.write_text(template.read_text().replace("app.list_order", "app.list_orders"))
        gate.touch()
        wire.published(uri, lambda d: not d)
    finally:
        gate.touch()
        wire.close()


def test_a_client_slow_to_say_initialized_is_served_as_before(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    app = folder / "app.py"
    wire = Wire(folder)
    try:
        wire.send(_initialize(folder))
        wire.until(lambda m: m.get("id") == 1)
        time.sleep(1.3)  # past the early look's wait for `initialized`
        wire.send(
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            _opened(app),
            _lenses(2, app),
        )
        lenses = wire.until(lambda m: m.get("id") == 2)["result"]
        assert [lens["command"]["title"] for lens in lenses] == ["▶ Run handler", "Debug handler"]
    finally:
        stderr = wire.close()
    assert "before the LSP library loaded" not in stderr


def test_what_is_in_the_pipe_is_read_without_waiting() -> None:
    # The look reads the lens requests already sent before it reads the folder (_drain):
    # a read "without waiting" must still take what the pipe holds.
    import io

    from handlerlens.lsp.early_wire import EarlyWire

    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, _frame({"jsonrpc": "2.0", "method": "$/setTrace", "params": {}}))
        wire = EarlyWire(read_fd, io.BytesIO(), b"", 0)
        assert wire.message(0.0) == {"jsonrpc": "2.0", "method": "$/setTrace", "params": {}}
        assert wire.message(0.0) is None
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_file_opened_while_pygls_loads_gets_its_problems_and_lenses(tmp_path: Path) -> None:
    # The folder is read and pygls still loading (held here): another Python file opened now
    # is read as the server's didOpen reads it, its buffer first, and its lenses answered.
    folder = tmp_path / "examples"
    shutil.copytree(REPO / "examples", folder)
    app, main = folder / "orders" / "app.py", folder / "greeter" / "main.py"
    wire, gate = _gated(tmp_path, folder)
    try:
        wire.send(_initialize(folder))
        wire.until(lambda m: m.get("id") == 1)
        wire.send({"jsonrpc": "2.0", "method": "initialized", "params": {}}, _opened(app))
        wire.published(to_uri(str(folder / "orders" / "template.yaml")))
        # The buffer: a handler with one parameter (the file on disk has two).
        buffer = main.read_text().replace("(event, context)", "(event)", 1)
        assert buffer != main.read_text()
        wire.send(_opened(main, buffer), _lenses(2, main))
        # (the folder's read published it empty: the file on disk)
        arity = wire.published(to_uri(str(main)), lambda d: d)
        assert "handler-arity" in [d["code"] for d in arity]
        lenses = wire.until(lambda m: m.get("id") == 2)["result"]
        assert [lens["command"]["title"] for lens in lenses] == ["▶ Run handler", "Debug handler"]
        assert not gate.exists()  # all of it before pygls could load
    finally:
        gate.touch()
        stderr = wire.close()
    assert "1 lens request(s) answered" in stderr
