"""serverless.yml functions whose code is not plain Python in the service folder: no runtime
(Node.js by default), JS/TS handlers, plugin-generated handlers, the Lambda Web Adapter, and
serverless-python-requirements' per-function `module:` (issue 14: C, I)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from handlerlens.core.problems import Problem, Severity
from handlerlens.engine.workspace import WorkspaceState
from handlerlens.project import discover

HANDLER = "def main(event, context):\n    return {}\n"


def _check(root: Path) -> tuple[list[str], list[Problem]]:
    ws = WorkspaceState(str(root))
    ws.discover()
    problems = [p for ps in ws.problems_by_path().values() for p in ps]
    return [f.name for f in ws.functions], problems


def test_a_service_without_runtime_is_node_and_declares_no_python_function(
    tmp_path: Path,
) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider: {name: aws}\nfunctions:\n  hello: {handler: handler.hello}\n"
    )
    (tmp_path / "handler.js").write_text("module.exports.hello = async () => ({});\n")
    assert _check(tmp_path) == ([], [])


def test_a_yandex_service_without_runtime_declares_no_python_function(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: yandex-cloud}\nfunctions:\n  f: {handler: index.handler}\n"
    )
    assert _check(tmp_path) == ([], [])


def test_a_function_runtime_overrides_a_missing_provider_runtime(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws}\nfunctions:\n"
        "  py: {handler: app.main, runtime: python3.12}\n"
        "  js: {handler: app.main}\n"
    )
    (tmp_path / "app.py").write_text(HANDLER)
    assert _check(tmp_path) == (["py"], [])


@pytest.mark.parametrize("source", ["dist/index.js", "dist/index.ts", "dist/index.mjs"])
def test_a_handler_file_in_javascript_is_not_python(tmp_path: Path, source: str) -> None:
    # The runtime is computed, so only the handler's file says which language it is.
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: '${self:custom.rt}'}\n"
        "functions:\n  f: {handler: dist/index.handler}\n"
    )
    (tmp_path / "dist").mkdir()
    (tmp_path / source).write_text("export const handler = async () => ({});\n")
    assert _check(tmp_path) == ([], [])


def test_sam_functions_inherit_a_non_python_runtime_from_globals(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals: {Function: {Runtime: nodejs20.x}}\n"
        "Resources:\n"
        "  Js: {Type: AWS::Serverless::Function, Properties: {Handler: app.handler}}\n"
        "  Py:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: app.main, Runtime: python3.12}\n"
    )
    (tmp_path / "app.py").write_text(HANDLER)
    assert _check(tmp_path) == (["Py"], [])


def test_requirements_module_is_the_functions_code_root(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "plugins: [serverless-python-requirements]\n"
        "package: {individually: true}\n"
        "functions:\n  one: {handler: index.main, module: function1}\n"
    )
    (tmp_path / "function1").mkdir()
    (tmp_path / "function1" / "index.py").write_text(HANDLER)
    (spec,) = discover(str(tmp_path)).functions
    assert spec.root == str(tmp_path / "function1")
    assert _check(tmp_path) == (["one"], [])


def test_requirements_module_spelled_in_the_handler_too_is_understood(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "functions:\n  one: {handler: function1/index.main, module: function1}\n"
    )
    (tmp_path / "function1").mkdir()
    (tmp_path / "function1" / "index.py").write_text(HANDLER)
    assert _check(tmp_path) == (["one"], [])


def test_serverless_wsgi_handler_is_generated_and_the_app_module_checked(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "plugins: [serverless-wsgi]\n"
        "custom: {wsgi: {app: app.app}}\n"
        "functions:\n  api: {handler: wsgi_handler.handler}\n"
    )
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    functions, (problem,) = _check(tmp_path)
    assert functions == []
    assert (problem.code, problem.severity) == ("handler-unverifiable", Severity.INFO)
    assert "serverless-wsgi writes this module into the package at deploy time" in (problem.message)


def test_serverless_wsgi_app_module_missing_is_an_error_on_custom_wsgi_app(
    tmp_path: Path,
) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "custom: {wsgi: {app: api.app}}\n"
        "functions:\n  api: {handler: wsgi_handler.handler}\n"
    )
    _, problems = _check(tmp_path)
    errors = [p for p in problems if p.severity == Severity.ERROR]
    assert [(p.code, p.span.start.line) for p in errors] == [("entry-point-module-missing", 1)]
    assert "custom.wsgi.app 'api.app': there is no api.py" in errors[0].message


def test_serverless_sdk_handlers_are_not_checked(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "functions:\n  f: {handler: serverless_sdk/handler.handler}\n"
    )
    functions, (problem,) = _check(tmp_path)
    assert functions == [] and problem.code == "handler-unverifiable"
    assert "Serverless Dashboard SDK" in problem.message


def test_lambda_web_adapter_layer_makes_the_handler_a_start_command(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "functions:\n  web:\n    handler: run.sh\n    layers:\n"
        "      - arn:aws:lambda:us-east-1:753240598075:layer:LambdaAdapterLayerX86:24\n"
    )
    functions, (problem,) = _check(tmp_path)
    assert functions == [] and problem.severity == Severity.INFO
    assert "Lambda Web Adapter" in problem.message


@pytest.mark.parametrize(
    ("env", "layers", "checked"),
    [
        ("AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap", "", False),
        ("AWS_LAMBDA_EXEC_WRAPPER: /opt/otel-instrument", "", True),  # still a Python handler
        (
            "X: y",
            "Layers: [!Sub 'arn:aws:lambda:${AWS::Region}:753240598075:layer:"
            "LambdaAdapterLayerArm64:24']",
            False,
        ),
    ],
)
def test_sam_web_adapter_evidence(tmp_path: Path, env: str, layers: str, checked: bool) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Web:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: app.main\n      Runtime: python3.12\n"
        f"      Environment: {{Variables: {{{env}}}}}\n" + (f"      {layers}\n" if layers else "")
    )
    (tmp_path / "app.py").write_text(HANDLER)
    functions, problems = _check(tmp_path)
    if checked:
        assert (functions, problems) == (["Web"], [])
    else:
        assert functions == [] and [p.code for p in problems] == ["handler-unverifiable"]


def test_sam_run_sh_handler_with_exec_wrapper_is_not_a_missing_module(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Web:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: run.sh\n      Runtime: python3.12\n"
        "      Environment: {Variables: {AWS_LAMBDA_EXEC_WRAPPER: /opt/custom}}\n"
    )
    functions, (problem,) = _check(tmp_path)
    assert functions == [] and problem.code == "handler-unverifiable"
    assert "start script run through AWS_LAMBDA_EXEC_WRAPPER=/opt/custom" in problem.message


def test_a_serverless_package_artifact_is_checked_as_an_archive(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "fn.zip", "w") as archive:
        archive.writestr("other.py", HANDLER)
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "functions:\n  f: {handler: app.main, package: {artifact: fn.zip}}\n"
    )
    functions, (problem,) = _check(tmp_path)
    assert functions == ["f"] and problem.code == "entry-point-module-missing"
    assert "in the archive fn.zip (its modules: other)" in problem.message


@pytest.mark.parametrize(
    "where",
    [
        "module: '${self:custom.dir}'",
        "package: {artifact: '${env:BUILD}/f.zip'}",
        "package: {artifact: 's3://bucket/f.zip'}",
    ],
)
def test_a_computed_code_location_is_an_info_not_the_service_folder(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        f"functions:\n  f:\n    handler: app.main\n    {where}\n"
    )
    (tmp_path / "app.py").write_text("x = 1\n")  # would be "function missing" if used
    functions, (problem,) = _check(tmp_path)
    assert functions == []
    assert (problem.code, problem.severity) == ("config-value-unresolved", Severity.INFO)
    assert "a location Serverless resolves at deploy time" in problem.message


def test_serverless_wsgi_app_attribute_missing_is_an_error_on_custom_wsgi_app(
    tmp_path: Path,
) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "custom: {wsgi: {app: api.application}}\n"
        "functions:\n  api: {handler: wsgi_handler.handler}\n"
    )
    (tmp_path / "api.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    _, problems = _check(tmp_path)
    (error,) = [p for p in problems if p.severity == Severity.ERROR]
    assert error.code == "entry-point-function-missing"
    assert "custom.wsgi.app 'api.application': api.py has no top-level 'application'" in (
        error.message
    )
