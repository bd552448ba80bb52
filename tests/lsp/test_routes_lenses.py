"""Routes in the editor, server side: `handlerlens/routes` lists each declaring file's routes
(where the client puts "▶ Send request" lenses and hovers), and `handlerlens.server.sendRequest`
sends one request to a route: the function, in a real runner, gets the event of the route's
gateway (REST, HTTP API, Yandex API Gateway 0.1 and 1.0) and the answer is the run's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.lsp.conftest import routes, running_server, send, wait_for_diagnostics
from tests.routes_fixtures import ECHO, ITEMS_AND_ORDERS, YANDEX_GREETER

SPEC = """\
openapi: 3.0.0
info:
  title: greeter
  version: 1.0.0
paths:
  /hello/{name}:
    post:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: greeter
  /v1/hello/{name}:
    get:
      operationId: helloV1
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: greeter
        payload_format_version: "1.0"
  /ghost:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: d4e0c0ffee0000000001
"""


def app(tmp_path: Path) -> Path:
    sam = tmp_path / "sam"
    sam.mkdir()
    (sam / "template.yaml").write_text(ITEMS_AND_ORDERS)
    (sam / "app.py").write_text(ECHO)
    yandex = tmp_path / "yandex"
    yandex.mkdir()
    (yandex / "pyproject.toml").write_text(YANDEX_GREETER)
    (yandex / "app.py").write_text(ECHO)
    (yandex / "api.yaml").write_text(SPEC)
    return tmp_path


def covered(path: Path, route: dict[str, Any]) -> str:
    line = path.read_text().splitlines()[route["line"]]
    return line[route["character"] : route["endCharacter"]]


async def test_the_routes_of_a_file_sit_on_their_declarations(tmp_path: Path) -> None:
    root = app(tmp_path)
    template, spec = root / "sam" / "template.yaml", root / "yandex" / "api.yaml"
    async with running_server(root) as client:
        await wait_for_diagnostics(client, spec)
        on_template = await routes(client, template.as_uri())
        on_spec = await routes(client, spec.as_uri())
        everything = await routes(client)
        elsewhere = await routes(client, (root / "sam" / "app.py").as_uri())
        not_a_file = await routes(client, "untitled:Untitled-1")
    assert [r["description"] for r in on_template] == [
        "GET /items/{id} → GetItem (REST, stage Prod)",
        "ANY /orders/{proxy+} → Orders (HTTP API, stage $default)",
    ]
    get_item, orders = on_template
    assert covered(template, get_item) == "/items/{id}"
    assert get_item["params"] == ["id"] and orders["params"] == ["proxy"]
    assert get_item["uri"] == template.as_uri()
    assert (get_item["kind"], get_item["api"], get_item["stage"]) == (
        "rest",
        "ServerlessRestApi",
        "Prod",
    )
    assert [(r["method"], r["path"], r["function"], r["payload"]) for r in on_spec] == [
        ("POST", "/hello/{name}", "greeter", "0.1"),
        ("GET", "/v1/hello/{name}", "greeter", "1.0"),
        ("GET", "/ghost", None, "0.1"),
    ]
    assert covered(spec, on_spec[0]) == "greeter"
    assert len(everything) == 5
    assert elsewhere == [] and not_a_file == []


async def test_send_request_gives_each_function_its_gateways_event(tmp_path: Path) -> None:
    root = app(tmp_path)
    template, spec = root / "sam" / "template.yaml", root / "yandex" / "api.yaml"
    async with running_server(root) as client:
        await wait_for_diagnostics(client, spec)
        get_item, orders = await routes(client, template.as_uri())
        hello, hello_v1, _ = await routes(client, spec.as_uri())
        rest = await send(client, {"route": get_item, "path": "/items/a%2Fb", "query": "?x=1&x=2"})
        http = await send(
            client,
            {
                "route": orders,
                "method": "patch",
                "path": "/orders/7/lines",
                "body": '{"qty": 2}',
            },
        )
        yandex = await send(
            client,
            {
                "route": hello,
                "path": "/hello/Ada",
                "query": "lang=en",
                "headers": {"Content-Type": "text/plain"},
                "body": "hi",
            },
        )
        yandex_v1 = await send(
            client, {"route": hello_v1, "path": "/hello/Ada".replace("/h", "/v1/h")}
        )

    def event(result: dict[str, Any]) -> dict[str, Any]:
        assert result["functionError"] is False, result
        assert result["http"]["status"] == 200
        return dict(json.loads(base64.b64decode(result["http"]["bodyBase64"])))

    got = event(rest)
    assert rest["event"] == got  # sent back for the response view's "Run again"
    assert rest["http"]["trigger"] == "api-gateway-rest"
    assert got["resource"] == got["requestContext"]["resourcePath"] == "/items/{id}"
    assert got["path"] == "/items/a%2Fb"
    assert got["requestContext"]["path"] == "/Prod/items/a%2Fb"
    assert got["requestContext"]["stage"] == "Prod"
    assert got["pathParameters"] == {"id": "a/b"}
    assert got["httpMethod"] == "GET"
    assert got["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert got["body"] is None
    # The gateway face's fields, as serve sends them (platforms/gateways.py).
    assert got["requestContext"]["apiId"] == "ServerlessRestApi"
    assert got["headers"]["X-Forwarded-Proto"] == "http"
    assert got["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert "stageVariables" in got and got["stageVariables"] is None

    got = event(http)
    assert http["http"]["trigger"] == "http-api"
    assert got["version"] == "2.0"
    assert got["routeKey"] == got["requestContext"]["routeKey"] == "ANY /orders/{proxy+}"
    assert got["rawPath"] == "/orders/7/lines"
    assert got["pathParameters"] == {"proxy": "7/lines"}
    assert got["requestContext"]["http"]["method"] == "PATCH"
    assert got["body"] == '{"qty": 2}' and got["isBase64Encoded"] is False
    assert got["headers"]["content-type"] == "application/json"
    assert got["requestContext"]["apiId"] == "ServerlessHttpApi"
    assert got["headers"]["x-forwarded-proto"] == "http"

    got = event(yandex)
    assert yandex["http"]["trigger"] == "api-gateway"
    assert got["url"] == "/hello/Ada?lang=en"
    assert got["path"] == "/hello/{name}"
    assert got["pathParams"] == got["params"] == {"name": "Ada"}
    assert got["multiValueParams"] == {"name": ["Ada"]}
    assert got["queryStringParameters"] == {"lang": "en"}
    assert got["httpMethod"] == "POST"
    assert got["body"] == "aGk=" and got["isBase64Encoded"] is True  # text/plain: base64
    assert "apiGateway" in got["requestContext"]

    got = event(yandex_v1)
    assert got["version"] == "1.0"
    assert (got["path"], got["resource"]) == ("/v1/hello/Ada", "/v1/hello/{name}")
    assert got["pathParameters"] == {"name": "Ada"}
    assert "url" not in got and "pathParams" not in got
    assert got["operationId"] == "helloV1"
    assert got["parameters"] == {"name": "Ada"}


async def test_a_request_the_route_cannot_take_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    root = app(tmp_path)
    template, spec = root / "sam" / "template.yaml", root / "yandex" / "api.yaml"
    async with running_server(root) as client:
        await wait_for_diagnostics(client, spec)
        get_item, orders = await routes(client, template.as_uri())
        *_, ghost = await routes(client, spec.as_uri())
        answers = [
            await send(client, {"route": get_item, "path": "/items/1/2"}),
            await send(client, {"route": orders, "path": "/orders/1"}),
            await send(client, {"route": ghost, "path": "/ghost"}),
            await send(client, {"route": {**get_item, "path": "/gone"}, "path": "/gone"}),
            await send(client, {"route": get_item, "path": "items/1"}),
        ]
        messages = [m.message for m in client.messages]
    assert answers == [None] * 5
    assert messages == [
        "HandlerLens: GET /items/1/2 is not a request GET /items/{id} takes (a parameter is one "
        "path segment: write a '/' inside one as %2F)",
        "HandlerLens: ANY /orders/{proxy+} takes any method: say which one to send",
        "HandlerLens: GET /ghost names no function declared in this workspace, so there is "
        "nothing to send the request to (see the warning on it)",
        "HandlerLens: the route GET /gone is not declared there any more; the file changed "
        "since the lens was shown",
        "HandlerLens: the path 'items/1' must start with '/'",
    ]
