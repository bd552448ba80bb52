"""`serve` reads routes as the editor and `check` do (project/routes_reading.py): the same
routes and the same warnings, from the same files.

Where the runner's own reading differed before, the editor's is kept, as the more correct:
a template whose functions are all another language's declares no route here (serve listed
its routes as "not served"), and a `function-ids` mapping that names no function of the
workspace is a warning in serve too (serve said nothing, and the route was "not served")."""

from __future__ import annotations

from pathlib import Path

from handlerlens.engine.workspace import WorkspaceState
from handlerlens.runner.route_table import read_routes
from tests.runner.harness import Runner

HANDLER = """\
def handler(event, context):
    return {"statusCode": 200, "body": event["path"]}
"""

PYTHON_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Items:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      CodeUri: src/
      Events:
        Get:
          Type: Api
          Properties:
            Path: /items/{id}
            Method: get
"""

NODE_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      CodeUri: orders/
      Events:
        Get:
          Type: Api
          Properties:
            Path: /orders
            Method: get
"""

SPEC = """\
openapi: 3.0.0
info:
  title: shop
  version: 1.0.0
paths:
  /mapped:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: d4e1
  /unknown:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: d4e2
"""

PYPROJECT = '[tool.handlerlens]\nfunction-ids = {"d4e1" = "nosuch"}\n'


def _project(root: Path) -> None:
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(HANDLER)
    (root / "template.yaml").write_text(PYTHON_TEMPLATE)
    (root / "node").mkdir()
    (root / "node" / "template.yaml").write_text(NODE_TEMPLATE)
    (root / "gateway").mkdir()
    (root / "gateway" / "spec.yaml").write_text(SPEC)
    (root / "pyproject.toml").write_text(PYPROJECT)


def test_serve_and_the_editor_read_the_same_routes_and_problems(tmp_path: Path) -> None:
    _project(tmp_path)
    served = read_routes(str(tmp_path))
    editor = WorkspaceState(str(tmp_path))
    editor.discover()
    # In the walk's order: the root's template first, then gateway/spec.yaml.
    order = [r.route_key for r in served.routes]
    assert order == ["GET /items/{id}", "GET /mapped", "GET /unknown"]
    assert [r.route_key for r in served.routes] == [r.route_key for r in editor.routes]
    assert served.routes == editor.routes
    assert served.problems == editor.route_problems
    keys = {(r.route_key, r.function) for r in served.routes}
    # The node template's route is not read; the mapping's target is kept as named.
    assert keys == {("GET /items/{id}", "Items"), ("GET /mapped", "nosuch"), ("GET /unknown", None)}
    messages = sorted(p.message for p in served.problems)
    assert len(messages) == 2
    assert messages[0].startswith("GET /unknown: function_id d4e2 names no function")
    assert 'function-ids = { "d4e2" = "<function name>" }' in messages[0]
    assert messages[1].startswith("function-ids maps 'd4e1' to 'nosuch', which is no function")


def test_serve_prints_the_routes_and_warnings_the_editor_shows(tmp_path: Path) -> None:
    _project(tmp_path)
    served = Runner(["--no-watch"], tmp_path)
    try:
        event = served.wait_for(lambda e: e["event"] == "routes", timeout=20)
        assert [(r["routeKey"], r["served"]) for r in event["routes"]] == [
            ("GET /items/{id}", "Items"),
            ("GET /mapped", None),
            ("GET /unknown", None),
        ]
        codes = [(p["path"].rsplit("/", 1)[-1], p["code"]) for p in event["problems"]]
        assert sorted(codes) == [
            ("pyproject.toml", "route-function-unknown"),
            ("spec.yaml", "route-function-unknown"),
        ]
        line = served.wait_stderr("function-ids maps 'd4e1' to 'nosuch'")
        assert "pyproject.toml" in line
        assert not [line for line in served.stderr if "/orders" in line]
        status, _, body = served.request("GET", "/items/7")
        assert (status, body) == (200, b"/items/7")
    finally:
        served.stop()


YANDEX_PYPROJECT = """\
[tool.handlerlens]
platform = "yandex"

[[tool.handlerlens.functions]]
name = "greeter"
entry = "app.handler"
"""

YANDEX_SPEC = """\
openapi: 3.0.0
info:
  title: greeter
  version: 1.0.0
paths:
  /hello:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: d4e1
"""

YANDEX_HANDLER = """\
def handler(event, context):
    return {"statusCode": 200, "body": "hello from " + event["path"]}
"""


def test_a_function_ids_mapping_added_to_pyproject_serves_the_route(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(YANDEX_HANDLER)
    (tmp_path / "api.yaml").write_text(YANDEX_SPEC)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(YANDEX_PYPROJECT)
    served = Runner([], tmp_path)
    try:
        first = served.wait_for(lambda e: e["event"] == "routes", timeout=20)
        assert [(r["routeKey"], r["served"]) for r in first["routes"]] == [("GET /hello", None)]
        assert [p["code"] for p in first["problems"]] == ["route-function-unknown"]
        at = len(served.events)
        pyproject.write_text(
            YANDEX_PYPROJECT.replace(
                'platform = "yandex"\n',
                'platform = "yandex"\nfunction-ids = { "d4e1" = "greeter" }\n',
            )
        )
        changed = served.wait_for(
            lambda e: (
                e["event"] == "routes"
                and e["reason"] == "changed"
                and e["routes"][0]["served"] == "greeter"
            ),
            timeout=20,
            start=at,
        )
        assert changed["problems"] == []
        status, _, body = served.request("GET", "/hello")
        assert (status, body) == (200, b"hello from /hello")
    finally:
        served.stop()
