"""Connections lent to the worker (runner/lender.py, worker/direct.py), over real sockets.

One Yandex function, one instance: every new connection goes to the worker, which answers
plain requests itself. These tests pin what must not change because of that: responses and
events byte for byte as the supervisor makes them, faults answered on the same keep-alive
connection, log lines tied to their request, reloads, and the kinds of request the worker
hands back to the supervisor.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.raw_http import socket_inodes
from tests.runner.harness import Runner

HANDLER = r"""
import json, os, sys, time

calls = 0

def handler(event, context):
    global calls
    calls += 1
    do = (event.get("queryStringParameters") or {}).get("do", "ok")
    if do == "dump":
        return {"statusCode": 200, "body": json.dumps(event)}
    if do == "hang":
        time.sleep(60)
    if do == "crash":
        import ctypes
        ctypes.string_at(0)
    if do == "exit":
        os._exit(5)
    if do == "raise":
        raise ValueError("bad input")
    if do == "print":
        print("line from", context.request_id)
        print("to stderr", context.request_id, file=sys.stderr)
    if do == "unserialisable":
        return {"statusCode": 200, "body": object()}
    if do == "malformed":
        return {"statusCode": "two hundred"}
    if do == "big":
        return {"statusCode": 200, "body": "x" * 3_000_000}
    if do == "size":
        data = (event.get("body") or "").encode()
        if event.get("isBase64Encoded"):
            import base64
            data = base64.b64decode(data)
        import hashlib
        digest = hashlib.sha256(data).hexdigest()
        return {"statusCode": 200, "body": json.dumps({"sha": digest, "pid": os.getpid()})}
    if do == "shapes":
        return {
            "statusCode": 201,
            "headers": {"X-One": "1", "Content-Type": "text/plain"},
            "multiValueHeaders": {"X-Many": ["a", "b"]},
            "body": "aGVsbG8=",
            "isBase64Encoded": True,
        }
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid(), "calls": calls})}
"""


def _serve(root: Path, *extra: str, lend: bool = True, platform: str = "yandex") -> Runner:
    env = dict(os.environ)
    if not lend:
        env["HANDLERLENS_LEND"] = "0"
    return Runner(["main.handler", "--platform", platform, *extra], root, env=env)


_opened: list[http.client.HTTPConnection] = []


def _connect(port: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    _opened.append(conn)
    return conn


@pytest.fixture(autouse=True)
def _close_connections() -> Any:
    yield
    while _opened:
        _opened.pop().close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.py").write_text(HANDLER)
    return tmp_path


def _get(
    conn: http.client.HTTPConnection, path: str, **kw: Any
) -> tuple[int, dict[str, str], bytes]:
    conn.request(kw.pop("method", "GET"), path, **kw)
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def test_a_keep_alive_connection_is_served_by_the_worker_through_every_fault(project: Path):
    runner = _serve(project, "--timeout", "1", "--no-watch")
    try:
        conn = _connect(runner.port)
        status, _, body = _get(conn, "/")
        assert status == 200
        first = json.loads(body)
        # The worker holds the connection: it has one socket more than its lending socket.
        assert len(socket_inodes(first["pid"])) == 2
        assert json.loads(_get(conn, "/")[2])["calls"] == 2  # warm: globals persist

        status, headers, body = _get(conn, "/?do=raise")
        assert status == 502 and headers["x-function-error"] == "true"
        assert json.loads(body)["errorType"] == "ValueError"

        status, _, body = _get(conn, "/?do=unserialisable")
        assert status == 502 and json.loads(body)["errorType"] == "ProxyIntegrationError"
        assert runner.wait_stderr("the return value is not JSON-serialisable")

        status, _, body = _get(conn, "/?do=malformed")
        assert status == 502 and json.loads(body)["errorType"] == "ProxyIntegrationError"
        assert runner.wait_stderr("statusCode 'two hundred' is not an HTTP status")

        started = time.monotonic()
        status, headers, body = _get(conn, "/?do=hang")
        assert status == 504 and time.monotonic() - started < 5
        assert json.loads(body)["errorType"] == "Timeout"
        lines = [e["line"] for e in runner.logs(headers["x-request-id"])]
        expected = re.compile(
            r"ERROR RequestID: \S+ Code: 504 Message: Execution timeout exceeded after 1\.00 "
            r"seconds \(the function's timeout, 1 s, set with --timeout(; init took 0\.\d\d s "
            r"of it)?\)"
        )
        assert any(expected.fullmatch(line) for line in lines), lines

        # The same connection goes on, now served by the supervisor, on a fresh instance.
        status, _, body = _get(conn, "/")
        assert status == 200 and json.loads(body)["pid"] != first["pid"]

        for fault, how in (("crash", "signal: segmentation fault"), ("exit", "exit status 5")):
            fresh = _connect(runner.port)
            assert _get(fresh, "/")[0] == 200
            status, headers, body = _get(fresh, f"/?do={fault}")
            assert status == 502, fault
            assert json.loads(body)["errorMessage"] == f"Runtime exited with error: {how}"
            assert _get(fresh, "/")[0] == 200  # the next request, same connection
            fresh.close()
        conn.close()
    finally:
        runner.stop()


def test_log_lines_belong_to_the_request_that_printed_them(project: Path):
    runner = _serve(project, "--no-watch")
    try:
        conn = _connect(runner.port)
        printed = []
        # Back to back, printing and not: the next request's frames race the last one's lines.
        for n in range(60):
            status, headers, _ = _get(conn, "/?do=print" if n % 2 else "/")
            assert status == 200
            if n % 2:
                printed.append(headers["x-request-id"])
        for rid in printed:
            lines = [(e["stream"], e["line"]) for e in runner.logs(rid)]
            assert ("stdout", f"line from {rid}") in lines
            assert ("stderr", f"to stderr {rid}") in lines
            assert lines[0][1].startswith(f"START RequestID: {rid}")
            assert lines[-2][1] == f"END RequestID: {rid}"
            assert lines[-1][1].startswith(f"REPORT RequestID: {rid}")
        with runner.changed:
            logs = [e for e in runner.events if e["event"] == "log"]
        # As in the platform's log: one request after another, each line inside its own.
        current = None
        for event in logs:
            line, rid = event["line"], event.get("requestId")
            if line.startswith("START RequestID: "):
                assert current is None, f"START of {rid} before the REPORT of {current}"
                current = rid
            elif line.startswith("REPORT RequestID: "):
                assert rid == current
                current = None
            else:
                assert rid == current, f"{line!r} of {rid} outside it (in {current})"
            if line.startswith(("line from ", "to stderr ")):
                assert line.endswith(rid), event
        conn.close()
    finally:
        runner.stop()


def test_a_worker_killed_while_idle_gives_its_connections_back(project: Path):
    runner = _serve(project, "--no-watch")
    try:
        conn = _connect(runner.port)
        pid = json.loads(_get(conn, "/")[2])["pid"]
        os.kill(pid, 9)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}/fd"):
            time.sleep(0.02)
        status, _, body = _get(conn, "/")  # the same connection, now the supervisor's
        assert status == 200 and json.loads(body)["pid"] != pid
        fresh = _connect(runner.port)
        assert _get(fresh, "/")[0] == 200
        # A HEAD request that times out: 504 without a body, and the connection goes on.
        slow = _serve(project, "--no-watch", "--timeout", "0.5")
        try:
            head = _connect(slow.port)
            status, headers, body = _get(head, "/?do=hang", method="HEAD")
            assert status == 504 and body == b"" and int(headers["content-length"]) > 0
            assert _get(head, "/")[0] == 200
        finally:
            slow.stop()
    finally:
        runner.stop()


def test_a_client_that_does_not_read_does_not_hold_up_the_worker(project: Path):
    runner = _serve(project, "--no-watch")
    try:
        lazy = socket.socket()
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # before the handshake
        lazy.settimeout(30)
        lazy.connect(("127.0.0.1", runner.port))
        # Six 3 MB answers, asked for at once and not read: more than the socket's buffers
        # hold, so the worker must leave the rest to the supervisor rather than wait.
        big = b"GET /?do=big HTTP/1.1\r\nHost: localhost\r\n\r\n"
        lazy.sendall(big * 6)
        time.sleep(0.5)
        other = _connect(runner.port)
        started = time.monotonic()
        assert _get(other, "/")[0] == 200
        assert time.monotonic() - started < 2
        other.close()
        data = bytearray()
        bodies = 0
        while bodies < 6:
            chunk = lazy.recv(1 << 20)
            assert chunk
            data += chunk
            while True:
                head_end = data.find(b"\r\n\r\n")
                if head_end < 0:
                    break
                head = bytes(data[:head_end])
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                if len(data) < head_end + 4 + length:
                    break
                assert head.startswith(b"HTTP/1.1 200 OK")
                assert data[head_end + 4 : head_end + 4 + length] == b"x" * 3_000_000
                del data[: head_end + 4 + length]
                bodies += 1
        assert not data
        lazy.close()
    finally:
        runner.stop()


def test_a_request_the_worker_cannot_parse_gets_the_supervisors_answer(project: Path):
    runner = _serve(project, "--no-watch")
    try:
        conn = _connect(runner.port)
        pid = json.loads(_get(conn, "/")[2])["pid"]
        with socket.create_connection(("127.0.0.1", runner.port), timeout=30) as sock:
            sock.sendall(
                "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ²\r\n\r\n".encode("latin-1")
            )
            assert sock.recv(65536).startswith(b"HTTP/1.1 400 ")
        assert json.loads(_get(conn, "/")[2])["pid"] == pid  # the worker lives on
    finally:
        runner.stop()


def _normalise(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs from call to call (ids, times, the client's port)."""
    event = json.loads(json.dumps(event))
    context = event["requestContext"]
    if "version" in event:  # API Gateway (AWS)
        for key in ("requestId", "time", "timeEpoch"):
            context.pop(key)
        return event
    for key in ("requestId", "requestTime", "requestTimeEpoch"):
        context.pop(key)
    for headers in (event["headers"], event["multiValueHeaders"]):
        for key in ("X-Request-Id", "X-Trace-Id", "X-Real-Remote-Address"):
            headers.pop(key)
    return event


def _exchanges(port: int) -> list[Any]:
    """The same requests, raw on one socket each, the responses with ids taken out."""
    requests = [
        b"GET /?do=dump&a=1&a=2&b= HTTP/1.1\r\nHost: localhost\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
        b"user-agent: parity\r\n\r\n",
        b"POST /?do=dump HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 8\r\n\r\n{"a": 1}',
        b"PUT /?do=dump HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\n"
        b"Content-Length: 4\r\n\r\n\x89PNG",
        b"GET /?do=shapes HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"HEAD /?do=shapes HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /?do=raise HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /?do=malformed HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        # Yandex's raw integration, however the name is spelt: the supervisor's to answer.
        b"POST /?%69ntegration=raw&do=shapes HTTP/1.1\r\nHost: localhost\r\n"
        b'Content-Length: 43\r\n\r\n{"queryStringParameters": {"do": "shapes"}}',
    ]
    out: list[Any] = []
    for raw in requests:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        ids = (b"x-request-id", b"apigw-requestid")
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(ids)]
        if b"do=dump" in raw:
            body = json.dumps(_normalise(json.loads(body)), sort_keys=True).encode()
        elif b"do=raise" in raw and b"stackTrace" in body:
            error = json.loads(body)
            error["stackTrace"] = len(error["stackTrace"])
            body = json.dumps(error).encode()
            lines = [line for line in lines if not line.startswith(b"Content-Length")]
        out.append((lines, body))
    return out


@pytest.mark.parametrize("platform", ["yandex", "aws"])
def test_the_worker_answers_byte_for_byte_as_the_supervisor_does(project: Path, platform: str):
    lent = _serve(project, "--no-watch", platform=platform)
    try:
        with_lending = _exchanges(lent.port)
        # Lent indeed: the worker holds a client connection besides its lending socket.
        conn = _connect(lent.port)
        pid = json.loads(_get(conn, "/")[2])["pid"]
        assert len(socket_inodes(pid)) == 2
    finally:
        lent.stop()
    kept = _serve(project, "--no-watch", lend=False, platform=platform)
    try:
        without = _exchanges(kept.port)
        conn = _connect(kept.port)
        assert len(socket_inodes(json.loads(_get(conn, "/")[2])["pid"])) == 0
    finally:
        kept.stop()
    assert with_lending == without
    assert with_lending[3][0][0] == b"HTTP/1.1 201 Created"
    assert with_lending[4][1] == b""  # HEAD: no body
    assert json.loads(with_lending[0][1])["queryStringParameters"]["a"] in ("2", "1,2")
    if platform == "yandex":  # raw: the handler's return value itself, with 200
        assert json.loads(with_lending[7][1])["statusCode"] == 201


def test_aws_faults_on_a_lent_connection_are_api_gateways_errors(project: Path):
    runner = _serve(project, "--timeout", "0.5", "--no-watch", platform="aws")
    try:
        conn = _connect(runner.port)
        first = json.loads(_get(conn, "/")[2])["pid"]
        assert len(socket_inodes(first)) == 2
        for fault in ("raise", "hang", "crash"):
            status, headers, body = _get(conn, f"/?do={fault}")
            assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
            assert headers["apigw-requestid"]
            assert _get(conn, "/")[0] == 200  # and the connection goes on
    finally:
        runner.stop()


def test_requests_the_worker_does_not_serve_go_back_to_the_supervisor(project: Path):
    runner = _serve(project, "--no-watch")
    try:
        conn = _connect(runner.port)
        assert _get(conn, "/")[0] == 200
        # The Invoke API on the same connection: handed back, then served by the supervisor.
        status, _, body = _get(
            conn, "/2015-03-31/functions/main/invocations", method="POST", body=b'{"x": 1}'
        )
        assert status == 200 and json.loads(body)["statusCode"] == 200
        # A chunked body on a connection that is lent.
        other = _connect(runner.port)
        other.putrequest("POST", "/?do=dump")
        other.putheader("Transfer-Encoding", "chunked")
        other.putheader("Content-Type", "application/json")
        other.endheaders()
        other.send(b'4\r\n{"a"\r\n4\r\n: 1}\r\n0\r\n\r\n')
        response = other.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["body"] == '{"a": 1}'  # dechunked, as ever
        # A Host that is not loopback: refused as ever (DNS rebinding).
        third = _connect(runner.port)
        assert _get(third, "/", headers={"Host": "evil.example"})[0] == 403
        for junk in ("localhost:abc", "[::1]x", "localhost.evil.example"):
            refused = _connect(runner.port)
            assert _get(refused, "/", headers={"Host": junk})[0] == 403, junk
            refused.close()
        # And a new connection is lent again once the instance is free.
        fourth = _connect(runner.port)
        status, _, body = _get(fourth, "/")
        assert status == 200
        assert len(socket_inodes(json.loads(body)["pid"])) >= 2
        for c in (conn, other, third, fourth):
            c.close()
    finally:
        runner.stop()


def test_pipelined_requests_on_a_lent_connection_are_answered_in_order(project: Path):
    runner = _serve(project, "--no-watch")
    try:
        with socket.create_connection(("127.0.0.1", runner.port), timeout=30) as sock:
            one = b"GET /?n=%d HTTP/1.1\r\nHost: localhost\r\n\r\n"
            last = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            sock.sendall(b"".join(one % n for n in range(10)) + last)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        calls = []
        while data:
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            calls.append(json.loads(rest[:length])["calls"])
            data = rest[length:]
        assert calls == list(range(1, 12))
    finally:
        runner.stop()


def test_a_save_reaches_connections_that_were_lent(project: Path):
    runner = _serve(project)
    try:
        conn = _connect(runner.port)
        assert _get(conn, "/")[0] == 200
        (project / "main.py").write_text(
            "def handler(event, context):\n    return {'statusCode': 200, 'body': 'v2'}\n"
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, _, body = _get(conn, "/")  # the same keep-alive connection throughout
            assert status == 200
            if body == b"v2":
                break
            time.sleep(0.02)
        assert body == b"v2"
        fresh = _connect(runner.port)
        assert _get(fresh, "/")[2] == b"v2"
        conn.close()
        fresh.close()
    finally:
        runner.stop()


def test_a_body_longer_than_one_read_is_answered_by_the_worker(project: Path):
    # The worker reads a lent connection READ_SIZE (256 KB) at a time into one buffer it
    # keeps (worker/direct.py): a request spread over several reads, sent in pieces, is
    # whole in its event, and the connection's next request starts clean.
    from handlerlens.worker.direct import READ_SIZE

    runner = _serve(project, "--no-watch")
    try:
        with socket.create_connection(("127.0.0.1", runner.port), timeout=30) as sock:
            body = bytes(range(97, 123)) * (2 * READ_SIZE // 26 + 1)
            head = b"POST /?do=size HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n"
            message = head % len(body) + body + b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
            for start in range(0, len(message), 100_000):
                sock.sendall(message[start : start + 100_000])
                time.sleep(0.05)
            answers = []
            data = b""
            while len(answers) < 2:
                chunk = sock.recv(1 << 20)
                assert chunk, answers
                data += chunk
                while b"\r\n\r\n" in data:
                    top, _, rest = data.partition(b"\r\n\r\n")
                    length = int(top.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    if len(rest) < length:
                        break
                    answers.append((top, rest[:length]))
                    data = rest[length:]
            # Answered by the worker: it holds this connection besides its lending socket.
            pid = json.loads(answers[1][1])["pid"]
            assert len(socket_inodes(pid)) == 2
        assert answers[0][0].startswith(b"HTTP/1.1 200 OK")
        assert json.loads(answers[0][1])["sha"] == hashlib.sha256(body).hexdigest()
        assert len(body) > 2 * READ_SIZE
        assert answers[1][0].startswith(b"HTTP/1.1 200 OK")
    finally:
        runner.stop()
