"""SAM and CloudFormation templates, case by case."""

from __future__ import annotations

import textwrap

import pytest

from handlerlens.core.problems import Position, Severity
from handlerlens.core.text import LineIndex
from handlerlens.project import parse_config_file
from tests.project.conftest import text_at

PATH = "/w/app/template.yaml"


def _parse(body: str, path: str = PATH) -> tuple[list, list]:  # type: ignore[type-arg]
    text = "AWSTemplateFormatVersion: '2010-09-09'\n" + textwrap.dedent(body)
    return parse_config_file(path, text)


def _function(props: str, extra: str = "") -> str:
    return (
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n" + textwrap.indent(textwrap.dedent(props), "      ") + extra
    )


@pytest.mark.parametrize(
    ("event", "triggers"),
    [
        ("{Type: Api}", ("api-gateway-rest",)),
        ("{Type: HttpApi}", ("http-api",)),
        ("{Type: HttpApi, Properties: {PayloadFormatVersion: '1.0'}}", ("api-gateway-rest",)),
        ("{Type: S3}", ("s3",)),
        ("{Type: SNS}", ("sns",)),
        ("{Type: Schedule}", ("schedule",)),
        ("{Type: DynamoDB}", ("dynamodb",)),
        ("{Type: Kinesis}", ("kinesis",)),
        ("{Type: CloudWatchLogs}", ()),
    ],
)
def test_event_types_map_to_trigger_ids(event: str, triggers: tuple[str, ...]) -> None:
    (spec,), _ = _parse(_function(f"Events:\n  E: {event}\n"))
    assert spec.triggers == triggers
    assert spec.trigger == (triggers[0] if triggers else None)


@pytest.mark.parametrize(
    ("event", "custom"),
    [
        ("{Type: Schedule, Properties: {Schedule: rate(1 day)}}", False),
        ("{Type: Schedule, Properties: {Input: '{\"job\": 1}'}}", True),
        ("{Type: ScheduleV2, Properties: {Input: '{}'}}", True),
        ("{Type: EventBridgeRule, Properties: {InputPath: $.detail}}", True),
        ("{Type: CloudWatchEvent, Properties: {InputTransformer: {InputTemplate: x}}}", True),
        ("{Type: SQS, Properties: {Input: x}}", False),
    ],
)
def test_eventbridge_input_replaces_the_event(event: str, custom: bool) -> None:
    (spec,), _ = _parse(_function(f"Events:\n  E: {event}\n"))
    assert spec.custom_event is custom
    assert spec.event_trigger == (None if custom else spec.trigger)


def test_container_images_are_not_listed_and_inline_code_is_kept() -> None:
    specs, problems = _parse(
        """
        Resources:
          Image:
            Type: AWS::Serverless::Function
            Properties: {PackageType: Image, ImageUri: repo:latest}
          Inline:
            Type: AWS::Serverless::Function
            Properties: {Handler: index.handler, Runtime: python3.12, InlineCode: "x = 1"}
          Zip:
            Type: AWS::Lambda::Function
            Properties:
              Handler: index.handler
              Runtime: python3.12
              Code: {ZipFile: "def handler(e, c): pass"}
        """
    )
    assert problems == []
    # Lambda saves inline code as index.py; the source travels with the function.
    assert [(s.name, s.inline_code, s.root) for s in specs] == [
        ("Inline", "x = 1", "/w/app"),
        ("Zip", "def handler(e, c): pass", "/w/app"),
    ]


def test_a_zip_code_uri_is_the_archive_and_its_folder_the_root() -> None:
    (spec,), problems = _parse(_function("CodeUri: build/code.zip\n"))
    assert problems == []
    assert (spec.archive, spec.root, spec.root_declared_in) == (
        "/w/app/build/code.zip",
        "/w/app/build",
        PATH,
    )
    assert spec.root_span is not None and not spec.code_on_disk


@pytest.mark.parametrize(
    "code_uri",
    [
        "{Bucket: my-bucket, Key: code.zip}",
        "s3://my-bucket/code.zip",
        "!Ref CodeLocation",
    ],
)
def test_code_not_in_the_workspace_is_an_info_not_a_function(code_uri: str) -> None:
    specs, (problem,) = _parse(_function(f"CodeUri: {code_uri}\n"))
    assert specs == []
    assert (problem.code, problem.severity) == ("config-value-unresolved", Severity.INFO)
    assert problem.span.start == Position(7, 15)  # the CodeUri value
    assert problem.message.startswith("The code of Fn is deployed from S3 or from a value")


def test_cloudformation_code_in_s3_is_an_info_not_a_function() -> None:
    text = _function("").replace("Serverless::Function", "Lambda::Function")
    specs, (problem,) = _parse(text + "      Code: {S3Bucket: b, S3Key: k.zip}\n")
    assert specs == []
    assert problem.code == "config-value-unresolved"


def test_numbers_given_as_strings_are_read() -> None:
    (spec,), _ = _parse(_function("Timeout: '30'\nMemorySize: '2048'\n"))
    assert (spec.timeout, spec.memory) == (30.0, 2048)


def test_computed_timeout_and_runtime_are_skipped_silently() -> None:
    text = _function("Timeout: !Ref Timeout\n").replace("Runtime: python3.12", "Runtime: !Ref Rt")
    (spec,), problems = _parse(text)
    assert problems == []
    assert (spec.timeout, spec.runtime, spec.runtime_span) == (None, None, None)


def test_event_source_mappings_in_long_form_and_literal_arns_link_triggers() -> None:
    specs, _ = _parse(
        """
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties: {Handler: app.handler, Runtime: python3.12, Code: .}
          FromStream:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              FunctionName: {Ref: Fn}
              EventSourceArn: {"Fn::GetAtt": [Stream, Arn]}
          FromTable:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              FunctionName: {"Fn::GetAtt": "Fn.Arn"}
              EventSourceArn: arn:aws:dynamodb:eu-west-1:1:table/T/stream/1
          Stream:
            Type: AWS::Kinesis::Stream
        """
    )
    assert [spec.triggers for spec in specs] == [("kinesis", "dynamodb")]


def test_yaml_that_is_not_a_template_declares_nothing() -> None:
    assert parse_config_file("/w/template.yaml", "AWSTemplateFormatVersion: x\n") == ([], [])


def test_two_documents_are_a_parse_error() -> None:
    specs, problems = parse_config_file(PATH, "AWSTemplateFormatVersion: x\n---\nb: 1\n")
    assert specs == []
    assert [(p.code, p.severity, p.span.start.line) for p in problems] == [
        ("config-parse-error", Severity.ERROR, 1)
    ]


def test_malformed_json_template_is_a_parse_error_at_json_s_position() -> None:
    text = '{"AWSTemplateFormatVersion": "2010-09-09",\n "Resources": {,}}'
    specs, problems = parse_config_file("/w/template.json", text)
    assert specs == []
    assert [(p.code, p.span.start.line, p.span.start.character) for p in problems] == [
        ("config-parse-error", 1, 15)
    ]
    assert "Expecting property name enclosed in double quotes" in problems[0].message


def test_logging_config_json_sets_the_runtime_log_format_and_level() -> None:
    (spec,), _ = _parse(
        _function("LoggingConfig:\n  LogFormat: JSON\n  ApplicationLogLevel: debug\n")
    )
    assert spec.env["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert spec.env["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"
    (spec,), _ = _parse(_function("LoggingConfig: {LogFormat: JSON}\n"))
    assert spec.env["AWS_LAMBDA_LOG_LEVEL"] == "INFO"  # Lambda's default for JSON logs
    (spec,), _ = _parse(_function("LoggingConfig: {LogFormat: Text, ApplicationLogLevel: DEBUG}\n"))
    assert "AWS_LAMBDA_LOG_FORMAT" not in spec.env and "AWS_LAMBDA_LOG_LEVEL" not in spec.env


def _template_with_handler(handler: str) -> str:
    """A template whose function `Fn` has `handler` (lines unindented) as its Handler."""
    alias = (
        "  Other:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: *h, Runtime: python3.12}\n"
    )
    return (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      Handler: {textwrap.indent(handler, '        ').lstrip()}\n"
        "      Runtime: python3.12\n" + (alias if "&h" in handler else "")
    )


@pytest.mark.parametrize(
    ("handler", "covered"),
    [
        ("app.handlr", "app.handlr"),
        ('"app.handlr"', "app.handlr"),
        ("!!str 'app.handlr'", "app.handlr"),
        ("&h app.handlr", "app.handlr"),
        ("&h !!str app.handlr  # shared", "app.handlr"),
        (">-\napp.handlr", "app.handlr"),
        ("|-  # a note\napp.handlr\n", "app.handlr"),
        ("&h >-\napp.\nhandlr", "app.\n        handlr"),
    ],
)
def test_entry_span_is_the_scalar_s_own_text_so_replacing_it_keeps_the_yaml(
    handler: str, covered: str
) -> None:
    text = _template_with_handler(handler)
    specs, problems = parse_config_file(PATH, text)
    assert problems == []
    span = specs[0].entry_span
    assert span is not None and text_at(text, span) == covered
    index = LineIndex(text)  # every column here is ASCII, so code points are UTF-16 units
    start = index.offset_of(span.start.line, span.start.character)
    end = index.offset_of(span.end.line, span.end.character)
    fixed = text[:start] + "app.handler" + text[end:]
    specs, problems = parse_config_file(PATH, fixed)
    assert problems == []
    assert {(spec.entry, spec.runtime) for spec in specs} == {("app.handler", "python3.12")}


@pytest.mark.parametrize("libyaml", [True, False])
def test_a_template_without_a_function_is_only_checked_for_syntax_at_the_same_place(
    libyaml: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlerlens.project import yaml_nodes

    if libyaml:
        assert hasattr(yaml_nodes._C_PARSER, "raw_parse")
    else:  # PyYAML without its C parser: composed, with the same answer
        monkeypatch.setattr(yaml_nodes, "_C_PARSER", None)
    queue = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    assert _parse(queue) == ([], [])
    broken = queue + "    Properties: {QueueName: [a, b}\n"
    specs, (problem,) = _parse(broken)
    assert specs == [] and problem.code == "config-parse-error"
    # Exactly what composing the same text reports (the one the function templates get).
    with_function = broken.replace("AWS::SQS::Queue", "AWS::Serverless::Function")
    _, (composed,) = _parse(with_function)
    assert (problem.span, problem.message) == (composed.span, composed.message)
    assert problem.span.start.line == 4
    # Two documents: one template is one document (raw parsing alone would allow two).
    specs, (problem,) = _parse(queue + "---\nOther: 1\n")
    assert "another document" in problem.message and problem.span.start.line == 4
