"""What `discover` finds in each fixture project: the functions a user would see listed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from handlerlens.core.model import FunctionSpec
from handlerlens.project import discover
from tests.project.conftest import file_text_at, fixture


@dataclass(frozen=True)
class Expected:
    name: str
    platform: str
    entry: str
    root: str  # relative to the fixture project
    runtime: str | None
    triggers: tuple[str, ...]
    declared_in: str  # relative to the fixture project
    entry_span: tuple[int, int, int]  # line, start column, end column (UTF-16)
    timeout: float | None = None
    memory: int | None = None


# One row per function, as a reader would tabulate them.
# fmt: off
CASES: dict[str, list[Expected]] = {
    "sam-aws": [
        Expected("HelloWorldFunction", "aws", "app.lambda_handler", "hello_world",
                 "python3.12", ("api-gateway-rest",), "template.yaml", (14, 15, 33), 3.0, 256),
        Expected("OrdersFunction", "aws", "handler.process", "orders", "python3.12",
                 ("sqs", "http-api"), "template.yaml", (35, 16, 31)),
    ],
    "sam-aws-broken": [
        Expected("HelloWorldFunction", "aws", "app.lambda_handlr", "hello_world", "python3.12",
                 ("api-gateway-rest",), "template.yaml", (8, 15, 32)),
    ],
    "sam-globals": [
        Expected("ReaderFunction", "aws", "app.handler", "src", "python3.12",
                 ("function-url",), "template.yml", (5, 13, 24), 10.0, 512),
        Expected("NightlyFunction", "aws", "jobs.nightly", "src", "python3.12",
                 ("schedule", "function-url"), "template.yml", (28, 15, 27), 900.0, 512),
    ],
    "sam-globals-broken": [
        Expected("ReaderFunction", "aws", "app.handlr", "src", "python3.12",
                 ("function-url",), "template.yml", (5, 13, 23), 10.0, 512),
        Expected("NightlyFunction", "aws", "jobs.nightly", "src", "python3.12",
                 ("schedule", "function-url"), "template.yml", (28, 15, 27), 900.0, 512),
    ],
    "cfn-lambda": [
        Expected("Worker", "aws", "worker.handle", "src", "python3.11",
                 ("sqs", "function-url"), "stack.yaml", (7, 15, 28), 30.0, 1024),
        Expected("Inline", "aws", "index.handler", ".", "python3.12", (), "stack.yaml",
                 (33, 15, 28)),
    ],
    "cfn-lambda-broken": [
        Expected("Worker", "aws", "worker.hadle", "src", "python3.11",
                 ("sqs", "function-url"), "stack.yaml", (7, 15, 27), 30.0, 1024),
        Expected("Inline", "aws", "index.handler", ".", "python3.12", (), "stack.yaml",
                 (33, 15, 28)),
    ],
    "cfn-json": [
        Expected("Resize", "aws", "resize.on_upload", "functions/resize", "python3.12",
                 ("s3",), "template.json", (7, 16, 32)),
    ],
    "serverless-aws": [
        Expected("hello", "aws", "src/handler.hello", ".", "python3.12", ("http-api",),
                 "serverless.yml", (14, 13, 30), 6.0, 512),
        Expected("worker", "aws", "src/handler.worker", ".", "python3.12", ("sqs",),
                 "serverless.yml", (22, 13, 31), 60.0, 512),
        Expected("changes", "aws", "src/handler.changes", ".", "python3.11",
                 ("dynamodb", "function-url"), "serverless.yml", (28, 14, 33), 6.0, 512),
    ],
    "serverless-aws-broken": [
        Expected("hello", "aws", "src/handler.hello", ".", "python3.12", ("http-api",),
                 "serverless.yml", (14, 13, 30), 6.0, 512),
        Expected("worker", "aws", "src/handler.wroker", ".", "python3.12", ("sqs",),
                 "serverless.yml", (22, 13, 31), 60.0, 512),
        Expected("changes", "aws", "src/handler.changes", ".", "python3.11",
                 ("dynamodb", "function-url"), "serverless.yml", (28, 14, 33), 6.0, 512),
    ],
    "serverless-yandex": [
        Expected("simple", "yandex", "index.handler", ".", "python312", ("api-gateway-v1",),
                 "serverless.yml", (19, 13, 26), 5.0, 128),
        Expected("timer", "yandex", "index.tick", ".", "python312", ("timer",),
                 "serverless.yml", (29, 13, 23), 10.0, 256),
        Expected("queue", "yandex", "index.on_message", ".", "python312", ("message-queue",),
                 "serverless.yml", (43, 13, 29)),
    ],
    "serverless-yandex-broken": [
        Expected("simple", "yandex", "index.handler", ".", "python312", ("api-gateway-v1",),
                 "serverless.yml", (19, 13, 26), 5.0, 128),
        Expected("timer", "yandex", "index.tik", ".", "python312", ("timer",),
                 "serverless.yml", (29, 13, 22), 10.0, 256),
        Expected("queue", "yandex", "index.on_message", ".", "python312", ("message-queue",),
                 "serverless.yml", (43, 13, 29)),
    ],
    "terraform-yandex": [
        Expected("greeter", "yandex", "main.handler", "src", "python312", (),
                 "main.tf", (18, 24, 36), 10.0, 128),
        Expected("cleanup", "yandex", "cleanup.run", "src", "python312", ("timer",),
                 "main.tf", (34, 16, 27), None, 256),
    ],
    "terraform-yandex-broken": [
        Expected("greeter", "yandex", "main.hendler", "src", "python312", (),
                 "main.tf", (18, 24, 36), 10.0, 128),
        Expected("cleanup", "yandex", "cleanup.run", "src", "python312", ("timer",),
                 "main.tf", (34, 16, 27), None, 256),
    ],
    "terraform-aws": [
        Expected("ingest", "aws", "lambda_function.lambda_handler", "lambda", "python3.12",
                 ("sqs",), "lambda.tf", (9, 22, 52), 15.0, 256),
        # function_name = "${var.prefix}-report", with var.prefix's default "dev"
        Expected("dev-report", "aws", "report.build", "lambda", "python3.12", ("function-url",),
                 "lambda.tf", (28, 19, 31)),
    ],
    "terraform-aws-broken": [
        Expected("ingest", "aws", "lambda_function.lambda_handle", "lambda", "python3.12",
                 ("sqs",), "lambda.tf", (9, 22, 51), 15.0, 256),
        # function_name = "${var.prefix}-report", with var.prefix's default "dev"
        Expected("dev-report", "aws", "report.build", "lambda", "python3.12", ("function-url",),
                 "lambda.tf", (28, 19, 31)),
    ],
    "pyproject-yandex": [
        Expected("greeter", "yandex", "main.handler", ".", "python312", ("http",),
                 "pyproject.toml", (6, 9, 21), 5.0, 128),
    ],
    "pyproject-yandex-broken": [
        Expected("greeter", "yandex", "main.handlr", ".", "python312", ("http",),
                 "pyproject.toml", (6, 9, 20), 5.0, 128),
    ],
    "pyproject-aws": [
        Expected("checkout", "aws", "shop/checkout.handler", "src", "python3.12", ("http-api",),
                 "pyproject.toml", (12, 9, 30), 10.0, 512),
        Expected("orders", "aws", "orders.consume", "src", "python3.12", ("sqs",),
                 "pyproject.toml", (19, 9, 23)),
    ],
    "pyproject-aws-broken": [
        Expected("checkout", "aws", "shop/checkout.handler", "src", "python3.12", ("http-api",),
                 "pyproject.toml", (12, 9, 30), 10.0, 512),
        Expected("orders", "aws", "orders.consum", "src", "python3.12", ("sqs",),
                 "pyproject.toml", (19, 9, 22)),
    ],
    "mixed": [
        Expected("greeter", "yandex", "main.handler", "yc", "python312", (),
                 "pyproject.toml", (9, 9, 21)),
        Expected("Thumbnails", "aws", "thumbs.handler", "sam/app", "python3.12", ("s3",),
                 "sam/template.yaml", (7, 15, 29)),
        Expected("notify", "aws", "notify.handler", "sls", "python3.12", ("sns",),
                 "sls/serverless.yml", (6, 13, 27)),
        Expected("reporter", "yandex", "report.handler", "yc", "python312", (),
                 "infra/main.tf", (20, 16, 30), None, 128),
    ],
}
# fmt: on


def _seen(spec: FunctionSpec, root: str) -> Expected:
    assert spec.declared_in is not None and spec.entry_span is not None
    span = spec.entry_span
    assert span.start.line == span.end.line
    return Expected(
        spec.name,
        spec.platform,
        spec.entry,
        os.path.relpath(spec.root, root),
        spec.runtime,
        spec.triggers,
        os.path.relpath(spec.declared_in, root),
        (span.start.line, span.start.character, span.end.character),
        spec.timeout,
        spec.memory,
    )


@pytest.mark.parametrize("project", sorted(CASES))
def test_declared_functions_match_the_fixture(project: str) -> None:
    root = fixture(project)
    model = discover(root)
    assert [_seen(spec, root) for spec in model.functions] == CASES[project]
    assert model.problems == []


@pytest.mark.parametrize("project", sorted(CASES))
def test_entry_and_runtime_spans_cover_exactly_their_text(project: str) -> None:
    for spec in discover(fixture(project)).functions:
        assert spec.declared_in is not None and spec.entry_span is not None
        assert file_text_at(spec.declared_in, spec.entry_span) == spec.entry
        if spec.runtime is not None:
            assert spec.runtime_span is not None
            assert file_text_at(spec.declared_in, spec.runtime_span) == spec.runtime


@pytest.mark.parametrize("project", sorted(CASES))
def test_first_trigger_is_the_functions_trigger(project: str) -> None:
    for spec in discover(fixture(project)).functions:
        assert spec.trigger == (spec.triggers[0] if spec.triggers else None)


def test_every_declared_code_root_exists_and_holds_the_entry_module() -> None:
    # The fixtures double as the validator's: good variants must resolve for real.
    for project in CASES:
        for spec in discover(fixture(project)).functions:
            if not spec.code_on_disk:
                continue  # inline code: checked against its own source
            module = spec.entry.rpartition(".")[0].replace(".", "/")
            assert os.path.isfile(os.path.join(spec.root, module + ".py")), (project, spec.name)


def test_environment_keeps_literals_and_drops_computed_values() -> None:
    functions = {f.name: f for f in discover(fixture("sam-aws")).functions}
    # TABLE_NAME is `!Ref OrdersTable` and STAGE is `!Sub`: known only at deploy time.
    assert functions["HelloWorldFunction"].env == {"GREETING": "Hello", "RETRIES": "3"}


def test_globals_environment_is_merged_under_the_functions_own() -> None:
    functions = {f.name: f for f in discover(fixture("sam-globals")).functions}
    assert functions["ReaderFunction"].env == {"STAGE": "prod", "LOG_LEVEL": "DEBUG"}
    assert functions["NightlyFunction"].env == {"STAGE": "prod", "LOG_LEVEL": "INFO"}


def test_provider_environment_is_merged_under_the_functions_own() -> None:
    functions = {f.name: f for f in discover(fixture("serverless-aws")).functions}
    assert functions["hello"].env == {
        "SERVICE": "${self:service}",
        "REGION": "eu-west-1",
        "GREETING": "hi",
    }


def test_terraform_environment_and_code_root_come_from_literals_and_archives() -> None:
    root = fixture("terraform-yandex")
    greeter = discover(root).functions[0]
    assert greeter.env == {"GREETING": "Привет"}  # FOLDER = var.folder_id is computed
    assert greeter.root_declared_in == os.path.join(root, "main.tf")
    assert greeter.root_span is not None
    assert file_text_at(greeter.root_declared_in, greeter.root_span) == "${path.module}/src"
    aws = {f.name: f for f in discover(fixture("terraform-aws")).functions}
    assert aws["ingest"].env == {"BUCKET": "ingest-bucket", "DEBUG": "true"}


def test_pyproject_defaults_apply_to_every_listed_function() -> None:
    functions = {f.name: f for f in discover(fixture("pyproject-aws")).functions}
    assert functions["checkout"].env == {"STAGE": "dev"}
    assert functions["orders"].env == {"STAGE": "prod", "QUEUE": "orders"}
    root_span = functions["orders"].root_span
    assert root_span is not None and functions["orders"].root_declared_in is not None
    assert file_text_at(functions["orders"].root_declared_in, root_span) == "src"


def test_non_python_functions_are_not_listed() -> None:
    names = {f.name for f in discover(fixture("sam-aws")).functions}
    assert "WebFunction" not in names  # nodejs20.x
    names = {f.name for f in discover(fixture("serverless-aws")).functions}
    assert "legacy" not in names  # nodejs18.x


def test_inline_code_functions_are_listed_with_their_source() -> None:
    # Code.ZipFile: found (it is a declared Python function), but not a folder on disk.
    functions = {f.name: f for f in discover(fixture("cfn-lambda")).functions}
    inline = functions["Inline"]
    assert inline.inline_code is not None and "def handler(event, context)" in inline.inline_code
    assert (inline.archive, inline.code_on_disk) == (None, False)
    assert functions["Worker"].code_on_disk


def test_the_same_code_declared_twice_is_listed_once_with_the_first_declaration() -> None:
    # mixed/infra/main.tf declares `greeter` over the same code as pyproject.toml.
    greeters = [f for f in discover(fixture("mixed")).functions if f.entry == "main.handler"]
    assert [f.declared_by for f in greeters] == ["pyproject"]


def test_functions_sharing_a_handler_in_one_file_are_all_listed(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: &h app.handler, Events: {A: {Type: Api}}}\n"
        "  Queue:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.7, Handler: *h, Events: {Q: {Type: SQS}}}\n"
    )
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\n"
        "functions:\n  one: {handler: app.handler}\n  two: {handler: app.handler}\n"
    )
    functions = discover(str(tmp_path)).functions
    assert [(f.name, f.runtime, f.triggers) for f in functions] == [
        ("Api", "python3.12", ("api-gateway-rest",)),
        ("Queue", "python3.7", ("sqs",)),
    ]  # serverless.yml declares the same code again: the template, an earlier kind, wins


def test_config_files_lists_every_declaring_file_read_in_precedence_order() -> None:
    root = fixture("mixed")
    files = [os.path.relpath(p, root) for p in discover(root).config_files]
    assert files == ["pyproject.toml", "sam/template.yaml", "sls/serverless.yml", "infra/main.tf"]
