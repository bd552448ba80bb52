"""`handlerlens.server.sendRequest` without Start App: the function runs in its own runner
(through the Invoke API) and its result is answered as the route's gateway answers it — the
same checks and replies `serve` gives on that route (platforms/gateways.py), not the mapping
of the function's own trigger. A REST API route rejects what an HTTP API route takes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.lsp.conftest import routes, running_server, send, wait_for_diagnostics
from tests.routes_fixtures import sam_event, sam_function, sam_template

TEMPLATE = sam_template(
    sam_function("Rest", "app.handler", sam_event("Get", "Api", "/rest/{shape}")),
    sam_function("Http", "app.handler", sam_event("Get", "HttpApi", "/http/{shape}")),
    sam_function(
        "Plain",
        "app.handler",
        sam_event("Get", "Api", "/plain/{shape}", "get", "RestApiId: !Ref Binary"),
    ),
    """\
  Binary:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      BinaryMediaTypes: ["image/png"]
""",
)

APP = """\
import base64


def handler(event, context):
    shape = event["pathParameters"]["shape"]
    if shape == "dict-body":
        return {"statusCode": 200, "body": {"items": []}}
    if shape == "extra-key":
        return {"statusCode": 201, "body": "made", "message": "x"}
    if shape == "png":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(b"\\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    if shape == "boom":
        raise ValueError("boom")
    return {"statusCode": 200, "body": "fine"}
"""


def http(result: dict[str, Any]) -> tuple[int, bytes, str | None]:
    assert result is not None
    answer = result["http"]
    return answer["status"], base64.b64decode(answer["bodyBase64"]), answer.get("warning")


async def test_a_route_request_is_answered_by_its_gateway_without_the_app(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "app.py").write_text(APP)
    async with running_server(tmp_path) as client:
        await wait_for_diagnostics(client, tmp_path / "app.py", lambda d: True)
        found = {
            r["function"]: r for r in await routes(client, (tmp_path / "template.yaml").as_uri())
        }
        rest, http_api, plain = found["Rest"], found["Http"], found["Plain"]
        results = {
            (name, shape): await send(client, {"route": route, "path": f"/{name}/{shape}"})
            for name, route in (("rest", rest), ("http", http_api), ("plain", plain))
            for shape in ("dict-body", "extra-key", "png", "boom", "ok")
        }
        png_accepted = await send(
            client, {"route": plain, "path": "/plain/png", "headers": {"Accept": "image/png"}}
        )
        # No app was started: each answer came through the function's own runner.
        assert all(not r.get("viaApp") for r in results.values())

    # A dict body: the REST API answers 502 and says why; HTTP API 2.0 sends it as JSON.
    status, body, warning = http(results["rest", "dict-body"])
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    assert warning is not None
    assert warning.startswith("GET /rest/{shape}: its body is an object, not a string")
    assert "deployed, the REST API answers 502" in warning
    assert results["rest", "dict-body"]["functionError"] is False  # the function returned
    status, body, warning = http(results["http", "dict-body"])
    assert (status, json.loads(body), warning) == (200, {"items": []}, None)

    # A key the REST proxy integration does not take: 502 there, fine behind an HTTP API.
    status, body, warning = http(results["rest", "extra-key"])
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    assert warning is not None and "the key 'message'" in warning
    assert http(results["http", "extra-key"]) == (201, b"made", None)

    # isBase64Encoded: the REST API decodes only for a declared binary media type the client
    # accepts (none here: the base64 text); the HTTP API always decodes.
    assert http(results["rest", "png"])[:2] == (200, base64.b64encode(b"\x89PNG"))
    assert http(results["http", "png"])[:2] == (200, b"\x89PNG")
    assert http(results["plain", "png"])[:2] == (200, base64.b64encode(b"\x89PNG"))
    assert http(png_accepted)[:2] == (200, b"\x89PNG")  # image/png is Binary's media type

    # A function error: each gateway's own answer.
    status, body, _ = http(results["rest", "boom"])
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    assert results["rest", "boom"]["functionError"] is True
    status, body, _ = http(results["http", "boom"])
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})

    assert http(results["plain", "ok"]) == (200, b"fine", None)
    assert results["plain", "ok"]["http"]["trigger"] == "api-gateway-rest"
    # The log view carries the gateway's reason, as serve's log does.
    assert any("its body is an object" in line for line in results["rest", "dict-body"]["logs"])


async def test_the_gateway_refuses_a_body_over_its_limit_without_running_the_function(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n    open('ran', 'w').close()\n    return {}\n"
    )
    async with running_server(tmp_path) as client:
        await wait_for_diagnostics(client, tmp_path / "app.py", lambda d: True)
        found = {
            r["function"]: r for r in await routes(client, (tmp_path / "template.yaml").as_uri())
        }
        result = await send(
            client,
            {"route": found["Rest"], "path": "/rest/big", "body": "x" * (10 * 1024 * 1024 + 1)},
        )
    status, body, warning = http(result)
    assert (status, json.loads(body)) == (413, {"message": "Request Too Long"})
    assert warning is not None and "over API Gateway's 10 MB payload limit" in warning
    assert not (tmp_path / "ran").exists()


SLOW_TEMPLATE = sam_template(
    sam_function(
        "Slow", "app.handler", sam_event("Get", "HttpApi", "/slow", "get", "TimeoutInMillis: 300")
    )
)


async def test_a_run_past_the_routes_integration_timeout_gets_the_gateways_answer(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text(SLOW_TEMPLATE)
    (tmp_path / "app.py").write_text(
        "import time\n\n\ndef handler(event, context):\n    time.sleep(0.8)\n"
        "    return {'statusCode': 200, 'body': 'late'}\n"
    )
    async with running_server(tmp_path) as client:
        await wait_for_diagnostics(client, tmp_path / "app.py", lambda d: True)
        (route,) = await routes(client, (tmp_path / "template.yaml").as_uri())
        result = await send(client, {"route": route, "path": "/slow"})
    # The function ran to its end (its own timeout is 10 s); the gateway stopped waiting.
    assert result["json"] == {"statusCode": 200, "body": "late"}
    status, body, warning = http(result)
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
    assert warning is not None
    assert warning.startswith("GET /slow: the function ran 0.")
    assert "past the HTTP API's integration timeout (0.3 s, declared)" in warning
