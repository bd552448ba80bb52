"""`handlerlens serve` on a SAM app: every declared route answered as API Gateway would.

A real runner (`python -m handlerlens.runner serve`, no targets: every declared function) over
real HTTP against real workers. The events are compared field for field with PLATFORMS.md
§10.1 (REST, payload 1.0; the template and stage fields of GO apigw-request.json) and §10.2
(HTTP API, payload 2.0: GO apigw-v2-request-no-authorizer.json).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.harness import Runner

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: src/
    Timeout: 5
  HttpApi:
    CorsConfiguration:
      AllowOrigins:
        - https://shop.example
      AllowMethods:
        - GET
      ExposeHeaders:
        - X-Total
      MaxAge: 60
Resources:
  OrdersApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      BinaryMediaTypes:
        - image~1png
        - application~1octet-stream
      Variables:
        color: blue
      Cors:
        AllowOrigin: "'*'"
        AllowHeaders: "'Content-Type'"
        MaxAge: "'600'"
  GetItem:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      Events:
        Get:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: get
        Form:
          Type: Api
          Properties:
            Path: /items
            Method: post
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      Events:
        Create:
          Type: Api
          Properties:
            Path: /orders
            Method: post
            RestApiId: !Ref OrdersApi
        Picture:
          Type: Api
          Properties:
            Path: /orders/{id}/picture
            Method: get
            RestApiId: !Ref OrdersApi
  Malformed:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.malformed
      Events:
        ExtraKey:
          Type: Api
          Properties:
            Path: /malformed/extra
            Method: get
        DictBody:
          Type: Api
          Properties:
            Path: /malformed/dict
            Method: get
  Things:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /things/{id}
            Method: get
  Shadow:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.shadow
      Events:
        Again:
          Type: Api
          Properties:
            Path: /items/{key}
            Method: GET
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.worker
  Hook:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      FunctionUrlConfig:
        AuthType: NONE
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.slow
      Events:
        Rest:
          Type: Api
          Properties:
            Path: /slow
            Method: get
            TimeoutInMillis: 300
        Http:
          Type: HttpApi
          Properties:
            Path: /slow-http
            Method: get
            TimeoutInMillis: 300
  Legacy:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      Events:
        Old:
          Type: HttpApi
          Properties:
            Path: /legacy/{id}
            Method: post
            PayloadFormatVersion: "1.0"
"""

APP = """\
import base64
import json
import time


def echo(event, context):
    if event.get("path", "").endswith("/picture"):
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(b"\\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    return {"statusCode": 200, "body": json.dumps(event)}


def malformed(event, context):
    if event["path"].endswith("extra"):
        return {"statusCode": 200, "body": "fine", "message": "extra"}
    return {"statusCode": 200, "body": {"a": 1}}


def shadow(event, context):
    return {"statusCode": 200, "body": "shadow"}


def slow(event, context):
    time.sleep(1)
    return {"statusCode": 200, "body": "late"}


def worker(event, context):
    return {"worked": event}
"""


def make_app(folder: Path, template: str = TEMPLATE) -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "template.yaml").write_text(template)
    (folder / "src" / "app.py").write_text(APP)
    return folder


@pytest.fixture(scope="module")
def sam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    folder = make_app(tmp_path_factory.mktemp("sam-app"))
    runner = Runner(["--no-watch"], folder)
    yield runner
    runner.stop()


def get_json(runner: Runner, method: str, path: str, **kwargs: object) -> dict[str, object]:
    status, _, body = runner.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert status == 200, body
    event: dict[str, object] = json.loads(body)
    return event


def test_a_rest_route_gets_the_rest_event_of_its_template_and_stage(sam: Runner) -> None:
    event = get_json(sam, "GET", "/items/42?tag=a&tag=b", headers={"X-Forwarded-For": "10.0.0.1"})
    context = event.pop("requestContext")
    assert isinstance(context, dict)
    headers = event.pop("headers")
    multi_headers = event.pop("multiValueHeaders")
    assert event == {
        "resource": "/items/{id}",
        "path": "/items/42",
        "httpMethod": "GET",
        "queryStringParameters": {"tag": "b"},
        "multiValueQueryStringParameters": {"tag": ["a", "b"]},
        "pathParameters": {"id": "42"},
        # The implicit ServerlessRestApi declares no stage variables.
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }
    assert isinstance(headers, dict) and isinstance(multi_headers, dict)
    # The client first, then the proxies; the port and scheme of this endpoint.
    assert headers["X-Forwarded-For"] == "10.0.0.1, 127.0.0.1"
    assert headers["X-Forwarded-Port"] == str(sam.port)
    assert headers["X-Forwarded-Proto"] == "http"
    assert multi_headers["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.1"]
    assert context["stage"] == "Prod"
    assert context["resourcePath"] == "/items/{id}"
    assert context["path"] == "/Prod/items/42"
    assert context["httpMethod"] == "GET"
    assert context["apiId"] == "ServerlessRestApi"
    assert context["identity"]["sourceIp"] == "127.0.0.1"  # type: ignore[index]
    assert isinstance(context["requestTimeEpoch"], int)


def test_an_explicit_api_has_its_stage_and_variables_with_or_without_the_stage_prefix(
    sam: Runner,
) -> None:
    for url in ("/orders", "/v1/orders"):
        event = get_json(
            sam, "POST", url, body=b'{"n": 1}', headers={"Content-Type": "application/json"}
        )
        assert event["resource"] == "/orders"
        assert event["path"] == "/orders"
        assert event["stageVariables"] == {"color": "blue"}
        assert event["body"] == '{"n": 1}'
        context = event["requestContext"]
        assert isinstance(context, dict)
        assert (context["stage"], context["path"]) == ("v1", "/v1/orders")


def test_rest_passes_a_form_body_as_text_and_only_binary_media_types_as_base64(
    sam: Runner,
) -> None:
    # curl's default form body: text, as the REST API and sam local pass it.
    form = get_json(
        sam,
        "POST",
        "/items",
        body=b"name=a&size=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (form["body"], form["isBase64Encoded"]) == ("name=a&size=2", False)
    # On the implicit API no binary media type is declared: even bytes are text (UTF-8).
    other = get_json(sam, "POST", "/items", body=b"PNG", headers={"Content-Type": "image/png"})
    assert (other["body"], other["isBase64Encoded"]) == ("PNG", False)
    # OrdersApi declares image~1png: that body arrives base64.
    png = get_json(sam, "POST", "/orders", body=b"\x89PNG", headers={"Content-Type": "image/png"})
    assert png["isBase64Encoded"] is True
    assert base64.b64decode(str(png["body"])) == b"\x89PNG"


def test_a_base64_response_is_decoded_only_for_a_binary_accept_type(sam: Runner) -> None:
    status, headers, body = sam.request("GET", "/orders/1/picture", headers={"Accept": "image/png"})
    assert (status, headers["content-type"], body) == (200, "image/png", b"\x89PNG")
    status, _, body = sam.request("GET", "/orders/1/picture", headers={"Accept": "*/*"})
    assert (status, body) == (200, base64.b64encode(b"\x89PNG"))


def test_a_rest_response_the_gateway_rejects_is_502_with_the_reason_in_the_log(
    sam: Runner,
) -> None:
    for path, reason in (
        ("/malformed/extra", "the response has the key 'message'"),
        ("/malformed/dict", "its body is an object, not a string"),
    ):
        status, headers, body = sam.request("GET", path)
        assert status == 502
        assert json.loads(body) == {"message": "Internal server error"}
        assert headers["content-type"] == "application/json"
        line = sam.wait_stderr(reason)
        assert line.startswith("handlerlens: Malformed: GET ")
        assert "deployed, the REST API answers 502" in line


def test_an_http_api_route_gets_the_2_0_event(sam: Runner) -> None:
    event = get_json(
        sam,
        "GET",
        "/things/7?a=1&a=2",
        headers={"Cookie": "c1=x; c2=y", "X-Custom": "v"},
    )
    context = event.pop("requestContext")
    headers = event.pop("headers")
    assert isinstance(context, dict) and isinstance(headers, dict)
    assert event == {
        "version": "2.0",
        "routeKey": "GET /things/{id}",
        "rawPath": "/things/7",
        "rawQueryString": "a=1&a=2",
        "cookies": ["c1=x", "c2=y"],
        "queryStringParameters": {"a": "1,2"},
        "pathParameters": {"id": "7"},
        "isBase64Encoded": False,
    }
    assert headers["x-custom"] == "v" and "cookie" not in headers
    assert headers["x-forwarded-proto"] == "http"
    assert context["routeKey"] == "GET /things/{id}"
    assert context["stage"] == "$default"
    assert context["http"]["path"] == "/things/7"  # type: ignore[index]
    assert context["apiId"] == "ServerlessHttpApi"


def test_what_no_route_takes_gets_the_rest_apis_403(sam: Runner) -> None:
    token = {"message": "Missing Authentication Token"}
    for method, path in (
        ("GET", "/nowhere"),
        ("DELETE", "/items/1"),  # a known path, another method
        ("FOO", "/items/1"),  # not an HTTP method at all
        ("GET", "/items/a/b"),  # `/` inside a path parameter: two segments, no route
        ("GET", "/"),
    ):
        status, _, body = sam.request(method, path)
        assert (status, json.loads(body)) == (403, token), (method, path)
    # Sent as %2F, the slash is one segment's value.
    event = get_json(sam, "GET", "/items/a%2Fb")
    assert event["pathParameters"] == {"id": "a/b"}


def test_the_route_table_is_printed_and_sent_as_an_event(sam: Runner) -> None:
    url = f"http://127.0.0.1:{sam.port}"
    line = sam.wait_stderr("GET /items/{id} → GetItem")
    assert line == f"  GET /items/{{id}} → GetItem (REST, stage Prod)  {url}/items/{{id}}"
    assert sam.wait_stderr("GET /things/{id} → Things").endswith(f"{url}/things/{{id}}")
    assert "POST /orders → Orders (REST, stage v1)" in sam.wait_stderr("POST /orders →")
    event = sam.wait_for(lambda e: e["event"] == "routes")
    assert event["reason"] == "start"
    first = event["routes"][0]
    assert {k: first[k] for k in ("routeKey", "function", "served", "kind", "stage", "url")} == {
        "routeKey": "GET /items/{id}",
        "function": "GetItem",
        "served": "GetItem",
        "kind": "rest",
        "stage": "Prod",
        "url": f"{url}/items/{{id}}",
    }
    # The function without a route is reachable through the Invoke API, and told so.
    line = sam.wait_stderr("Worker has no HTTP route")
    assert f"POST {url}/2015-03-31/functions/Worker/invocations" in line
    status, _, body = sam.request(
        "POST", "/2015-03-31/functions/Worker/invocations", body=b'{"k": 1}'
    )
    assert (status, json.loads(body)) == (200, {"worked": {"k": 1}})


def test_two_functions_on_one_route_are_an_error_and_the_first_declared_answers(
    sam: Runner,
) -> None:
    line = sam.wait_stderr("[route-conflict]")
    assert "template.yaml" in line and "error" in line
    assert "GetItem and Shadow" in line
    assert line.endswith("(served: the first declaration wins)")
    event = get_json(sam, "GET", "/items/5")
    assert event["resource"] == "/items/{id}"  # GetItem's, not Shadow's


def test_request_bodies_over_the_limits_get_the_gateways_answers(sam: Runner) -> None:
    # 4 MB of text: under API Gateway's 10 MB and Lambda's 6 MB, delivered whole.
    body = b"a" * (4 * 1024 * 1024)
    event = get_json(sam, "POST", "/items", body=body, headers={"Content-Type": "text/plain"})
    assert event["body"] == body.decode()
    # 7 MB: the gateway takes it, Lambda refuses a 6 MB+ event: 500, said in the log.
    status, _, answer = sam.request(
        "POST", "/items", body=b"a" * (7 * 1024 * 1024), headers={"Content-Type": "text/plain"}
    )
    assert (status, json.loads(answer)) == (500, {"message": "Internal server error"})
    assert "over Lambda's 6 MB limit" in sam.wait_stderr("6 MB limit")
    # 11 MB: over API Gateway's 10 MB, answered by the gateway.
    status, _, answer = sam.request(
        "POST", "/items", body=b"a" * (11 * 1024 * 1024), headers={"Content-Type": "text/plain"}
    )
    assert (status, json.loads(answer)) == (413, {"message": "Request Too Long"})


def test_an_http_api_only_app_answers_404_not_found(tmp_path: Path) -> None:
    template = TEMPLATE.split("  GetItem:")[0].replace("  OrdersApi:", "  Unused:", 1)
    template = (
        template.split("  Unused:")[0]
        + TEMPLATE[TEMPLATE.index("  Things:") :].split("  Shadow:")[0]
    )
    served = Runner(["--no-watch"], make_app(tmp_path, template))
    try:
        status, _, body = served.request("GET", "/nothing")
        assert (status, json.loads(body)) == (404, {"message": "Not Found"})
        assert get_json(served, "GET", "/things/1")["routeKey"] == "GET /things/{id}"
    finally:
        served.stop()


def test_an_http_api_payload_1_0_route_gets_the_rest_shape_with_its_version(sam: Runner) -> None:
    event = get_json(
        sam, "POST", "/legacy/3", body=b"{}", headers={"Content-Type": "application/json"}
    )
    assert event["version"] == "1.0"
    assert (event["resource"], event["path"]) == ("/legacy/{id}", "/legacy/3")
    assert event["pathParameters"] == {"id": "3"}
    assert event["body"] == "{}"
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert (context["stage"], context["path"], context["resourcePath"]) == (
        "$default",
        "/legacy/3",
        "/legacy/{id}",
    )


def test_a_function_url_owns_every_path_of_its_own_localhost_name(sam: Runner) -> None:
    host = f"hook.localhost:{sam.port}"
    event = get_json(sam, "DELETE", "/any/path?x=1", headers={"Host": host})
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert (event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "$default",
        "/any/path",
        "x=1",
    )
    assert (context["routeKey"], context["stage"]) == ("$default", "$default")
    assert context["authentication"] is None and context["authorizer"] is None
    assert context["domainName"] == "hook.localhost"
    assert "pathParameters" not in event and "stageVariables" not in event
    line = sam.wait_stderr("$default → Hook (Function URL)")
    assert line.endswith(f"http://hook.localhost:{sam.port}/")
    # On the shared host, the function URL's paths are no route.
    assert sam.request("DELETE", "/any/path")[0] == 403


def test_a_function_past_the_integration_timeout_gets_the_gateways_answer(sam: Runner) -> None:
    for path, status, body in (
        ("/slow", 504, {"message": "Endpoint request timed out"}),
        ("/slow-http", 503, {"message": "Service Unavailable"}),
    ):
        began = time.monotonic()
        answered, _, answer = sam.request("GET", path)
        assert (answered, json.loads(answer)) == (status, body)
        assert time.monotonic() - began < 0.9  # the gateway's 300 ms, not the function's 1 s
    line = sam.wait_stderr("ran past the gateway's integration timeout")
    assert "(0.3 s, declared)" in line and "the function runs on" in line


def test_cors_preflight_is_the_gateways_answer_as_declared(sam: Runner) -> None:
    # REST: SAM's Cors is an OPTIONS method the API answers itself, for any caller.
    status, headers, body = sam.request("OPTIONS", "/orders")
    assert (status, body) == (200, b"")
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "OPTIONS,POST"
    assert headers["access-control-allow-headers"] == "Content-Type"
    assert headers["access-control-max-age"] == "600"
    # Real responses are the function's own: a proxy integration adds no CORS headers.
    status, headers, _ = sam.request("POST", "/orders", body=b"{}", headers={"Origin": "https://x"})
    assert status == 200 and "access-control-allow-origin" not in headers
    # The implicit REST API declares no Cors: OPTIONS is no route there.
    assert sam.request("OPTIONS", "/items/1")[0] == 403

    # HTTP API: a preflight from an allowed origin, one from another.
    ask = {"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"}
    status, headers, body = sam.request("OPTIONS", "/things/1", headers=ask)
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == "https://shop.example"
    assert headers["access-control-allow-methods"] == "GET"
    assert headers["access-control-max-age"] == "60"
    status, headers, _ = sam.request(
        "OPTIONS", "/things/1", headers={**ask, "Origin": "https://evil.example"}
    )
    assert status == 204 and "access-control-allow-origin" not in headers
    # And the gateway sets the CORS headers of the real response.
    status, headers, _ = sam.request("GET", "/things/1", headers={"Origin": "https://shop.example"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://shop.example"
    assert headers["access-control-expose-headers"] == "X-Total"
