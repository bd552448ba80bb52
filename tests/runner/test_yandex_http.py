"""The Yandex HTTP face: the docs' dump reproduced, the response rules (PLATFORMS.md §4.1, §5.1)."""

from __future__ import annotations

import base64
import json
import socket

from tests.runner.harness import Runner

SEED_CURL = (
    b"POST /dump/?param=one HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"User-Agent: curl/7.64.1\r\n"
    b"Accept: */*\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: 18\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b'{"hello": "world"}'
)


def _raw(runner: Runner, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", runner.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_seed_curl_request_reproduces_the_docs_dump_field_for_field(yandex_runner: Runner):
    response = _raw(yandex_runner, SEED_CURL)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    dump = json.loads(body)
    event, context = dump["event"], dump["context"]
    assert sorted(event) == sorted(
        [
            "body",
            "headers",
            "httpMethod",
            "isBase64Encoded",
            "multiValueHeaders",
            "multiValueParams",
            "multiValueQueryStringParameters",
            "params",
            "pathParams",
            "queryStringParameters",
            "requestContext",
            "url",
        ]
    )
    assert event["body"] == '{"hello": "world"}'
    assert event["httpMethod"] == "POST"
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"param": "one"}
    assert event["multiValueQueryStringParameters"] == {"param": ["one"]}
    assert event["params"] == {} and event["multiValueParams"] == {} and event["pathParams"] == {}
    assert event["url"] == ""
    rid = event["requestContext"]["requestId"]
    headers = event["headers"]
    assert sorted(headers) == sorted(
        [
            "Accept",
            "Content-Length",
            "Content-Type",
            "Host",
            "User-Agent",
            "X-Forwarded-For",
            "X-Real-Remote-Address",
            "X-Request-Id",
            "X-Trace-Id",
        ]
    )
    assert headers["Accept"] == "*/*"
    assert headers["Content-Length"] == "18"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "curl/7.64.1"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Real-Remote-Address"].startswith("[127.0.0.1]:")
    assert headers["X-Request-Id"] == rid
    assert len(headers["X-Trace-Id"]) == 36
    assert event["multiValueHeaders"] == {key: [value] for key, value in headers.items()}
    context_request = event["requestContext"]
    assert sorted(context_request) == [
        "httpMethod",
        "identity",
        "requestId",
        "requestTime",
        "requestTimeEpoch",
    ]
    assert context_request["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "curl/7.64.1"}
    assert context_request["httpMethod"] == "POST"
    assert isinstance(context_request["requestTimeEpoch"], int)
    assert context_request["requestTimeEpoch"] < 10**11  # seconds, not milliseconds
    assert context_request["requestTime"].endswith(" +0000")
    assert context_request["requestTime"][2] == "/" and context_request["requestTime"][6] == "/"
    assert sorted(context) == [
        "aws_request_id",
        "deadline_ms",
        "function_name",
        "function_version",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "request_id",
        "token",
    ]
    assert context["request_id"] == context["aws_request_id"] == rid
    assert context["memory_limit_in_mb"] == 128
    assert isinstance(context["deadline_ms"], int)
    assert len(context["function_name"]) == 20 and context["function_name"].startswith("d4e")
    assert context["invoked_function_arn"] == context["function_name"]
    assert context["log_stream_name"] == context["function_version"]
    assert len(context["log_group_name"]) == 20
    assert context["token"] is None


def test_context_methods_and_types(yandex_runner: Runner):
    status, headers, body = yandex_runner.request("GET", "/context_info/")
    info = json.loads(body)
    assert status == 200
    assert info["memory_type"] == "int"
    assert 0 < info["remaining"] <= 1000
    assert info["same_id"] is True
    assert headers["x-request-id"] == info["request_id"]


def test_non_json_body_is_base64_and_json_body_stays_text(yandex_runner: Runner):
    _, _, body = yandex_runner.request(
        "POST", "/dump/", b"hello, world!", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    event = json.loads(body)["event"]
    assert event["body"] == "aGVsbG8sIHdvcmxkIQ=="
    assert event["isBase64Encoded"] is True
    _, _, body = yandex_runner.request(
        "POST", "/dump/", b'{"a": 1}', {"Content-Type": "application/json; charset=utf-8"}
    )
    event = json.loads(body)["event"]
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    _, _, body = yandex_runner.request("GET", "/dump/")
    event = json.loads(body)["event"]
    assert event["body"] == "" and event["isBase64Encoded"] is False


def test_repeated_headers_and_query_keep_last_and_all_values(yandex_runner: Runner):
    data = _raw(
        yandex_runner,
        b"GET /dump/?a=1&a=2&b= HTTP/1.1\r\nHost: localhost\r\nx-custom: one\r\n"
        b"X-Custom: two\r\nCookie: secret=1\r\nAuthorization: Bearer t\r\n"
        b"X-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n",
    )
    event = json.loads(data.partition(b"\r\n\r\n")[2])["event"]
    assert event["headers"]["X-Custom"] == "two"
    assert event["multiValueHeaders"]["X-Custom"] == ["one", "two"]
    assert "Cookie" not in event["headers"] and "Authorization" not in event["headers"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1, 127.0.0.1"
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}


def test_raw_integration_passes_the_body_and_returns_the_result(yandex_runner: Runner):
    status, _, body = yandex_runner.request("POST", "/raw_echo/?integration=raw", b'{"x": [1]}')
    assert status == 200
    assert json.loads(body) == {"type": "dict", "event": {"x": [1]}}
    status, _, body = yandex_runner.request("POST", "/raw_echo/?integration=raw", b"plain text")
    assert status == 200 and body == b"str:plain text"


def _respond(runner: Runner, response: object) -> tuple[int, dict[str, str], bytes]:
    payload = json.dumps({"response": response}).encode()
    return runner.request("POST", "/respond/", payload, {"Content-Type": "application/json"})


def test_response_mapping(yandex_runner: Runner):
    status, headers, body = _respond(
        yandex_runner,
        {"statusCode": 418, "headers": {"Content-Type": "text/plain", "X-One": "1"}, "body": "tea"},
    )
    assert (status, body) == (418, b"tea")
    assert headers["content-type"] == "text/plain" and headers["x-one"] == "1"
    status, _, body = _respond(
        yandex_runner,
        {
            "statusCode": 200,
            "body": base64.b64encode(b"\x00\x01bin").decode(),
            "isBase64Encoded": True,
        },
    )
    assert (status, body) == (200, b"\x00\x01bin")
    status, _, body = _respond(yandex_runner, {"body": "no status code"})
    assert (status, body) == (200, b"no status code")


def test_multi_value_headers_win_over_headers(yandex_runner: Runner):
    status, headers, _ = _respond(
        yandex_runner,
        {
            "statusCode": 200,
            "headers": {"X-Both": "single", "X-Only": "kept"},
            "multiValueHeaders": {"X-Both": ["m1", "m2"]},
            "body": "",
        },
    )
    assert status == 200
    assert headers["x-both"] == "m1, m2"  # http.client joins repeated headers
    assert headers["x-only"] == "kept"


def test_headers_the_platform_sets_itself_are_dropped_from_the_response(yandex_runner: Runner):
    # PLATFORMS.md §5.1 (the Russian page): the client sees one X-Request-Id, the platform's.
    status, headers, _ = _respond(
        yandex_runner,
        {
            "statusCode": 200,
            "headers": {"X-Request-Id": "mine", "X-Function-Id": "f", "X-Kept": "yes"},
            "multiValueHeaders": {"X-Content-Type-Options": ["nosniff"]},
            "body": "",
        },
    )
    assert status == 200
    assert headers["x-kept"] == "yes"
    assert "mine" not in headers["x-request-id"] and "," not in headers["x-request-id"]
    assert "x-function-id" not in headers and "x-content-type-options" not in headers


def test_malformed_response_is_a_proxy_integration_error(yandex_runner: Runner):
    for bad in (["a", "list"], "just a string", None, {"statusCode": "two hundred"}):
        status, _, body = _respond(yandex_runner, bad)
        error = json.loads(body)
        assert status == 502, bad
        assert error["errorType"] == "ProxyIntegrationError"
        assert error["errorMessage"] == "Malformed serverless function response: not a valid json"
        assert "payload" in error


def test_exception_is_502_with_error_json_and_header(yandex_runner: Runner):
    status, headers, body = yandex_runner.request("GET", "/boom/")
    error = json.loads(body)
    assert status == 502
    assert headers["x-function-error"] == "true"
    assert sorted(error) == ["errorMessage", "errorType", "stackTrace"]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "something broke"
    assert any('main.py", line' in frame and "in boom" in frame for frame in error["stackTrace"])


def test_async_handler_is_awaited(yandex_runner: Runner):
    status, _, body = yandex_runner.request("GET", "/async_handler/")
    assert (status, body) == (201, b"awaited")


def test_request_over_3_5_mb_is_413(yandex_runner: Runner):
    status, _, body = yandex_runner.request(
        "POST", "/dump/", b"{" + b" " * 3_700_000 + b"}", {"Content-Type": "application/json"}
    )
    assert status == 413
    assert "3.5 MB" in json.loads(body)["errorMessage"]


def test_ten_megabyte_request_is_413_and_the_connection_survives(yandex_runner: Runner):
    status, _, _ = yandex_runner.request("POST", "/dump/", b"x" * 10_000_000)
    assert status == 413
    assert yandex_runner.request("GET", "/counter/")[0] == 200


def test_odd_methods_reach_the_handler(yandex_runner: Runner):
    for method in ("PATCH", "OPTIONS", "DELETE", "PROPFIND"):
        status, _, body = yandex_runner.request(method, "/dump/")
        assert status == 200
        assert json.loads(body)["event"]["httpMethod"] == method
    status, headers, body = yandex_runner.request("HEAD", "/dump/")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_too_many_headers_is_431(yandex_runner: Runner):
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(150))
    response = _raw(
        yandex_runner, b"GET /dump/ HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n"
    )
    assert response.startswith(b"HTTP/1.1 431 ")


def test_malformed_request_line_is_400(yandex_runner: Runner):
    assert _raw(yandex_runner, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_non_loopback_host_is_refused(yandex_runner: Runner):
    status, _, body = yandex_runner.request("GET", "/dump/", headers={"Host": "evil.example:80"})
    assert status == 403
    assert b"localhost" in body
    status, _, _ = yandex_runner.request("GET", "/dump/", headers={"Host": "localhost:1234"})
    assert status == 200


def test_keep_alive_serves_many_requests_on_one_connection(yandex_runner: Runner):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", yandex_runner.port, timeout=10)
    try:
        bodies = []
        for _ in range(20):
            connection.request("GET", "/counter/")
            response = connection.getresponse()
            bodies.append(int(response.read()))
        assert bodies == sorted(bodies) and len(set(bodies)) == 20
    finally:
        connection.close()


def test_pipelined_requests_are_answered_in_order(yandex_runner: Runner):
    # One write, five requests: answered at once (404, 403), by the function, and by the
    # Invoke API's task — every response in the order of its request, none lost.
    requests = [
        b"GET /counter/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /no-such-function/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /counter/ HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        b"POST /2015-03-31/functions/counter/invocations HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Length: 2\r\n\r\n{}",
        b"GET /counter/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ]
    data = _raw(yandex_runner, b"".join(requests))
    statuses = []
    bodies = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        statuses.append(int(head.split(b" ", 2)[1]))
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        bodies.append(rest[:length])
        data = rest[length:]
    assert statuses == [200, 404, 403, 200, 200]
    counts = [int(bodies[0]), int(json.loads(bodies[3])["body"]), int(bodies[4])]
    assert counts == [counts[0], counts[0] + 1, counts[0] + 2]


def test_log_lines_are_tied_to_their_request(yandex_runner: Runner):
    status, headers, body = yandex_runner.request("GET", "/logs/")
    rid = body.decode()
    assert status == 200 and headers["x-request-id"] == rid
    lines = [(e["stream"], e["line"]) for e in yandex_runner.logs(rid)]
    texts = [line for _, line in lines]
    assert texts[0].startswith(f"START RequestID: {rid} Version: d4e")
    assert ("stdout", "to stdout") in lines
    assert ("stderr", "to stderr") in lines
    warned = [line for line in texts if line.endswith("\twarned")]
    assert warned and warned[0].startswith("[WARNING]\t") and f"\t{rid}\t" in warned[0]
    assert not any("below the root logger" in line for line in texts)
    assert texts[-2] == f"END RequestID: {rid}"
    report = texts[-1].split("\t")
    assert report[0] == f"REPORT RequestID: {rid}"
    assert report[1].startswith("Duration: ") and report[1].endswith(" ms")
    assert report[2].startswith("Billed Duration: ") and int(report[2].split()[2]) % 100 == 0
    assert report[3] == "Memory Size: 128 MB"
    assert report[4].startswith("Max Memory Used: ")
    assert report[5].startswith("Queuing Duration: ")
