"""The supervisor↔worker protocol (worker/protocol.py): both sides name their messages from
it, and every message one side sends has a handler on the other."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from handlerlens.worker import protocol

SERVER = Path(__file__).resolve().parents[2] / "server" / "handlerlens"
# A worker serving a lent connection hands the request to its own runtime as the supervisor
# would: the one supervisor's message a worker module builds.
WORKER_BUILDS = {("direct.py", protocol.INVOKE)}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _name(node: ast.expr, where: str) -> str:
    """The protocol name `node` spells (`protocol.RESULT`); a literal fails the test."""
    assert (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "protocol"
    ), f"{where}: a message's op must be a name from worker/protocol.py, not {ast.unparse(node)}"
    value = getattr(protocol, node.attr)
    assert isinstance(value, str)
    return value


def _sent(folder: str) -> set[tuple[str, str]]:
    """(file, op) of every message built in `folder`: `{"op": …}` and `x["op"] = …`."""
    found = set()
    for path in sorted((SERVER / folder).glob("*.py")):
        for node in ast.walk(_tree(path)):
            where = f"{folder}/{path.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "op":
                        found.add((path.name, _name(value, where)))
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.slice, ast.Constant)
                        and target.slice.value == "op"
                    ):
                        found.add((path.name, _name(node.value, where)))
    return found


def _handler_table(path: Path, target: str) -> set[str]:
    """The keys of the dict literal assigned to `target` (`handlers`, `self._handlers`)."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            if any(ast.unparse(t) == target for t in node.targets):
                return {_name(key, path.name) for key in node.value.keys if key is not None}
    raise AssertionError(f"no {target} = {{…}} in {path}")


def test_every_message_the_worker_sends_is_one_the_runner_handles():
    sent = _sent("worker")
    assert {op for _, op in sent} >= {protocol.READY, protocol.RESULT, protocol.DEBUG}
    stray = {(f, op) for f, op in sent if op not in protocol.FROM_WORKER} - WORKER_BUILDS
    assert stray == set()
    # The runner's reader (WorkerProcess.on_frame) gives LENDING frames to the lender,
    # keeps DEBUG frames, and answers the waiting operation with REPLIES: nothing else.
    assert protocol.FROM_WORKER == protocol.REPLIES | protocol.LENDING | {protocol.DEBUG}
    reader = (SERVER / "runner" / "worker_process.py").read_text()
    assert "op in protocol.LENDING" in reader and "op == protocol.DEBUG" in reader
    # …and the lender has a handler for each LENDING frame.
    lender = _handler_table(SERVER / "runner" / "lender.py", "self._handlers")
    assert lender == protocol.LENDING


def test_every_message_the_runner_sends_is_one_the_worker_handles():
    sent = _sent("runner")
    assert {op for _, op in sent} >= {protocol.INIT, protocol.INVOKE, protocol.RELEASE}
    assert {op for _, op in sent} <= protocol.TO_WORKER
    handled = _handler_table(SERVER / "worker" / "serve.py", "handlers")
    assert handled == protocol.TO_WORKER


def test_frames_survive_any_split_and_a_reader_that_feeds_from_a_handler():
    frames = [({"op": protocol.RESULT, "n": n}, os.urandom(n * 37)) for n in range(40)]
    blob = b"".join(protocol.encode(meta, payload) for meta, payload in frames)
    for step in (1, 7, 64, 4096, len(blob)):
        reader = protocol.FrameReader()
        out = []
        for start in range(0, len(blob), step):
            reader.feed(blob[start : start + step])
            while (frame := reader.take()) is not None:
                out.append(frame)
        assert out == frames
    # A handler that reads more (the supervisor drains the pipe from inside one) still
    # sees every frame once, in order.
    reader = protocol.FrameReader()
    pieces = [blob[i : i + 100] for i in range(0, len(blob), 100)]
    out = []

    def handle(frame: tuple[dict[str, object], bytes]) -> None:
        out.append(frame)
        if pieces:
            reader.feed(pieces.pop(0))
            while (more := reader.take()) is not None:
                handle(more)

    reader.feed(pieces.pop(0))
    while pieces or reader.buffer:
        frame = reader.take()
        if frame is None:
            if not pieces:
                break
            reader.feed(pieces.pop(0))
            continue
        handle(frame)
    assert out == frames
    assert protocol.decode_meta(b"") == {}
    assert protocol.END_LINE == protocol.END_MARKER + b"\n"


def test_a_frames_meta_is_the_json_it_always_was():
    # The framing encodes and decodes metas without json.dumps / json.loads per frame (the
    # hot path's two frames a request): the text is json.dumps's compact form, byte for byte,
    # and what json.loads reads (whitespace around the value) or refuses, it still does.
    metas = [
        {},
        {"op": protocol.DIRECT_START, "rid": "0b0e2c1e-8d5d-4bd4-9c4e-0ad7f3c1c1aa", "conn": 7},
        {"op": protocol.RESULT, "ok": True, "kind": "json", "maxRssKb": 28_004, "marked": [1, 2]},
        {"s": 'héllo \u2028 \x00 "q" \\', "f": 1.5e300, "neg": -0.0, "none": None},
        {"nested": {"list": [{"a": [True, False]}], "big": 2**70}},
    ]
    for meta in metas:
        frame = protocol.encode(meta, b"payload")
        text = json.dumps(meta, separators=(",", ":")).encode()
        assert frame[protocol.HEADER_SIZE : protocol.HEADER_SIZE + len(text)] == text
        assert protocol.split_header(frame) == (len(text), len(b"payload"))
        reader = protocol.FrameReader()
        reader.feed(frame)
        assert reader.take() == (meta, b"payload")
        assert reader.take() is None
    assert protocol.decode_meta(b' \n{"a": 1} ') == {"a": 1}
    for bad in (b'{"a": 1} {"b": 2}', b'{"a": ', b"\xff"):
        with pytest.raises(ValueError):
            protocol.decode_meta(bad)
