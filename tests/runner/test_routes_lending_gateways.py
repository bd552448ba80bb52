"""Routed connections lent to a worker (worker/routed.py) answer byte for byte as the supervisor
does (HANDLERLENS_LEND=0 is the reference, as in test_routes_lending.py), for what that file
does not cover: Yandex API Gateway routes (payload 0.1 and 1.0, with `x-yc-status-mapping`),
an HTTP API's CORS headers on actual (non-preflight) responses, and a REST API's binary media
types (base64 in both directions). A real `handlerlens serve` over real sockets each time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runner.harness import Runner
from tests.runner.test_routes_lending import Client, _held_by, _lent, _pid
from tests.runner.test_routes_yandex import MAIN_TF

SPEC = """\
openapi: 3.0.0
info:
  title: shop
  version: 1.0.0
components:
  responses:
    Failed:
      description: the function failed
      x-yc-status-mapping: 503
paths:
  /items/{id}:
    get:
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
        - name: q
          in: query
          schema:
            type: string
        - name: session
          in: cookie
          schema:
            type: string
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${ITEMS_ID}
        context:
          item: "{id}"
          session: "{session}"
      responses:
        "404":
          description: not there is fine here
          x-yc-status-mapping: 200
        "502":
          $ref: '#/components/responses/Failed'
  /v1/items/{rest+}:
    x-yc-apigateway-any-method:
      operationId: anyItemV1
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${ITEMS_ID}
        payload_format_version: "1.0"
      responses:
        "201":
          description: created
          x-yc-status-mapping: 202
"""

YANDEX_APP = """\
import base64
import json
import os


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    do = query.get("do", "pid")
    if do == "dump":
        return {"statusCode": 200, "body": json.dumps(event)}
    if do == "status":
        return {"statusCode": int(query["code"]), "body": "status " + query["code"]}
    if do == "raise":
        raise ValueError("bad input")
    if do == "b64":
        body = base64.b64encode(bytes(range(256))).decode()
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": body,
            "isBase64Encoded": True,
        }
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: src/
    Timeout: 1
  HttpApi:
    CorsConfiguration:
      AllowOrigins:
        - https://shop.example
      AllowMethods:
        - GET
      ExposeHeaders:
        - X-Total
      AllowCredentials: true
      MaxAge: 60
Resources:
  FilesApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      BinaryMediaTypes:
        - image~1png
        - application~1octet-stream
  Files:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        Any:
          Type: Api
          Properties:
            Path: /files/{name}
            Method: any
            RestApiId: !Ref FilesApi
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

AWS_APP = """\
import base64
import json
import os


def handler(event, context):
    do = (event.get("queryStringParameters") or {}).get("do", "pid")
    if do == "dump":
        return {"statusCode": 200, "body": json.dumps(event)}
    if do == "png":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(range(256))).decode(),
            "isBase64Encoded": True,
        }
    if do == "echo":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": event["body"],
            "isBase64Encoded": event["isBase64Encoded"],
        }
    if do == "cors":
        return {
            "statusCode": 200,
            "headers": {"Access-Control-Allow-Origin": "*", "X-Total": "3"},
            "body": "own headers",
        }
    if do == "ok":
        return {"statusCode": 200, "body": "ok"}
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
"""


def _serve(folder: Path, lend: bool) -> Runner:
    env = dict(os.environ, HANDLERLENS_LEND="1" if lend else "0")
    return Runner(["--no-watch"], folder, env=env)


@pytest.fixture(scope="module")
def yandex_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lent-yandex")
    (folder / "src").mkdir()
    (folder / "gateway").mkdir()
    (folder / "main.tf").write_text(MAIN_TF)
    (folder / "gateway" / "spec.yaml").write_text(SPEC)
    (folder / "src" / "items.py").write_text(YANDEX_APP)
    return folder


@pytest.fixture(scope="module")
def aws_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lent-aws")
    (folder / "src").mkdir()
    (folder / "template.yaml").write_text(TEMPLATE)
    (folder / "src" / "app.py").write_text(AWS_APP)
    return folder


@pytest.fixture(scope="module")
def yandex_lent(yandex_app: Path) -> Iterator[Runner]:
    runner = _serve(yandex_app, lend=True)
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def aws_lent(aws_app: Path) -> Iterator[Runner]:
    runner = _serve(aws_app, lend=True)
    yield runner
    runner.stop()


def _request(method: str, target: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

YANDEX_REQUESTS = [
    _request("GET", "/items/7?do=dump&q=tea&q=milk", "X-Dup: 1", "X-Dup: 2"),
    _request("GET", "/items/a%2Fb?do=dump"),
    _request("GET", "/items/7?do=status&code=404"),  # mapped: 200
    _request("GET", "/items/7?do=status&code=418"),  # no mapping: as returned
    _request("GET", "/items/7?do=raise"),  # 502, mapped: 503
    _request("GET", "/items/7?do=b64"),
    _request("POST", "/v1/items/a/b?do=dump", "Content-Type: application/json", body=b'{"a": 1}'),
    _request("POST", "/v1/items/c?do=dump", "Content-Type: text/plain", body=b"hello"),
    _request("PUT", "/v1/items/x?do=status&code=201"),  # mapped: 202
    _request("GET", "/v1/items/x?do=status&code=404"),  # not mapped on this operation
    _request("HEAD", "/v1/items/h?do=status&code=201"),
    _request("GET", "/v1/items/c?do=dump", "Cookie: a=1; b=2", "Accept: */*"),
    _request("GET", "/items/7?do=dump", "Cookie: session=s1; x; a=1", "Cookie: session=s2"),
    _request("DELETE", "/items/7"),  # no such method on the path: the gateway's 404
]

FILES_REQUESTS = [
    _request("PUT", "/files/a.png?do=dump", "Content-Type: image/png", body=PNG),
    _request("POST", "/files/a.txt?do=dump", "Content-Type: text/plain", body=b"plain text"),
    _request(
        "POST",
        "/files/form?do=dump",
        "Content-Type: application/x-www-form-urlencoded",
        body=b"a=1&b=2",
    ),
    _request("GET", "/files/a.png?do=png", "Accept: image/png"),  # decoded
    _request("GET", "/files/a.png?do=png", "Accept: text/html, image/png"),  # base64 text
    _request("GET", "/files/a.png?do=png"),  # no Accept: base64 text
    _request("HEAD", "/files/a.png?do=png", "Accept: image/png"),
    _request(
        "PUT",
        "/v1/files/b.bin?do=echo",
        "Content-Type: application/octet-stream",
        "Accept: application/octet-stream",
        body=PNG,
    ),  # base64 in, and decoded out: the same bytes
]

THINGS_REQUESTS = [
    _request("GET", "/things/1?do=dump", "Origin: https://shop.example"),
    _request("GET", "/things/2?do=ok", "Origin: https://shop.example"),
    _request("GET", "/things/3?do=ok", "Origin: https://elsewhere.example"),
    _request("GET", "/things/4?do=ok"),
    _request("GET", "/things/5?do=cors", "Origin: https://shop.example"),
    _request("GET", "/things/6?do=cors", "Origin: https://elsewhere.example"),
]


def _normalise(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs from call to call (ids, times, the client's port)."""
    context = event["requestContext"]
    for key in ("requestId", "requestTime", "requestTimeEpoch", "time", "timeEpoch"):
        context.pop(key, None)
    # (Yandex's request and trace ids, and the client's address with its port, as headers.)
    varying = ("X-Forwarded-Port", "x-forwarded-port", "X-Request-Id", "X-Trace-Id")
    for headers in ("headers", "multiValueHeaders"):
        for name in (*varying, "X-Real-Remote-Address"):
            (event.get(headers) or {}).pop(name, None)
    return event


def _exchanges(runner: Runner, lending: bool, warm: str, raws: list[bytes]) -> list[Any]:
    """`raws` on one keep-alive connection, after two requests for `warm` (which lend it to
    the function's worker when lending); each answer with the ids and times taken out."""
    client = Client(runner.port)
    out: list[Any] = []
    try:
        if lending:
            _lent(client, runner, warm)
        else:
            pid = _pid(client.get(warm))
            assert _pid(client.get(warm)) == pid
            assert not _held_by(client, runner, pid, wait=0.3)
        holders: set[int] = set()
        for index, raw in enumerate(raws):
            if index == len(raws) - 1:
                holders = client.holders()
            status, headers, body = client.send(raw)
            for name in ("apigw-requestid", "x-request-id", "date"):
                headers.pop(name, None)
            if b"do=dump" in raw or b"do=raise" in raw:
                headers.pop("content-length", None)  # (ids, the port, a stack trace)
                data = json.loads(body)
                if b"do=dump" in raw:
                    data = _normalise(data)
                else:
                    data.pop("stackTrace", None)
                body = json.dumps(data, sort_keys=True).encode()
            out.append((raw.split(b"\r\n", 1)[0], status, headers, body))
        # A lent connection stayed with the worker up to the last request (the function's
        # own routes; a request no route takes goes back to the supervisor).
        out.append(("held", len(holders)))
    finally:
        client.close()
    return out


def _parity(app: Path, lent: Runner, warm: str, raws: list[bytes]) -> list[Any]:
    with_lending = _exchanges(lent, True, warm, raws)
    kept = _serve(app, lend=False)
    try:
        without = _exchanges(kept, False, warm, raws)
    finally:
        kept.stop()
    assert with_lending[-1] == ("held", 2) and without[-1] == ("held", 1)
    assert with_lending[:-1] == without[:-1]
    return with_lending[:-1]


def test_yandex_routes_answer_alike_on_a_lent_connection(
    yandex_app: Path, yandex_lent: Runner
) -> None:
    answers = _parity(yandex_app, yandex_lent, "/items/0", YANDEX_REQUESTS)
    statuses = [status for _, status, _, _ in answers]
    assert statuses == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",  # the function's 404, mapped
        b"HTTP/1.1 418 I'm a Teapot",
        b"HTTP/1.1 503 Service Unavailable",  # the function error's 502, mapped
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 202 Accepted",  # 201, mapped on the 1.0 operation
        b"HTTP/1.1 404 Not Found",  # the 404 mapping is the other operation's
        b"HTTP/1.1 202 Accepted",  # HEAD: mapped too, no body
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 404 Not Found",  # no DELETE on /items/{id}: the gateway's own
    ]
    assert answers[10][3] == b""
    first = json.loads(answers[0][3])
    assert (first["url"], first["path"], first["pathParams"]) == (
        "/items/7?do=dump&q=tea&q=milk",
        "/items/{id}",
        {"id": "7"},
    )
    assert first["params"] == {"id": "7", "q": "milk"}
    assert first["multiValueParams"]["q"] == ["tea", "milk"]
    # No cookie sent: `{session}` stays, as an absent parameter's does.
    assert first["requestContext"]["apiGateway"] == {
        "operationContext": {"item": "7", "session": "{session}"}
    }
    assert json.loads(answers[1][3])["pathParams"] == {"id": "a/b"}
    assert answers[2][3] == b"status 404"
    assert json.loads(answers[4][3])["errorMessage"] == "bad input"
    assert answers[5][3] == bytes(range(256))
    v1 = json.loads(answers[6][3])
    assert (v1["version"], v1["resource"], v1["path"], v1["operationId"]) == (
        "1.0",
        "/v1/items/{rest+}",
        "/v1/items/a/b",
        "anyItemV1",
    )
    assert (v1["pathParameters"], v1["body"]) == ({"rest": "a/b"}, '{"a": 1}')
    text = json.loads(answers[7][3])  # only JSON is text to Yandex: the rest is base64
    assert (text["isBase64Encoded"], base64_decoded(text["body"])) == (True, b"hello")
    headers = json.loads(answers[11][3])["headers"]
    # (As the function's own front end does (yandex_http_event.REMOVED_HEADERS): no Cookie.)
    assert headers["Accept"] == "*/*" and "Cookie" not in headers
    # The declared cookie, from both Cookie headers (the pair without `=` skipped).
    cookie = json.loads(answers[12][3])
    assert (cookie["params"], cookie["multiValueParams"]["session"]) == (
        {"id": "7", "session": "s2"},
        ["s1", "s2"],
    )
    assert cookie["requestContext"]["apiGateway"]["operationContext"]["session"] == "s2"
    assert "Cookie" not in cookie["headers"]
    assert json.loads(answers[13][3])["message"] == "Not Found"


def test_rest_binary_media_types_answer_alike_on_a_lent_connection(
    aws_app: Path, aws_lent: Runner
) -> None:
    answers = _parity(aws_app, aws_lent, "/files/w", FILES_REQUESTS)
    assert {status for _, status, _, _ in answers} == {b"HTTP/1.1 200 OK"}
    binary = json.loads(answers[0][3])
    assert binary["isBase64Encoded"] is True
    assert base64_decoded(binary["body"]) == PNG
    text = json.loads(answers[1][3])
    assert (text["isBase64Encoded"], text["body"]) == (False, "plain text")
    form = json.loads(answers[2][3])
    assert (form["isBase64Encoded"], form["body"]) == (False, "a=1&b=2")
    assert answers[3][3] == PNG  # a binary first Accept type: decoded
    assert base64_decoded(answers[4][3].decode()) == PNG  # not first: the base64 text
    assert base64_decoded(answers[5][3].decode()) == PNG
    assert answers[6][3] == b"" and answers[6][2]["content-length"] == str(len(PNG))
    assert answers[7][3] == PNG  # through the stage prefix, both ways


def test_http_api_cors_headers_on_actual_responses_answer_alike_on_a_lent_connection(
    aws_app: Path, aws_lent: Runner
) -> None:
    answers = _parity(aws_app, aws_lent, "/things/0", THINGS_REQUESTS)
    assert {status for _, status, _, _ in answers} == {b"HTTP/1.1 200 OK"}
    allowed = answers[1][2]
    assert allowed["access-control-allow-origin"] == "https://shop.example"
    assert allowed["access-control-allow-credentials"] == "true"
    assert allowed["access-control-expose-headers"].lower() == "x-total"
    for index in (2, 3):  # another origin, or none: no CORS headers
        assert not [n for n in answers[index][2] if n.startswith("access-control-")]
    # The gateway's CORS headers replace the function's own.
    own = answers[4][2]
    assert own["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in answers[5][2]
    assert answers[5][2]["x-total"] == "3"


def base64_decoded(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def test_a_status_mapping_that_cannot_apply_is_a_warning_at_it() -> None:
    from handlerlens.core.problems import Severity
    from handlerlens.project.routes import ROUTE_INVALID
    from handlerlens.project.routes_openapi import yandex_spec_routes

    spec = SPEC.replace("x-yc-status-mapping: 202", "x-yc-status-mapping: accepted").replace(
        '"404":\n          description: not there is fine here',
        "default:\n          description: not there is fine here",
    )
    routes, problems = yandex_spec_routes("spec.yaml", spec)
    found = sorted((p.span.start.line, p.message) for p in problems if p.code == ROUTE_INVALID)
    lines = spec.splitlines()
    assert [lines[line].strip() for line, _ in found] == [
        "x-yc-status-mapping: 200",
        "x-yc-status-mapping: accepted",
    ]
    assert all(p.severity == Severity.WARNING for p in problems if p.code == ROUTE_INVALID)
    assert "ignores this x-yc-status-mapping: it is on the response 'default'" in found[0][1]
    assert "'accepted' is not an HTTP status code (100-599)" in found[1][1]
    # The routes are still served, with the mappings that can apply.
    assert [(r.path, r.status_mapping) for r in routes] == [
        ("/items/{id}", ((502, 503),)),
        ("/v1/items/{rest+}", ()),
    ]
