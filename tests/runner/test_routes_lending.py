"""Routed connections lent to the worker of the function that answered (runner/lender.py,
worker/routed.py), on a real `handlerlens serve` of a SAM app over real sockets.

Once the supervisor has answered a routed request on a keep-alive connection, the connection
goes to that function's worker, which answers the next requests of its own routes itself and
gives the connection back for anything else. What must not change because of that: every
answer byte for byte (the same requests with HANDLERLENS_LEND=0 are the reference), the
gateway's checks and their log lines, the timeout answered by the supervisor, and a
connection whose requests go to several functions answered right each time.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlerlens.runner.lender import CONTENDED_S
from tests.runner.harness import Runner

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: src/
    Timeout: 1
Resources:
  Items:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        Get:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: get
        Post:
          Type: Api
          Properties:
            Path: /items
            Method: post
  Things:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /things/{id}
            Method: get
"""

APP = """\
import json
import os
import time


def handler(event, context):
    do = (event.get("queryStringParameters") or {}).get("do", "pid")
    if do == "dump":
        return {"statusCode": 200, "body": json.dumps(event)}
    if do == "malformed":
        return {"statusCode": 200, "body": "fine", "message": "extra"}
    if do == "dict":
        return {"statusCode": 200, "body": {"a": 1}}
    if do == "raise":
        raise ValueError("bad input")
    if do == "hang":
        time.sleep(30)
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
"""


def make_app(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "template.yaml").write_text(TEMPLATE)
    (folder / "src" / "app.py").write_text(APP)
    return folder


def _serve(folder: Path, lend: bool = True) -> Runner:
    env = dict(os.environ)
    env["HANDLERLENS_LEND"] = "1" if lend else "0"
    return Runner(["--no-watch"], folder, env=env)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_app(tmp_path_factory.mktemp("routed-lending"))


@pytest.fixture(scope="module")
def lent(app: Path) -> Iterator[Runner]:
    runner = _serve(app)
    yield runner
    runner.stop()


class Client:
    """One keep-alive connection, raw: requests as written, responses as read."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.pending = b""

    def send(self, raw: bytes) -> tuple[bytes, dict[str, str], bytes]:
        """One request; the status line, the headers (lower-case names) and the body."""
        self.sock.sendall(raw)
        data = self.pending
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        size = 0 if raw.startswith(b"HEAD ") else int(headers.get("content-length", "0"))
        while len(rest) < size:
            rest += self._recv()
        self.pending = rest[size:]
        return lines[0], headers, rest[:size]

    def get(self, path: str, *extra: str) -> tuple[bytes, dict[str, str], bytes]:
        head = "".join(f"{line}\r\n" for line in extra)
        return self.send(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the runner closed the connection")
        return chunk

    def holders(self) -> set[int]:
        """The processes holding the runner's end of this connection (the supervisor, and
        the worker it is lent to), from /proc."""
        local = self.sock.getsockname()[1]
        inode = None
        with open("/proc/net/tcp") as table:
            for line in table.read().splitlines()[1:]:
                fields = line.split()
                here, there = fields[1].split(":")[1], fields[2].split(":")[1]
                if int(here, 16) == self.port and int(there, 16) == local:
                    inode = fields[9]
        assert inode is not None
        found = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        found.add(int(pid))
                except OSError:
                    continue
        return found

    def close(self) -> None:
        self.sock.close()


def _pid(answer: tuple[bytes, dict[str, str], bytes]) -> int:
    assert answer[0] == b"HTTP/1.1 200 OK", answer
    pid: int = json.loads(answer[2])["pid"]
    return pid


def _held_by(client: Client, runner: Runner, pid: int, wait: float = 5.0) -> bool:
    """Whether the worker `pid` holds the connection (lent), waiting up to `wait` seconds for
    the lend that follows an answer (it happens in the supervisor's next turn)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if client.holders() == {runner.process.pid, pid}:
            return True
        time.sleep(0.02)
    return False


def _lent(client: Client, runner: Runner, path: str) -> int:
    """GET `path` on a connection until its function's worker holds it; that worker's pid.

    The second answer in a row for one function lends it, unless a request through the
    supervisor took the instance back from a lent connection less than a second before
    (runner/lender.py: CONTENDED_S), as the previous test's, closed, may have done before its
    worker saw it close: then the answer after that second does."""
    pid = _pid(client.get(path))
    assert _pid(client.get(path)) == pid
    if not _held_by(client, runner, pid, wait=0.5):
        time.sleep(CONTENDED_S)
        assert _pid(client.get(path)) == pid
        assert _held_by(client, runner, pid)
    return pid


def test_a_routed_keep_alive_connection_is_lent_to_the_worker_that_answered(lent: Runner):
    client = Client(lent.port)
    try:
        first = _pid(client.get("/items/1"))
        # One request for a function: the connection stays (its next may be another's).
        assert not _held_by(client, lent, first, wait=0.3)
        assert client.holders() == {lent.process.pid}
        # Two in a row: lent to that function's worker.
        assert _pid(client.get("/items/1")) == first
        assert _held_by(client, lent, first)
        reports = len([e for e in lent.events if e["event"] == "report"])
        for index in range(2, 6):
            assert _pid(client.get(f"/items/{index}")) == first
        # Each request on the lent connection was still started, ended and reported.
        lent.wait_for(
            lambda e: len([x for x in lent.events if x["event"] == "report"]) >= reports + 4
        )
        assert client.holders() == {lent.process.pid, first}
    finally:
        client.close()


def test_a_connection_alternating_between_functions_answers_each_as_its_gateway(
    lent: Runner,
):
    client = Client(lent.port)
    try:
        items = _lent(client, lent, "/items/1")
        # Another function's route: the worker gives the connection back, and the
        # supervisor answers it with the other function.
        status, headers, body = client.get("/things/2?do=dump")
        assert status == b"HTTP/1.1 200 OK"
        event = json.loads(body)
        assert (event["routeKey"], event["pathParameters"]) == ("GET /things/{id}", {"id": "2"})
        things = event["requestContext"]  # (an HTTP API event: no pid, but its own stage)
        assert things["stage"] == "$default"
        for round_ in range(3):
            status, _, body = client.get(f"/items/{round_}?do=dump")
            event = json.loads(body)
            assert (event["resource"], event["pathParameters"]) == (
                "/items/{id}",
                {"id": str(round_)},
            )
            assert event["requestContext"]["stage"] == "Prod"
            assert _pid(client.get("/items/9")) == items
            assert _pid(client.get(f"/things/{round_}")) != items
            # No route: the REST API's 403; a preflight without CORS declared: 403 too.
            status, _, body = client.get("/nowhere")
            assert (status, json.loads(body)) == (
                b"HTTP/1.1 403 Forbidden",
                {"message": "Missing Authentication Token"},
            )
            raw = b"OPTIONS /items/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            assert client.send(raw)[0] == b"HTTP/1.1 403 Forbidden"
        # A connection whose requests go to several functions stays with the supervisor.
        assert client.holders() == {lent.process.pid}
    finally:
        client.close()


def test_an_invalid_rest_response_on_a_lent_connection_is_502_with_the_log_line(lent: Runner):
    client = Client(lent.port)
    try:
        pid = _lent(client, lent, "/items/1")
        for do, reason in (
            ("malformed", "the response has the key 'message'"),
            ("dict", "its body is an object, not a string"),
        ):
            mark = len(lent.stderr)
            status, headers, body = client.get(f"/items/2?do={do}")
            assert status == b"HTTP/1.1 502 Bad Gateway"
            assert json.loads(body) == {"message": "Internal server error"}
            assert headers["content-type"] == "application/json"
            line = lent.wait_stderr(reason)
            assert line.startswith("handlerlens: Items: GET /items/{id}: ")
            assert "deployed, the REST API answers 502" in line
            assert line in lent.stderr[mark:]
            # Answered by the worker, which still holds the connection.
            assert client.holders() == {lent.process.pid, pid}
    finally:
        client.close()


def test_a_timeout_on_a_lent_connection_is_answered_by_the_supervisor(lent: Runner, app: Path):
    client = Client(lent.port)
    try:
        pid = _lent(client, lent, "/items/1")
        began = time.monotonic()
        status, headers, body = client.get("/items/2?do=hang")
        assert time.monotonic() - began < 10
        # The same connection goes on, on a fresh instance.
        assert _pid(client.get("/items/3")) != pid
    finally:
        client.close()
    kept = _serve(app, lend=False)
    try:
        reference = Client(kept.port)
        expected = reference.get("/items/2?do=hang")
        reference.close()
    finally:
        kept.stop()
    assert status == expected[0] and status.startswith(b"HTTP/1.1 5")
    assert json.loads(body) == json.loads(expected[2])
    assert headers.keys() == expected[1].keys()


def _exchanges(runner: Runner, lending: bool) -> list[Any]:
    """The same requests on one keep-alive connection per function (their first answered
    by the supervisor, the rest by the worker when lending), ids and times taken out."""
    requests = {
        "Items": [
            b"GET /items/7?do=dump&a=1&a=2 HTTP/1.1\r\nHost: localhost\r\nX-Dup: 1\r\n"
            b"X-Dup: 2\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
            b"GET /Prod/items/7?do=dump HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"POST /items?do=dump HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
            b"application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\nname=a&size=2",
            b"HEAD /items/1?do=dump HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"GET /items/1?do=raise HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"GET /items/1?do=malformed HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"GET /items/1/extra HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ],
        "Things": [
            b"GET /things/3?do=dump&b=1 HTTP/1.1\r\nHost: localhost\r\nCookie: a=1; b=2\r\n"
            b"Origin: https://x.example\r\n\r\n",
            b"GET /things/a%2Fb?do=dump HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"GET /things/4?do=malformed HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ],
    }
    out: list[Any] = []
    for function, raws in requests.items():
        client = Client(runner.port)
        try:
            warm = "/items/0" if function == "Items" else "/things/0"
            if lending:
                _lent(client, runner, warm)
            else:
                pid = _pid(client.get(warm))
                assert _pid(client.get(warm)) == pid
                assert not _held_by(client, runner, pid, wait=0.5)
            for raw in raws:
                status, headers, body = client.send(raw)
                for name in ("apigw-requestid", "date"):
                    headers.pop(name, None)
                if b"do=dump" in raw:
                    headers.pop("content-length")  # (the port, in the event, may differ)
                if body and b"do=dump" in raw:
                    body = json.dumps(_normalise(json.loads(body)), sort_keys=True).encode()
                elif b"do=raise" in raw:
                    error = json.loads(body)
                    error.pop("stackTrace", None)
                    body = json.dumps(error).encode()
                    headers.pop("content-length")
                out.append((function, raw, status, headers, body))
        finally:
            client.close()
    return out


def _normalise(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs from call to call (ids, times, the client's port)."""
    context = event["requestContext"]
    for key in ("requestId", "requestTime", "requestTimeEpoch", "time", "timeEpoch"):
        context.pop(key, None)
    for headers in ("headers", "multiValueHeaders"):
        for name in ("X-Forwarded-Port", "x-forwarded-port"):
            (event.get(headers) or {}).pop(name, None)
    return event


def test_lent_routed_answers_are_byte_for_byte_the_supervisors(lent: Runner, app: Path):
    with_lending = _exchanges(lent, lending=True)
    kept = _serve(app, lend=False)
    try:
        without = _exchanges(kept, lending=False)
    finally:
        kept.stop()
    assert with_lending == without
    statuses = [status for *_, status, _, _ in with_lending]
    assert statuses.count(b"HTTP/1.1 502 Bad Gateway") >= 2  # raise, malformed (REST)
    assert b"HTTP/1.1 403 Forbidden" in statuses  # /items/1/extra: no route
    things = [entry for entry in with_lending if entry[0] == "Things"]
    assert json.loads(things[0][4])["cookies"] == ["a=1", "b=2"]
    assert json.loads(things[1][4])["pathParameters"] == {"id": "a/b"}


def test_connections_taking_turns_on_one_function_are_each_answered(lent: Runner):
    """Two keep-alive connections to one function: one is lent, the other's requests go
    through the supervisor, which takes the instance back for them; both are answered,
    each with its own request's parameters, and the instance is not passed back and forth
    for every request (a connection is lent again only after a quiet second)."""
    first, second = Client(lent.port), Client(lent.port)
    try:
        _lent(first, lent, "/items/1")
        releases = 0
        for index in range(10):
            for client in (first, second):
                status, _, body = client.get(f"/items/{index}?do=dump")
                assert status == b"HTTP/1.1 200 OK"
                assert json.loads(body)["pathParameters"] == {"id": str(index)}
            held = {len(client.holders()) for client in (first, second)}
            releases += held == {1}
        assert releases >= 8  # both stay with the supervisor while they take turns
    finally:
        first.close()
        second.close()


def test_a_function_module_standing_in_for_the_standard_library_keeps_lending_off(
    tmp_path: Path,
):
    """On a whole app a worker loads what answering lent connections takes at its first
    lend, after the function's code ran: where that code imported its own `base64.py`, the
    platform modules would use it, so the worker takes no connection, and says why."""
    folder = make_app(tmp_path)
    (folder / "src" / "base64.py").write_text("SHADOW = True\n")
    app = (folder / "src" / "app.py").read_text()
    (folder / "src" / "app.py").write_text("import base64\n\nassert base64.SHADOW\n" + app)
    runner = _serve(folder)
    try:
        client = Client(runner.port)
        pid = _pid(client.get("/items/1"))
        for index in range(3):
            status, _, body = client.get(f"/items/{index}?do=dump")
            assert status == b"HTTP/1.1 200 OK"
            assert json.loads(body)["pathParameters"] == {"id": str(index)}
        assert _pid(client.get("/items/2")) == pid
        assert client.holders() == {runner.process.pid}
        found = runner.wait_for(
            lambda e: "connections stay with the runner here" in str(e.get("line", ""))
        )
        assert "stands in for the standard library's base64" in str(found["line"])
        client.close()
    finally:
        runner.stop()


def test_a_route_change_reaches_a_connection_lent_before_it(tmp_path: Path):
    """The worker answers with the route table it was lent with: a change to the routes
    takes every lent connection back, and the next requests are answered by the new table."""
    folder = make_app(tmp_path)
    env = dict(os.environ, HANDLERLENS_LEND="1")
    runner = Runner([], folder, env=env)  # watching the declaring files
    try:
        client = Client(runner.port)
        _lent(client, runner, "/items/1")
        mark = len(runner.events)
        (folder / "template.yaml").write_text(
            TEMPLATE.replace("Path: /items/{id}", "Path: /goods/{id}")
        )
        runner.wait_for(
            lambda e: (
                e["event"] == "routes" and any(r["path"] == "/goods/{id}" for r in e["routes"])
            ),
            timeout=20,
            start=mark,
        )
        status, _, body = client.get("/goods/5?do=dump")
        assert status == b"HTTP/1.1 200 OK"
        event = json.loads(body)
        assert (event["resource"], event["pathParameters"]) == ("/goods/{id}", {"id": "5"})
        assert client.get("/items/5")[0] == b"HTTP/1.1 403 Forbidden"
        client.close()
        # A connection is lent under the new table, once two requests in a row go to Items.
        fresh = Client(runner.port)
        pid = _lent(fresh, runner, "/goods/6")
        status, _, body = fresh.get("/goods/7?do=dump")
        assert json.loads(body)["resource"] == "/goods/{id}"
        assert fresh.get("/items/7")[0] == b"HTTP/1.1 403 Forbidden"
        assert fresh.holders() == {runner.process.pid}  # (that one came back)
        assert pid in runner.worker_pids()
        fresh.close()
    finally:
        runner.stop()
