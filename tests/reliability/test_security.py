"""Hostile input: foreign Host names, oversized bodies, slow clients, escaping event paths.

The runner is reachable by anything on the machine and, through DNS rebinding, by web pages;
the language server's Run command takes a file name from the client. None of that may reach
the handler, read outside the workspace, or keep the runner from serving everyone else.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from handlerlens.platforms.http_head import BODY_IDLE_TIMEOUT, HEAD_TIMEOUT
from tests.lsp.conftest import EXAMPLES, running_server, when_ready
from tests.reliability.raw_http import (
    descendants,
    exchange,
    listeners,
    listening_sockets,
    read_response,
    wait_closed,
)
from tests.reliability.scale import scaled
from tests.runner.harness import FIXTURES, Runner, wait_gone

# How long past its own timeout the runner may take to drop a slow client.
SLACK_S = 5.0


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    served = Runner(
        ["counter=main.counter", "raw_echo=main.raw_echo", "--platform", "yandex", "--no-watch"],
        FIXTURES / "yandex",
    )
    yield served
    served.stop()


def _calls(runner: Runner) -> int:
    status, _, body = runner.request("GET", "/counter/")
    assert status == 200
    return int(body)


# -- Host ------------------------------------------------------------------------------------

FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:8080",
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "evil.example#localhost",
    "192.168.1.10",
    "0.0.0.0",
    "[::2]",
    "",
]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_never_reaches_the_handler(runner: Runner, host: str) -> None:
    before = _calls(runner)
    for method, path, body in (
        ("GET", "/counter/", b""),
        ("POST", "/2015-03-31/functions/counter/invocations", b"{}"),
    ):
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        status, _, text = exchange(runner.port, request)
        assert status == 403, (host, path, text)
        assert b"localhost" in text
    assert _calls(runner) == before + 1  # only our own call counted


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:80", "127.0.0.1:9", "[::1]:8080", "api.localhost"]
)
def test_loopback_names_are_served(runner: Runner, host: str) -> None:
    status, _, _ = exchange(runner.port, f"GET /counter/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert status == 200


@pytest.mark.parametrize(
    "head", ["Host: evil.example\r\nHost: localhost\r\n", "Host: [::1]evil.example\r\n"]
)
def test_ambiguous_host_fields_are_refused(runner: Runner, head: str) -> None:
    status, _, _ = exchange(runner.port, f"GET /counter/ HTTP/1.1\r\n{head}\r\n".encode())
    assert status in (400, 403)


# -- oversized bodies ------------------------------------------------------------------------


def test_oversized_bodies_are_413_while_others_are_served(runner: Runner) -> None:
    latencies: list[float] = []
    stop = threading.Event()

    def others() -> None:
        while not stop.is_set():
            started = time.monotonic()
            assert runner.request("GET", "/counter/")[0] == 200
            latencies.append(time.monotonic() - started)

    background = threading.Thread(target=others, daemon=True)
    background.start()
    try:
        before = len(latencies)
        # Over Yandex's 3.5 MB event limit, over the Invoke API's 6 MB, over what is buffered.
        status, _, body = runner.request("POST", "/raw_echo/", b"x" * 3_700_000)
        assert status == 413 and json.loads(body)["errorType"] == "RequestEntityTooLarge"
        status, headers, _ = runner.request(
            "POST", "/2015-03-31/functions/raw_echo/invocations", b"[" + b"0," * 3_200_000 + b"0]"
        )
        assert status == 413 and headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
        status, _, _ = runner.request("POST", "/raw_echo/", b"x" * 20_000_000)
        assert status == 413
        chunked = b"".join(b"100000\r\n" + b"z" * 0x100000 + b"\r\n" for _ in range(12))
        status, _, _ = exchange(
            runner.port,
            b"POST /raw_echo/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked
            + b"0\r\n\r\n",
        )
        assert status == 413
        assert len(latencies) > before, "nobody else was served during the uploads"
    finally:
        stop.set()
        background.join(10)
    assert max(latencies) < 2.0
    assert runner.request("GET", "/counter/")[0] == 200


def test_an_enormous_announced_body_is_refused_without_reading_it(runner: Runner) -> None:
    with socket.create_connection(("127.0.0.1", runner.port), timeout=10) as sock:
        sock.sendall(
            b"POST /raw_echo/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000000\r\n\r\n"
        )
        status, _, _ = read_response(sock)
        took, _ = wait_closed(sock, 5)
    assert status == 413
    assert took < 5, "the connection stayed open for a body that will never be accepted"
    assert runner.request("GET", "/counter/")[0] == 200


def test_an_oversized_upload_with_expect_continue_is_refused_before_the_body(
    runner: Runner,
) -> None:
    with socket.create_connection(("127.0.0.1", runner.port), timeout=10) as sock:
        sock.sendall(
            b"POST /raw_echo/ HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
            b"Content-Length: 20000000\r\n\r\n"
        )
        status, _, _ = read_response(sock)
    assert status == 413


# -- slow clients ----------------------------------------------------------------------------


def _slow_clients(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def _watch(sockets: list[socket.socket], limit: float, into: list[tuple[float, bytes]]) -> None:
    for sock in sockets:
        into.append(wait_closed(sock, limit))
        sock.close()


@pytest.mark.timeout(BODY_IDLE_TIMEOUT + 60)
def test_idle_and_stalled_clients_are_dropped_in_bounded_time_and_others_are_served(
    runner: Runner,
) -> None:
    count = scaled(10, 100)
    started = time.monotonic()
    idle = _slow_clients(runner.port, count, b"")
    half_head = _slow_clients(runner.port, count, b"GET /counter/ HTTP/1.1\r\nHost: local")
    half_body = _slow_clients(
        runner.port,
        count,
        b"POST /raw_echo/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123",
    )
    results: dict[str, list[tuple[float, bytes]]] = {"idle": [], "head": [], "body": []}
    limit = BODY_IDLE_TIMEOUT + SLACK_S
    watchers = [
        threading.Thread(target=_watch, args=(group, limit, results[name]), daemon=True)
        for name, group in (("idle", idle), ("head", half_head), ("body", half_body))
    ]
    for watcher in watchers:
        watcher.start()
    latencies = []
    while any(watcher.is_alive() for watcher in watchers):
        before = time.monotonic()
        assert runner.request("GET", "/counter/")[0] == 200
        latencies.append(time.monotonic() - before)
        time.sleep(0.2)
    assert max(latencies) < 1.0, "slow clients delayed everyone else"
    # wait_closed measures from when its watcher reached the socket; all opened together.
    waited = time.monotonic() - started
    assert waited < limit + 5
    assert all(took < HEAD_TIMEOUT + SLACK_S for took, _ in results["idle"]), results["idle"]
    for name in ("head", "body"):
        assert all(took < limit for took, _ in results[name]), results[name]
        assert all(sent.startswith(b"HTTP/1.1 408 ") for _, sent in results[name]), results[name]


@pytest.mark.timeout(HEAD_TIMEOUT + 60)
def test_a_client_trickling_its_header_is_cut_off(runner: Runner) -> None:
    limit = HEAD_TIMEOUT + SLACK_S
    with socket.create_connection(("127.0.0.1", runner.port), timeout=10) as sock:
        sock.sendall(b"GET /counter/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        started = time.monotonic()
        closed = False
        sock.settimeout(0.5)
        while not closed and time.monotonic() - started < limit:
            try:
                sock.sendall(b"a")
                closed = sock.recv(65536) == b""
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
    assert closed, f"still connected after {limit:.0f} s of one byte every 0.5 s"


# -- where the runner listens ----------------------------------------------------------------


def test_the_runner_and_its_workers_listen_on_loopback_only(runner: Runner) -> None:
    pids = descendants(runner.process.pid)
    assert len(pids) >= 3  # supervisor, instances, standbys
    sockets = listening_sockets(pids)
    # /proc/net/tcp writes 127.0.0.1 as little-endian hex.
    assert sockets == [("tcp", "0100007F", runner.port)]


def test_the_debug_port_listens_on_loopback_only_and_goes_with_the_runner() -> None:
    debugged = Runner(
        ["counter=main.counter", "--platform", "yandex", "--no-watch", "--debug"],
        FIXTURES / "yandex",
    )
    try:
        port = int(debugged.wait_for(lambda e: e["event"] == "listening")["debugPort"])
        holders = listeners(port)
        served = listening_sockets(descendants(debugged.process.pid))
    finally:
        assert debugged.stop() == 0
    assert holders, "nothing listens on the announced debug port"
    # The debug adapter (debugpy's own process) may open more ports: all on loopback.
    assert all(address == "0100007F" for sockets in holders.values() for _, address, _ in sockets)
    assert ("tcp", "0100007F", debugged.port) in served
    assert all(address == "0100007F" for _, address, _ in served), served
    assert wait_gone(list(holders)) == [], "the debug adapter outlived the runner"


# -- event files named by the client ---------------------------------------------------------


async def _run(client: Any, ref: dict[str, Any], event_path: Any) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command="handlerlens.server.run", arguments=[{"function": ref, "eventPath": event_path}]
        )
    )


async def test_event_paths_outside_the_events_folder_are_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "examples"
    shutil.copytree(EXAMPLES, workspace)
    events = workspace / ".handlerlens" / "events" / "greeter"
    events.mkdir(parents=True)
    (events / "ada.json").write_text(json.dumps({"queryStringParameters": {"name": "Ada"}}))
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"queryStringParameters": {"name": "leaked"}}))
    os.symlink(secret, events / "link.json")
    escapes = [
        "../../etc/passwd",
        "../../../../../../../../etc/passwd",
        "/etc/passwd",
        str(secret),
        "../../../../secret.json",
        "link.json",
        "../greeter/../../../../secret.json",
    ]
    states: list[Any] = []
    async with running_server(workspace) as client:
        client.feature("handlerlens/runnerState")(lambda params: states.append(params))
        # A hover is answered once the workspace has been discovered.
        await when_ready(client, workspace / "greeter" / "main.py")
        functions = await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="handlerlens.server.listFunctions", arguments=[{}])
        )
        (ref,) = [f for f in functions if f["name"] == "greeter"]
        refused = [await _run(client, ref, path) for path in escapes]
        started_by_refusals = list(states)
        allowed = await _run(client, ref, "ada.json")
        messages = [m.message for m in client.messages]
    assert refused == [None] * len(escapes)
    assert len([m for m in messages if "outside" in m]) == len(escapes), messages
    assert not any("root:" in m or "leaked" in m for m in messages)
    assert started_by_refusals == [], "a refused event started a runner"
    # The same command with a file inside the folder runs: the refusals were about the path.
    assert allowed["status"] == 200
    assert json.loads(allowed["json"]["body"])["greeting"] == "Hello, Ada!"
