"""Route problems (project/routes.py) in the editor: the walk finds Yandex API Gateway specs,
the server watches them, and `route-*` problems are published on the declaring file (the SAM
event's path, the serverless event, the spec's function_id, the Terraform heredoc), with
`[tool.handlerlens] function-ids` mapping a function_id no declaration resolves."""

from __future__ import annotations

import shutil
from pathlib import Path

from lsprotocol import types as lsp

from handlerlens.engine.workspace import WorkspaceState
from handlerlens.lsp.features.documents import WATCHED_GLOBS
from handlerlens.project import walk
from tests.lsp.conftest import (
    change_document,
    open_document,
    running_server,
    wait_for_diagnostics,
)
from tests.lsp.test_declaring_files import matches

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "routes"

PYPROJECT = """\
[project]
name = "greeter"

[tool.handlerlens]
platform = "yandex"

[[tool.handlerlens.functions]]
name = "greeter"
entry = "main.handler"
"""

SPEC = """\
openapi: 3.0.0
info:
  title: greeter
  version: 1.0.0
paths:
  /hello/{name}:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: d4e0c0ffee0000000001
  /greet:
    post:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: greeter
"""

HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "hi"}\n'


def yandex_app(root: Path, spec_name: str = "api.yaml") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "main.py").write_text(HANDLER)
    (root / spec_name).write_text(SPEC)
    return root


def covered(text: str, diag: lsp.Diagnostic) -> str:
    line = text.splitlines()[diag.range.start.line]
    return line[diag.range.start.character : diag.range.end.character]


# -- the walk ----------------------------------------------------------------------------------


def test_a_gateway_spec_is_told_by_its_text_and_never_by_its_name_alone(tmp_path: Path) -> None:
    assert walk.is_gateway_spec("gateway/spec.yaml", SPEC)
    assert walk.is_gateway_spec(
        "api.json", '{"openapi": "3.0.0", "x-yc-apigateway-integration": 1}'
    )
    # OpenAPI without Yandex's integration, a SAM template, other files: not specs.
    assert not walk.is_gateway_spec("spec.yaml", "openapi: 3.0.0\npaths: {}\n")
    assert not walk.is_gateway_spec(
        "template.yaml", "AWSTemplateFormatVersion: x\n# openapi x-yc-apigateway-integration\n"
    )
    assert not walk.is_gateway_spec("serverless.yml", SPEC)
    assert not walk.is_gateway_spec("package.json", SPEC)
    assert not walk.is_gateway_spec("notes.md", SPEC)
    # From disk when no text is given.
    yandex_app(tmp_path)
    assert walk.is_gateway_spec(str(tmp_path / "api.yaml"))
    assert not walk.is_gateway_spec(str(tmp_path / "pyproject.toml"))


def test_spec_files_are_watched_and_listed_by_discovery(tmp_path: Path) -> None:
    for name in ("api.yaml", "gateway/spec.yml", "openapi.json"):
        assert matches(walk.DECLARING_GLOBS, name), name
        assert matches(WATCHED_GLOBS, f"svc/{name}"), name
        assert walk.may_be_config_file(name), name
    app = yandex_app(tmp_path / "app", "openapi.yml")
    ws = WorkspaceState(str(app), platform_setting=None)
    ws.discover()
    spec = str(app / "openapi.yml")
    assert ws.model.gateway_specs == [spec]
    assert spec in ws.config_files()
    # The literal function_id that is a declared function's name routes to it.
    assert [(r.method, r.path, r.function) for r in ws.routes] == [
        ("GET", "/hello/{name}", None),
        ("POST", "/greet", "greeter"),
    ]


# -- diagnostics -------------------------------------------------------------------------------


async def test_an_unresolved_function_id_is_a_warning_in_the_spec_until_function_ids_maps_it(
    tmp_path: Path,
) -> None:
    app = yandex_app(tmp_path / "app")
    spec, pyproject = app / "api.yaml", app / "pyproject.toml"
    async with running_server(app) as client:
        diags = await wait_for_diagnostics(client, spec)
        (diag,) = diags
        assert diag.code == "route-function-unknown"
        assert diag.severity == lsp.DiagnosticSeverity.Warning
        assert covered(SPEC, diag) == "d4e0c0ffee0000000001"
        assert "GET /hello/{name}" in diag.message
        assert (
            '[tool.handlerlens] function-ids = { "d4e0c0ffee0000000001" = "<function name>" }'
            in diag.message
        )

        open_document(client, pyproject, "toml")
        mapped = PYPROJECT.replace(
            'platform = "yandex"\n',
            'platform = "yandex"\nfunction-ids = { "d4e0c0ffee0000000001" = "greeter" }\n',
        )
        change_document(client, pyproject, mapped, 2)
        await wait_for_diagnostics(client, spec, lambda d: not d)

        # A mapping to a function nobody declares: said at the name, in pyproject.toml.
        wrong = mapped.replace('= "greeter" }', '= "greter" }')
        change_document(client, pyproject, wrong, 3)
        (on_pyproject,) = await wait_for_diagnostics(client, pyproject)
        assert on_pyproject.code == "route-function-unknown"
        assert covered(wrong, on_pyproject) == "greter"
        assert "'greter'" in on_pyproject.message
        # The route still names no declared function: the spec keeps no warning of its own
        # (its id is mapped), the pyproject's says why it is not served.
        assert not client.diagnostics.get(spec.as_uri())


async def test_function_ids_of_the_wrong_type_is_a_warning_not_an_unknown_key(
    tmp_path: Path,
) -> None:
    app = yandex_app(tmp_path / "app")
    pyproject = app / "pyproject.toml"
    text = PYPROJECT.replace('platform = "yandex"\n', 'platform = "yandex"\nfunction-ids = 3\n')
    pyproject.write_text(text)
    async with running_server(app) as client:
        (diag,) = await wait_for_diagnostics(client, pyproject)
    assert diag.code == "config-invalid", diag
    assert covered(text, diag) == "3"
    assert "`function-ids` must be a table" in diag.message


async def test_a_spec_written_after_start_is_read_on_its_change_notification(
    tmp_path: Path,
) -> None:
    app = yandex_app(tmp_path / "app", "later.yaml")
    spec = app / "later.yaml"
    spec.unlink()
    async with running_server(app) as client:
        await wait_for_diagnostics(client, app / "main.py", lambda d: True, timeout=1)
        spec.write_text(SPEC)
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[lsp.FileEvent(uri=spec.as_uri(), type=lsp.FileChangeType.Created)]
            )
        )
        (diag,) = await wait_for_diagnostics(client, spec)
        assert diag.code == "route-function-unknown"
        # An edit in the open spec (not saved) moves the warning with it.
        open_document(client, spec, "yaml")
        edited = SPEC.replace("  /hello/{name}:\n", "  /hi:\n    get: {}\n  /hello/{name}:\n")
        change_document(client, spec, edited, 2)
        (moved,) = await wait_for_diagnostics(
            client, spec, lambda d: bool(d) and d[0].range.start.line == 11
        )
        assert covered(edited, moved) == "d4e0c0ffee0000000001"


async def test_route_problems_sit_on_each_kind_of_declaring_file(tmp_path: Path) -> None:
    for name in ("sam-app", "sls-app", "yandex-app"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    template = tmp_path / "sam-app" / "template.yaml"
    serverless = tmp_path / "sls-app" / "serverless.yml"
    inline = tmp_path / "yandex-app" / "inline.tf"
    gateway = tmp_path / "yandex-app" / "gateway" / "spec.yaml"
    async with running_server(tmp_path) as client:
        on_template = await wait_for_diagnostics(client, template)
        on_serverless = await wait_for_diagnostics(client, serverless)
        on_inline = await wait_for_diagnostics(client, inline)
        on_gateway = await wait_for_diagnostics(client, gateway)
    (conflict,) = [d for d in on_template if d.code == "route-conflict"]
    assert covered(template.read_text(), conflict) == "/items/{itemId}"
    assert conflict.severity == lsp.DiagnosticSeverity.Error
    assert conflict.related_information
    assert conflict.related_information[0].location.uri == template.as_uri()
    codes = sorted(str(d.code) for d in on_serverless)
    assert codes == ["route-conflict", "route-invalid"]
    ghost = next(d for d in on_inline if d.code == "route-function-unknown")
    assert covered(inline.read_text(), ghost) == "${yandex_function.ghost.id}"
    assert '"yandex_function.ghost" = "<function name>"' in ghost.message
    (unknown,) = on_gateway
    assert covered(gateway.read_text(), unknown) == "d4e6qqlbbhd2mm0ptjl6"


def test_two_templates_are_two_stacks_so_their_implicit_apis_never_conflict(
    tmp_path: Path,
) -> None:
    """Found on the corpus (aws-lambda-web-adapter: one template per example, each with the
    implicit ServerlessHttpApi): a route is one API's only within its own declaring file."""
    template = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler, "
        "Events: {Web: {Type: HttpApi}, Get: {Type: Api, Properties: {Path: /, Method: get}}}}\n"
    )
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "template.yaml").write_text(template)
        (tmp_path / name / "app.py").write_text(HANDLER)
    ws = WorkspaceState(str(tmp_path), platform_setting=None)
    ws.discover()
    assert len(ws.routes) == 4
    assert ws.route_problems == []
    # Within one template the same route twice is still the deploy error.
    (tmp_path / "one" / "template.yaml").write_text(
        template.replace("Get: {Type: Api", "Get: {Type: HttpApi").replace(
            "Web: {Type: HttpApi}", "Web: {Type: HttpApi, Properties: {Path: /, Method: GET}}"
        )
    )
    ws.sources.forget(str(tmp_path / "one" / "template.yaml"))
    ws.discover()
    assert [p.code for p in ws.route_problems] == ["route-conflict"]


def test_a_template_of_another_language_is_not_read_for_routes(tmp_path: Path) -> None:
    """As for functions (README: a template whose every runtime is another language is not
    parsed): its routes are not served here, so its conflicts are not HandlerLens's to tell."""
    template = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  A:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: RUNTIME, Handler: app.handler, "
        "Events: {Get: {Type: Api, Properties: {Path: /, Method: get}}}}\n"
        "  B:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: RUNTIME, Handler: app.other, "
        "Events: {Get: {Type: Api, Properties: {Path: /, Method: get}}}}\n"
    )
    (tmp_path / "template.yaml").write_text(template.replace("RUNTIME", "nodejs20.x"))
    ws = WorkspaceState(str(tmp_path), platform_setting=None)
    ws.discover()
    assert (ws.routes, ws.route_problems) == ([], [])
    (tmp_path / "template.yaml").write_text(template.replace("RUNTIME", "python3.12"))
    (tmp_path / "app.py").write_text(HANDLER + "\n\ndef other(event, context):\n    return {}\n")
    ws.sources.forget(str(tmp_path / "template.yaml"))
    ws.discover()
    assert [p.code for p in ws.route_problems] == ["route-conflict"]


def test_function_ids_may_name_a_guessed_function(tmp_path: Path) -> None:
    """A spec beside a lone handler.py (yc-serverless-apigw-hello-world-python): the guessed
    function is named by its entry, and the mapping may name it."""
    (tmp_path / "handler.py").write_text(HANDLER)
    (tmp_path / "api.yaml").write_text(SPEC)
    ws = WorkspaceState(str(tmp_path), platform_setting=None)
    ws.discover()
    unknown = ["route-function-unknown"]
    assert [p.code for p in ws.route_problems] == unknown * 2
    (tmp_path / "pyproject.toml").write_text(
        '[tool.handlerlens]\nfunction-ids = { "d4e0c0ffee0000000001" = "handler.handler" }\n'
    )
    ws.discover()
    assert [(r.path, r.function) for r in ws.routes] == [
        ("/hello/{name}", "handler.handler"),
        ("/greet", None),
    ]
    # `greeter` is no function here: that route stays unserved and says so.
    (left,) = ws.route_problems
    assert (left.code, left.path, left.span.start.line) == (
        unknown[0],
        str(tmp_path / "api.yaml"),
        14,
    )
