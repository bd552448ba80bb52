"""The platform faces, the failure phrasebook, the call-time rule and the one head parser:
every path that answers HTTP or reports a failure goes through them (issue #16)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from handlerlens.platforms import http_head, http_reply
from handlerlens.platforms.faces import face_for
from handlerlens.platforms.failures import AWS_INIT_LIMIT_S, call_timeout, failures_for
from handlerlens.platforms.http_head import MAX_HEAD, BadHead, parse_head
from handlerlens.worker import plain

# What a worker's load_platforms() gives direct.py, as far as parse_plain reads it.
platforms = SimpleNamespace(http_head=http_head, http_reply=http_reply)
RUNNER = Path(__file__).resolve().parents[2] / "server" / "handlerlens" / "runner"


def test_one_rule_for_a_calls_time():
    # Yandex counts the first call's init in its timeout (not a debugger's pause at import).
    assert call_timeout("yandex", 3.0, 1.25) == pytest.approx(1.75)
    assert call_timeout("yandex", 3.0, 1.25, debug=True) == 3.0
    assert call_timeout("yandex", 3.0, 4.0) < 0  # init used it all: times out unrun
    assert call_timeout("yandex", 3.0, in_init=True) == 3.0
    # AWS: init runs before the call's clock, under a limit of its own (10 s on demand); an
    # init past it is what Lambda runs again inside the call, so the call's timeout counts it.
    assert AWS_INIT_LIMIT_S == 10.0
    assert call_timeout("aws", 3.0, 1.25) == 3.0
    assert call_timeout("aws", 15.0, 10.5) == pytest.approx(4.5)
    assert call_timeout("aws", 15.0, 10.5, debug=True) == 15.0
    assert call_timeout("aws", 3.0, in_init=True) == AWS_INIT_LIMIT_S  # the later of the two
    assert call_timeout("aws", 15.0, in_init=True) == 15.0
    assert failures_for("aws").init_late(10.5) and not failures_for("aws").init_late(9.9)
    assert not failures_for("yandex").init_late(30.0)
    assert failures_for("yandex").counts_init and not failures_for("aws").counts_init


def test_the_phrasebooks_say_each_platforms_failures():
    line, error = failures_for("yandex").timeout("rid-1", 3.0, "set with --timeout", 0.5, 0.0)
    assert line.startswith("ERROR RequestID: rid-1 Code: 504 Message: Execution timeout")
    assert "init took 0.50 s of it" in line
    assert error == {
        "errorMessage": "Exceeded maximum function execution time before timeout",
        "errorType": "Timeout",
    }
    line, error = failures_for("aws").timeout("rid-2", 3.0, "set with --timeout", 0.5, 0.0)
    assert line == "1970-01-01T00:00:00.000Z rid-2 Task timed out after 3.00 seconds"
    assert error == {"errorMessage": line, "errorType": "Sandbox.Timedout"}
    for platform, expected in (
        ("yandex", {"errorMessage": "Runtime exited with error: exit status 3",
                    "errorType": "RuntimeExitError"}),
        ("aws", {"errorType": "Runtime.ExitError",
                 "errorMessage": "RequestId: r Error: Runtime exited with error: exit status 3"}),
    ):  # fmt: skip
        line, error = failures_for(platform).crash("r", "exit status 3")
        assert line == "RequestId: r Error: Runtime exited with error: exit status 3"
        assert error == expected
    assert "requestId" not in failures_for("yandex").interrupted("r", "stopped")[1]
    assert failures_for("aws").interrupted("r", "stopped")[1]["requestId"] == "r"
    assert failures_for("yandex").response_too_large(10**8) is None
    message, error = failures_for("aws").response_too_large(6_291_557) or ("", {})
    assert "6,291,557 bytes" in message and error["errorType"] == "Function.ResponseSizeTooLarge"
    assert failures_for("aws").response_too_large(6_291_556) is None
    assert failures_for("yandex").invoke_body("str", b"hi") == b'"hi"'
    assert failures_for("aws").invoke_body("str", b'"hi"') == b'"hi"'


def test_a_workers_answer_is_mapped_as_the_supervisor_maps_the_outcome():
    ok = json.dumps({"statusCode": 201, "body": "made"}).encode()
    for face in (face_for("yandex"), face_for("aws"), face_for("aws", "api-gateway-rest")):
        result = {"ok": True, "kind": "json"}
        answered = face.answer(result, ok)
        mapped, _ = face.reply("json", ok)
        assert (answered.status, answered.headers, answered.body) == (
            mapped.status,
            mapped.headers,
            mapped.body,
        )
        assert answered.status == 201 and answered.body == b"made"
        error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
        answered = face.answer({"ok": False, "errorKind": "unhandled", "error": error}, b"")
        failed = face.failed("error", error)
        assert (answered.status, answered.body) == (failed.status, failed.body)
    assert face_for("yandex").answer({"ok": False, "error": {}}, b"").status == 502
    assert face_for("aws").answer({"ok": False, "error": {}}, b"").status == 500
    assert face_for("aws", "api-gateway-rest").answer({"ok": False}, b"").status == 502
    # Over AWS's response limit: a function error, with the runner's warning.
    result = {"ok": True, "kind": "json"}
    reply = face_for("aws").answer(result, b'"' + b"x" * 6_291_556 + b'"')
    assert reply.status == 500 and not result["ok"]
    assert "over AWS Lambda's 6,291,556-byte limit" in result["warning"]
    # Yandex: a result that is not a dict is a malformed response, with a warning.
    result = {"ok": True, "kind": "json"}
    reply = face_for("yandex").answer(result, b"[1]")
    assert reply.status == 502 and b"ProxyIntegrationError" in reply.body
    assert "must return a dict" in result["warning"]


def _worker_takes(head: bytes) -> bool:
    """Whether a worker serving a lent connection answers this request itself."""
    parsed = plain.parse_plain(head, platforms)
    return not isinstance(parsed, str)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET / HTTP/1.1 x\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"get / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: \xc2\xb2\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET http://x/ HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nX: " + b"y" * MAX_HEAD + b"\r\n\r\n", 431),
    ],
)
def test_what_the_server_refuses_the_worker_hands_back(head: bytes, status: int):
    with pytest.raises(BadHead) as refused:
        parse_head(head)
    assert refused.value.status == status
    assert plain.parse_plain(head, platforms) == "hand back"


def test_the_worker_answers_the_plain_case_and_hands_back_the_rest():
    assert _worker_takes(b"GET /a?b=1 HTTP/1.1\r\nHost: localhost:8080\r\n\r\n")
    assert _worker_takes(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
    assert plain.parse_plain(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nh", platforms) == (
        "not yet"
    )
    for head in (
        b"GET / HTTP/1.0\r\n\r\n",  # the server answers it (and closes)
        b"GET /?integration=raw HTTP/1.1\r\n\r\n",
        b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    ):
        assert not _worker_takes(head), head
    # The server takes the equal duplicate Content-Length the worker hands back.
    parsed = parse_head(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")
    assert parsed is not None and parsed.length == 1 and parsed.lengths == 2


def test_the_runner_states_no_platform_fact():
    """No `x == "yandex"` / `"aws"` in runner/: every platform fact is in platforms/."""
    found = []
    for path in sorted(RUNNER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                named = [
                    o.value
                    for o in operands
                    if isinstance(o, ast.Constant) and o.value in ("yandex", "aws")
                ]
                if named:
                    found.append(f"{path.name}:{node.lineno}: {named}")
    assert found == []
