"""Terraform: functions, code roots through archive_file, triggers across a module."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from handlerlens.analysis.problems import Severity
from handlerlens.project import FunctionSpec, discover, parse_config_file
from tests.project.conftest import text_at

PATH = "/w/infra/main.tf"


def _specs(text: str) -> list[FunctionSpec]:
    specs, problems = parse_config_file(PATH, textwrap.dedent(text))
    assert problems == []
    return specs


YANDEX_FUNCTION = """
resource "yandex_function" "fn" {
  name       = "fn"
  runtime    = "python312"
  entrypoint = "main.handler"
}
"""


@pytest.mark.parametrize(
    ("block", "trigger"),
    [
        ('timer { cron_expression = "* * * * ? *" }', "timer"),
        ('message_queue { queue_id = "q" }', "message-queue"),
        ('object_storage { bucket_id = "b" }', "object-storage"),
        ('container_registry { registry_id = "r" }', "container-registry"),
        ('iot { registry_id = "r" }', "iot"),
        ('iot { broker_id = "b" }', "iot-broker"),
        ('logging { group_id = "g" }', "logging"),
        ("mail { }", "mail"),
        ('data_streams { stream_name = "s" }', "data-streams"),
        ('billing_budget { billing_account_id = "a" }', "budget"),
    ],
)
def test_yandex_trigger_blocks_map_to_trigger_ids(block: str, trigger: str) -> None:
    text = YANDEX_FUNCTION + (
        'resource "yandex_function_trigger" "t" {\n'
        f"  {block}\n"
        "  function {\n    id = yandex_function.fn.id\n  }\n}\n"
    )
    (spec,) = _specs(text)
    assert spec.triggers == (trigger,)


AWS_FUNCTION = """
resource "aws_lambda_function" "fn" {
  function_name = "fn"
  handler       = "app.handler"
  runtime       = "python3.12"
}
"""


@pytest.mark.parametrize(
    ("resources", "triggers"),
    [
        (
            'resource "aws_lambda_event_source_mapping" "m" {\n'
            "  event_source_arn = aws_kinesis_stream.s.arn\n"
            "  function_name    = aws_lambda_function.fn.arn\n}\n",
            ("kinesis",),
        ),
        (
            'resource "aws_lambda_event_source_mapping" "m" {\n'
            "  event_source_arn = aws_dynamodb_table.t.stream_arn\n"
            '  function_name    = "${aws_lambda_function.fn.function_name}"\n}\n',
            ("dynamodb",),
        ),
        (
            'resource "aws_lambda_event_source_mapping" "m" {\n'
            '  event_source_arn = "arn:aws:sqs:eu-west-1:1:jobs"\n'
            "  function_name    = aws_lambda_function.fn.arn\n}\n",
            ("sqs",),
        ),
        (
            'resource "aws_s3_bucket_notification" "n" {\n'
            "  bucket = aws_s3_bucket.b.id\n"
            "  lambda_function {\n"
            "    lambda_function_arn = aws_lambda_function.fn.arn\n"
            '    events              = ["s3:ObjectCreated:*"]\n  }\n}\n',
            ("s3",),
        ),
        (
            'resource "aws_sns_topic_subscription" "s" {\n'
            '  protocol = "lambda"\n  endpoint = aws_lambda_function.fn.arn\n}\n',
            ("sns",),
        ),
        (
            'resource "aws_cloudwatch_event_rule" "nightly" {\n'
            '  schedule_expression = "cron(0 3 * * ? *)"\n}\n'
            'resource "aws_cloudwatch_event_target" "t" {\n'
            "  rule = aws_cloudwatch_event_rule.nightly.name\n"
            "  arn  = aws_lambda_function.fn.arn\n}\n",
            ("schedule",),
        ),
        (
            'resource "aws_lambda_function_url" "u" {\n'
            "  function_name = aws_lambda_function.other.function_name\n}\n",
            (),
        ),
    ],
)
def test_aws_trigger_resources_map_to_trigger_ids(
    resources: str, triggers: tuple[str, ...]
) -> None:
    (spec,) = _specs(AWS_FUNCTION + resources)
    assert spec.triggers == triggers


def test_archive_source_file_makes_its_directory_the_code_root() -> None:
    text = (
        'data "archive_file" "one" {\n'
        '  type        = "zip"\n'
        '  source_file = "${path.module}/../src/handler.py"\n'
        '  output_path = "one.zip"\n}\n'
        'resource "aws_lambda_function" "f" {\n'
        '  handler  = "handler.main"\n'
        "  filename = data.archive_file.one.output_path\n}\n"
    )
    (spec,) = _specs(text)
    assert spec.root == "/w/src"
    assert spec.root_span is not None
    assert text_at(text, spec.root_span) == "${path.module}/../src/handler.py"


def test_an_archive_path_terraform_computes_is_an_info_naming_it_not_the_module_folder() -> None:
    # Issue 14 (M): the .tf folder used to stand in, and the module was "missing" there.
    text = (
        'data "archive_file" "a" {\n  source_dir = "${var.code_dir}"\n}\n'
        'resource "aws_lambda_function" "f" {\n'
        '  handler  = "handler.main"\n'
        "  filename = data.archive_file.a.output_path\n}\n"
    )
    (spec,), (problem,) = parse_config_file(PATH, text)
    assert spec.packed is not None and spec.packed.names is None
    assert (problem.code, problem.severity) == ("config-value-unresolved", Severity.INFO)
    assert text_at(text, problem.span) == '"${var.code_dir}"'
    assert problem.message.startswith(
        'The source_dir of data.archive_file.a is `"${var.code_dir}"`: HandlerLens cannot resolve '
        "it without running Terraform"
    )


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        ("yandex_function", 'package {\n    bucket_name = "b"\n    object_name = "o.zip"\n  }'),
        ("aws_lambda_function", 's3_bucket = "b"\n  s3_key = "k.zip"'),
    ],
)
def test_code_in_a_bucket_is_an_info_not_a_function(resource: str, code: str) -> None:
    handler = "entrypoint" if resource == "yandex_function" else "handler"
    text = f'resource "{resource}" "fn" {{\n  {handler} = "main.handler"\n  {code}\n}}\n'
    specs, (problem,) = parse_config_file(PATH, text)
    assert specs == []
    assert (problem.code, problem.severity) == ("config-value-unresolved", Severity.INFO)
    assert text_at(text, problem.span) == '"b"'
    assert "is deployed from a bucket, not from this workspace" in problem.message


def test_images_and_other_runtimes_are_not_listed() -> None:
    text = (
        'resource "aws_lambda_function" "img" {\n  image_uri = "repo:latest"\n'
        '  package_type = "Image"\n}\n'
        'resource "aws_lambda_function" "node" {\n  handler = "index.handler"\n'
        '  runtime = "nodejs20.x"\n}\n'
        'resource "yandex_function" "go" {\n  entrypoint = "main.Handler"\n'
        '  runtime = "golang121"\n}\n'
    )
    assert _specs(text) == []


def test_a_module_links_archives_and_triggers_across_its_files(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "archive.tf").write_text(
        'data "archive_file" "code" {\n  source_dir = "${path.module}/src"\n}\n'
    )
    (tmp_path / "function.tf").write_text(
        'resource "yandex_function" "fn" {\n  entrypoint = "main.handler"\n'
        "  content {\n    zip_filename = data.archive_file.code.output_path\n  }\n}\n"
    )
    (tmp_path / "trigger.tf").write_text(
        'resource "yandex_function_trigger" "t" {\n  mail {}\n'
        "  function {\n    id = yandex_function.fn.id\n  }\n}\n"
    )
    (spec,) = discover(str(tmp_path)).functions
    assert (spec.root, spec.trigger) == (str(tmp_path / "src"), "mail")
    assert spec.root_declared_in == str(tmp_path / "archive.tf")
    assert spec.declared_in == str(tmp_path / "function.tf")
    # Alone, the function file knows neither.
    (alone,), _ = parse_config_file(
        str(tmp_path / "function.tf"), (tmp_path / "function.tf").read_text()
    )
    assert (alone.root, alone.trigger) == (str(tmp_path), None)


def test_modules_in_other_directories_do_not_link(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "f.tf").write_text(AWS_FUNCTION)
    (tmp_path / "b" / "url.tf").write_text(
        'resource "aws_lambda_function_url" "u" {\n'
        "  function_name = aws_lambda_function.fn.function_name\n}\n"
    )
    (spec,) = discover(str(tmp_path)).functions
    assert spec.triggers == ()
    assert os.path.dirname(spec.declared_in or "") == str(tmp_path / "a")
