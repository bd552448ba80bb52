"""`initialize` is answered before pygls is imported (lsp/early_initialize.py): the answer is
the one pygls would give, sent once, and the server goes on as before behind it."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp.clients
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities

from handlerlens.lsp.early_initialize import initialize_result
from handlerlens.lsp.main import build_server

CLIENTS = sorted(
    p.stem.replace("_v", "@v").replace("_", "-")
    for p in Path(pytest_lsp.clients.__file__).parent.glob("*.json")
)
SERVER = [sys.executable, "-m", "handlerlens", "lsp"]


def _pygls_answer(params: dict[str, Any]) -> Any:
    """What pygls answers `initialize` with `params`, as JSON, on a server with every feature."""
    server = build_server()
    protocol = server.protocol
    structured = protocol._converter.structure(params, lsp.InitializeParams)
    steps = protocol.lsp_initialize(structured)
    handler, args, _ = next(steps)
    handler(*args)
    try:
        steps.send(None)
    except StopIteration as done:
        return json.loads(json.dumps(done.value, default=protocol._serialize_message))
    raise AssertionError("lsp_initialize did not finish")


def _params(capabilities: Any) -> dict[str, Any]:
    return {"processId": None, "rootUri": None, "capabilities": capabilities}


def test_the_collection_of_clients_is_there() -> None:
    assert len(CLIENTS) >= 5 and any(c.startswith("visual-studio-code") for c in CLIENTS)


@pytest.mark.parametrize("client", CLIENTS)
def test_the_early_answer_is_pygls_answer_for_every_known_client(client: str) -> None:
    caps = json.loads(json.dumps(client_capabilities(client), default=_unstructure))
    params = _params(caps)
    # A feature or command added (or its options changed) without the same change to
    # CAPABILITIES in lsp/early_initialize.py fails here.
    assert initialize_result(params) == _pygls_answer(params), "update early_initialize.py"


@pytest.mark.parametrize(
    "capabilities",
    [
        {},
        {"general": {"positionEncodings": ["utf-32", "utf-8"]}},
        {"general": {"positionEncodings": ["utf-7"]}},
        {"textDocument": {"synchronization": {"willSave": True, "willSaveWaitUntil": False}}},
        {"textDocument": {"synchronization": {"willSave": False}}},
    ],
)
def test_the_early_answer_follows_what_the_client_says_as_pygls_does(
    capabilities: dict[str, Any],
) -> None:
    params = _params(capabilities)
    assert initialize_result(params) == _pygls_answer(params)


def _unstructure(value: Any) -> Any:
    from lsprotocol.converters import get_converter

    return get_converter().unstructure(value)


# -- a real server over a pipe -----------------------------------------------------------------


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _messages(raw: bytes) -> list[dict[str, Any]]:
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        out.append(json.loads(rest[:length]))
        raw = rest[length:]
    return out


SESSION = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "processId": None,
            "rootUri": None,
            "capabilities": {"general": {"positionEncodings": ["utf-8"]}},
            "initializationOptions": {"settings": {"platform": "gcp"}},
        },
    },
    {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
    {"jsonrpc": "2.0", "method": "exit"},
]


def _session(tmp_path: Path, stdin: Any, data: bytes | None) -> list[dict[str, Any]]:
    log = tmp_path / "server.log"
    done = subprocess.run(
        [*SERVER, "--log-file", str(log)],
        input=data,
        stdin=stdin,
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert "answered early" not in log.read_text()  # pygls' own answer was the same
    return _messages(done.stdout)


@pytest.mark.parametrize("transport", ["pipe", "file"])
def test_initialize_is_answered_once_and_the_session_goes_on(
    tmp_path: Path, transport: str
) -> None:
    # Everything written at once, as a client that does not wait would: the early reader
    # must hand pygls every byte after `initialize`. A file as stdin is read by pygls' own
    # reader, without the early answer: the same conversation.
    data = b"".join(map(_frame, SESSION))
    if transport == "pipe":
        messages = _session(tmp_path, None, data)
    else:
        (tmp_path / "in").write_bytes(data)
        with open(tmp_path / "in", "rb") as stdin:
            messages = _session(tmp_path, stdin, None)
    answers = [m for m in messages if "id" in m]
    assert [m["id"] for m in answers] == [1, 2]
    assert answers[0]["result"] == initialize_result(SESSION[0]["params"])
    assert answers[0]["result"]["capabilities"]["positionEncoding"] == "utf-8"
    assert answers[1]["result"] is None
    shown = [m["params"]["message"] for m in messages if m.get("method") == "window/showMessage"]
    assert shown == [
        "HandlerLens: handlerlens.platform must be one of auto, yandex, aws; got 'gcp', "
        "using 'auto'."
    ]


def test_a_first_message_that_is_not_initialize_is_left_to_pygls(tmp_path: Path) -> None:
    # A notification before `initialize` (no client should, pygls ignores it): nothing is
    # answered early, pygls answers `initialize` itself, the same.
    data = _frame({"jsonrpc": "2.0", "method": "$/early", "params": {}}) + b"".join(
        map(_frame, SESSION)
    )
    answers = [m for m in _session(tmp_path, None, data) if "id" in m]
    assert [m["id"] for m in answers] == [1, 2]
    assert answers[0]["result"] == initialize_result(SESSION[0]["params"])


GATE = """\
import os, sys, time


class Gate:
    \"\"\"Holds the import of lsprotocol.types (which pygls needs) until the gate file exists.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name == "lsprotocol.types":
            while not os.path.exists(os.environ["HANDLERLENS_TEST_GATE"]):
                time.sleep(0.01)
        return None


sys.meta_path.insert(0, Gate())
"""


def test_the_answer_comes_before_pygls_is_imported(tmp_path: Path) -> None:
    # lsprotocol's types (pygls cannot load without them) are held back until the answer has
    # arrived: a server that needed them first would never answer.
    (tmp_path / "sitecustomize.py").write_text(GATE)
    gate = tmp_path / "open"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HANDLERLENS_TEST_GATE": str(gate)}
    with subprocess.Popen(
        [*SERVER, "--log-file", str(tmp_path / "server.log")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    ) as proc:
        rest = _talk_through_the_gate(proc, gate)
    assert [m["id"] for m in rest if "id" in m] == [2]


def _talk_through_the_gate(proc: subprocess.Popen[bytes], gate: Path) -> list[dict[str, Any]]:
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_frame(SESSION[0]))
        proc.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "no answer while lsprotocol.types was held"
        first = proc.stdout.read1(65536)
        assert _messages(first)[0]["id"] == 1
        gate.touch()
        for message in SESSION[1:]:
            proc.stdin.write(_frame(message))
        proc.stdin.close()
        rest = _messages(proc.stdout.read())
        assert proc.wait(timeout=60) == 0
        return rest
    finally:
        gate.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- the reader itself, over a real pipe ---------------------------------------------------------


def _read_through_pipe(data: bytes, piece: int) -> tuple[Any, bytes]:
    """`answer_initialize` on a pipe written `piece` bytes at a time (then closed)."""
    import io
    import threading

    from handlerlens.lsp.early_initialize import answer_initialize

    read_fd, write_fd = os.pipe()

    def write() -> None:
        for i in range(0, len(data), piece):
            os.write(write_fd, data[i : i + piece])
        os.close(write_fd)

    writer = threading.Thread(target=write)
    writer.start()
    out = io.BytesIO()
    with open(read_fd, "rb", buffering=0) as stdin:
        got = answer_initialize(stdin, out)  # type: ignore[arg-type]
        # Drain what the reader left, as pygls would, before closing our end: closing it
        # while the writer still sends the next message byte by byte is a BrokenPipeError in
        # the writer (seen under load), which says nothing about the reader.
        while stdin.read(1 << 16):
            pass
    writer.join()
    return got, out.getvalue()


@pytest.mark.parametrize("piece", [1, 7, 1 << 16])
def test_a_message_arriving_in_pieces_is_answered_and_every_byte_handed_on(piece: int) -> None:
    from handlerlens.lsp.early_initialize import Answered

    after = _frame(SESSION[1])
    data = _frame(SESSION[0]) + after
    got, written = _read_through_pipe(data, piece)
    assert isinstance(got, Answered)
    assert got.msg_id == 1
    assert data.startswith(got.consumed) and len(got.consumed) >= len(_frame(SESSION[0]))
    (answer,) = _messages(written)
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": got.result}


@pytest.mark.parametrize(
    "data",
    [
        b"",  # the client left at once
        b"Content-Length: 5\r\n\r\n{}",  # input ends inside the body
        b"Content-Length: x\r\n\r\n{}",
        _frame({"jsonrpc": "2.0", "method": "initialize", "params": {}}),  # no id: not a request
        b"Content-Length: 9\r\n\r\nnot json!",
    ],
)
def test_anything_else_is_handed_on_unanswered(data: bytes) -> None:
    got, written = _read_through_pipe(data, 3)
    assert got == data
    assert written == b""
