"""`handlerlens serve` on a Terraform Yandex project behind an API Gateway spec.

The spec is a `templatefile()` of the `yandex_api_gateway`, its `function_id`s Terraform
references resolved to the declared functions. Events are compared field for field with
PLATFORMS.md §10.5 (payload 0.1 and 1.0 of the `cloud_functions` integration).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.harness import Runner

MAIN_TF = """\
data "archive_file" "code" {
  type        = "zip"
  source_dir  = "${path.module}/src"
  output_path = "${path.module}/out/code.zip"
}

resource "yandex_function" "items" {
  name              = "items"
  runtime           = "python311"
  entrypoint        = "items.handler"
  memory            = 128
  execution_timeout = "5"
  user_hash         = data.archive_file.code.output_base64sha256
  content {
    zip_filename = data.archive_file.code.output_path
  }
}

resource "yandex_function" "files" {
  name              = "files"
  runtime           = "python311"
  entrypoint        = "items.handler"
  memory            = 128
  user_hash         = data.archive_file.code.output_base64sha256
  content {
    zip_filename = data.archive_file.code.output_path
  }
}

resource "yandex_api_gateway" "shop" {
  name = "shop"
  spec = templatefile("${path.module}/gateway/spec.yaml", {
    ITEMS_ID = yandex_function.items.id
  })
}
"""

SPEC = """\
openapi: 3.0.0
info:
  title: shop
  version: 1.0.0
components:
  parameters:
    Trace:
      name: X-Trace
      in: header
      schema:
        type: string
paths:
  /items/{id}:
    x-yc-apigateway-cors:
      origin: true
      allowedHeaders: X-Trace
      maxAge: 60
    parameters:
      - name: id
        in: path
        required: true
        schema:
          type: string
    get:
      parameters:
        - name: q
          in: query
          schema:
            type: string
        - $ref: '#/components/parameters/Trace'
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${ITEMS_ID}
        context:
          item: "{id}"
          query: "{q}"
          fixed: 7
          flags: [true]
  /files/{path+}:
    get:
      operationId: getFile
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${yandex_function.files.id}
        payload_format_version: "1.0"
  /elsewhere:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: d4e6qqlbbhd2mm0ptjl6
"""

HANDLER = """\
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""


@pytest.fixture(scope="module")
def yandex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    folder = tmp_path_factory.mktemp("yandex-app")
    (folder / "src").mkdir()
    (folder / "gateway").mkdir()
    (folder / "main.tf").write_text(MAIN_TF)
    (folder / "gateway" / "spec.yaml").write_text(SPEC)
    (folder / "src" / "items.py").write_text(HANDLER)
    runner = Runner(["--no-watch"], folder)
    yield runner
    runner.stop()


def event_of(runner: Runner, method: str, path: str, **kwargs: object) -> dict[str, object]:
    status, _, body = runner.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert status == 200, body
    event: dict[str, object] = json.loads(body)
    return event


def test_a_0_1_route_gets_the_url_the_template_and_the_path_parameters(yandex: Runner) -> None:
    event = event_of(
        yandex,
        "GET",
        "/items/42?q=1&q=2&other=3",
        headers={"Content-Type": "application/json", "X-Trace": "t1"},
    )
    context = event.pop("requestContext")
    headers = event.pop("headers")
    event.pop("multiValueHeaders")
    assert isinstance(context, dict) and isinstance(headers, dict)
    assert event == {
        "httpMethod": "GET",
        "url": "/items/42?q=1&q=2&other=3",
        "path": "/items/{id}",
        "pathParams": {"id": "42"},
        # The parameters the operation declares (path, query, header, cookie), not `other`.
        "params": {"id": "42", "q": "2", "X-Trace": "t1"},
        "multiValueParams": {"id": ["42"], "q": ["1", "2"], "X-Trace": ["t1"]},
        "queryStringParameters": {"q": "2", "other": "3"},
        "multiValueQueryStringParameters": {"q": ["1", "2"], "other": ["3"]},
        "body": "",
        "isBase64Encoded": False,
    }
    # Yandex's requestContext, not AWS's, with the gateway's operation context.
    assert set(context) == {
        "identity",
        "httpMethod",
        "requestId",
        "requestTime",
        "requestTimeEpoch",
        "apiGateway",
    }
    # The integration's context, its declared parameters substituted.
    assert context["apiGateway"] == {
        "operationContext": {"item": "42", "query": "2", "fixed": 7, "flags": [True]}
    }
    assert headers["X-Request-Id"] == context["requestId"]


def test_a_1_0_route_gets_the_aws_compatible_keys_and_its_operation_id(yandex: Runner) -> None:
    event = event_of(yandex, "GET", "/files/a/b.txt")
    assert event["version"] == "1.0"
    assert event["resource"] == "/files/{path+}"
    assert event["path"] == "/files/a/b.txt"
    assert event["pathParameters"] == {"path": "a/b.txt"}
    assert event["parameters"] == {"path": "a/b.txt"}
    assert event["multiValueParameters"] == {"path": ["a/b.txt"]}
    assert event["operationId"] == "getFile"
    for key in ("url", "params", "pathParams", "multiValueParams"):
        assert key not in event


def test_the_gateways_own_answers(yandex: Runner) -> None:
    status, _, body = yandex.request("GET", "/nowhere")
    answer = json.loads(body)
    assert (status, answer["message"]) == (404, "Not Found")
    assert "emulated by HandlerLens" in answer["note"]
    status, _, body = yandex.request("POST", "/items/1")  # a known path, another method
    assert status == 404
    # A function_id no declared function has: listed as not served, answered 502.
    assert "not served" in yandex.wait_stderr("GET /elsewhere →")
    status, _, body = yandex.request("GET", "/elsewhere")
    assert status == 502
    # Over the gateway's 2.5 MB request limit.
    status, _, body = yandex.request(
        "GET", "/items/1", body=b"a" * (3 * 1024 * 1024), headers={"Content-Type": "text/plain"}
    )
    assert status == 413
    assert "2.5 MB" in yandex.wait_stderr("request limit")


def test_the_route_table_names_the_gateway_and_the_spec_problem(yandex: Runner) -> None:
    url = f"http://127.0.0.1:{yandex.port}"
    line = yandex.wait_stderr("GET /items/{id} → items")
    assert line == f"  GET /items/{{id}} → items (API Gateway)  {url}/items/{{id}}"
    line = yandex.wait_stderr("GET /files/{path+} → files")
    assert "payload 1.0" in line
    problem = yandex.wait_stderr("[route-function-unknown]")
    assert "spec.yaml" in problem and "d4e6qqlbbhd2mm0ptjl6" in problem


def test_a_cors_preflight_is_answered_by_the_gateway_as_the_rule_says(yandex: Runner) -> None:
    ask = {"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"}
    status, headers, body = yandex.request("OPTIONS", "/items/1", headers=ask)
    assert (status, body) == (200, b"")
    assert headers["access-control-allow-origin"] == "https://shop.example"  # origin: true
    assert headers["access-control-allow-methods"] == "GET"  # no `methods`: the request's
    assert headers["access-control-allow-headers"] == "X-Trace"
    assert headers["access-control-max-age"] == "60"
    # A path without a rule: OPTIONS is no route of the spec.
    assert yandex.request("OPTIONS", "/files/a", headers=ask)[0] == 404


def test_a_gateway_spec_that_cannot_be_read_is_an_error_and_the_function_still_served(
    tmp_path: Path,
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "items.py").write_text(HANDLER)
    (tmp_path / "notapi.yaml").write_text("title: no openapi here\n")
    (tmp_path / "main.tf").write_text(
        MAIN_TF.split('resource "yandex_function" "files"')[0]
        + 'resource "yandex_api_gateway" "gone" {\n'
        + '  name = "gone"\n  spec = file("${path.module}/gateway/missing.yaml")\n}\n'
        + 'resource "yandex_api_gateway" "odd" {\n'
        + '  name = "odd"\n  spec = file("${path.module}/notapi.yaml")\n}\n'
    )
    served = Runner(["--no-watch"], tmp_path)
    try:
        missing = served.wait_stderr("missing.yaml, which is not there")
        assert "main.tf" in missing and "[route-invalid]" in missing
        odd = served.wait_stderr("is not an OpenAPI 3 document")
        assert "notapi.yaml" in odd
        # No route is served: the one function answers every path, as without a gateway.
        status, _, body = served.request("GET", "/items/1")
        assert status == 200 and json.loads(body)["httpMethod"] == "GET"
    finally:
        served.stop()


def test_a_function_id_is_mapped_to_a_declared_function_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "items.py").write_text(HANDLER)
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "spec.yaml").write_text(SPEC)
    (tmp_path / "main.tf").write_text(MAIN_TF)
    # The id of a function deployed elsewhere, served here as the declared `items`.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.handlerlens]\nfunction-ids = {"d4e6qqlbbhd2mm0ptjl6" = "items"}\n'
    )
    served = Runner(["--no-watch"], tmp_path)
    try:
        line = served.wait_stderr("GET /elsewhere →")
        assert line.startswith("  GET /elsewhere → items (API Gateway)")
        status, _, body = served.request("GET", "/elsewhere")
        assert (status, json.loads(body)["path"]) == (200, "/elsewhere")
        assert not [line for line in served.stderr if "route-function-unknown" in line]
    finally:
        served.stop()
