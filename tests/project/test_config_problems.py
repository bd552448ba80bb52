"""Problems in declaring files: codes, severities, positions and what the message says."""

from __future__ import annotations

import os

from handlerlens.core.problems import Severity, Span
from handlerlens.project import discover, parse_config_file
from tests.project.conftest import file_text_at, fixture


def _problems(project: str) -> list[tuple[str, str, Severity, Span]]:
    root = fixture(project)
    return [
        (os.path.relpath(p.path, root), p.code, p.severity, p.span) for p in discover(root).problems
    ]


def test_malformed_yaml_is_one_parse_error_and_other_files_are_still_read() -> None:
    root = fixture("broken-yaml")
    model = discover(root)
    assert _problems("broken-yaml") == [
        ("template.yaml", "config-parse-error", Severity.ERROR, Span.of(9, 0)),
    ]
    (problem,) = model.problems
    assert problem.message.startswith("This CloudFormation template does not parse: ")
    assert "did not find expected ',' or '}'" in problem.message
    assert [f.name for f in model.functions] == ["ping"]  # from api/serverless.yml


def test_malformed_hcl_is_one_parse_error_and_the_module_s_other_files_still_count() -> None:
    model = discover(fixture("broken-hcl"))
    assert _problems("broken-hcl") == [
        ("broken.tf", "config-parse-error", Severity.ERROR, Span.of(6, 0)),
        # good.tf deploys code.zip, which no build has made yet: nothing to check it against.
        ("good.tf", "config-value-unresolved", Severity.INFO, Span.of(5, 19, 5, 29)),
    ]
    assert "This Terraform file does not parse: unexpected end of file" in model.problems[0].message
    # python-hcl2 is stricter than Terraform in places: no claim that Terraform rejects it.
    assert "deploy tool would reject" not in model.problems[0].message
    assert "code.zip, which is not there yet" in model.problems[1].message
    assert [f.name for f in model.functions] == ["good"]


def test_malformed_toml_is_one_parse_error_at_tomllib_s_position() -> None:
    model = discover(fixture("broken-toml"))
    assert _problems("broken-toml") == [
        ("pyproject.toml", "config-parse-error", Severity.ERROR, Span.of(5, 21)),
    ]
    assert "This pyproject.toml does not parse: Illegal character" in model.problems[0].message
    # A declaring file being typed is no place for guesses to come and go.
    assert model.functions == []


def test_a_code_root_outside_the_workspace_is_noted_at_the_code_uri_and_still_listed() -> None:
    root = fixture("outside-root/workspace")
    model = discover(root)
    shared = next(f for f in model.functions if f.name == "Shared")
    assert shared.root == os.path.normpath(fixture("outside-root/shared_code"))
    outside = [p for p in model.problems if p.code == "code-root-outside-workspace"]
    assert [(p.severity, p.span) for p in outside] == [(Severity.INFO, Span.of(6, 15, 6, 30))]
    assert file_text_at(outside[0].path, outside[0].span) == "../shared_code/"
    assert "outside the workspace" in outside[0].message


def test_a_missing_code_root_warns_at_its_value() -> None:
    model = discover(fixture("outside-root/workspace"))
    missing = [p for p in model.problems if p.code == "code-root-missing"]
    assert [(p.severity, p.span) for p in missing] == [(Severity.WARNING, Span.of(12, 15, 12, 29))]
    assert file_text_at(missing[0].path, missing[0].span) == "not_built_yet/"
    assert "Missing" in missing[0].message and "does not exist" in missing[0].message
    assert {f.name for f in model.functions} == {"Shared", "Missing", "Local"}


def test_pyproject_mistakes_are_warnings_at_the_offending_key_or_value() -> None:
    root = fixture("pyproject-invalid")
    model = discover(root)
    path = os.path.join(root, "pyproject.toml")
    found = sorted(
        (p.span.start.line, p.span.start.character, file_text_at(path, p.span), p.message)
        for p in model.problems
    )
    assert all(
        p.code == "config-invalid" and p.severity == Severity.WARNING for p in model.problems
    )
    assert [(line, col, text) for line, col, text, _ in found] == [
        (1, 11, '"gcp"'),
        (2, 0, "colour"),
        (7, 10, '"webhook"'),
        (8, 10, '"ten"'),
        (9, 0, "memroy"),
        (11, 0, "[[tool.handlerlens.functions]]"),
    ]
    messages = [message for *_, message in found]
    assert 'use "yandex" or "aws"' in messages[0]
    assert "Unknown key 'colour'" in messages[1]
    assert "valid triggers: http, raw, api-gateway" in messages[2]
    assert "positive number of seconds" in messages[3]
    assert "Did you mean 'memory'?" in messages[4]
    assert "has no `entry`" in messages[5]
    # The function with a bad trigger and timeout is still listed, without them.
    (api,) = model.functions
    assert (api.name, api.platform, api.trigger, api.timeout) == ("api", "yandex", None, None)


def test_a_computed_handler_is_an_info_and_the_function_is_not_listed() -> None:
    text = (
        "service: s\n"
        "provider:\n"
        "  name: aws\n"
        "  runtime: python3.12\n"
        "functions:\n"
        "  computed:\n"
        "    handler: ${self:custom.handler}\n"
    )
    specs, problems = parse_config_file("/w/serverless.yml", text)
    assert specs == []
    assert [(p.code, p.severity, p.span) for p in problems] == [
        ("config-value-unresolved", Severity.INFO, Span.of(6, 13, 6, 35)),
    ]
    assert "resolved by Serverless at deploy time" in problems[0].message


def test_an_intrinsic_handler_in_a_template_is_an_info() -> None:
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Handler: !Sub '${Module}.handler'\n"
        "      Runtime: python3.12\n"
    )
    specs, problems = parse_config_file("/w/template.yaml", text)
    assert specs == []
    assert [(p.code, p.span.start) for p in problems] == [
        ("config-value-unresolved", Span.of(5, 15).start)
    ]


def test_a_computed_terraform_handler_is_an_info() -> None:
    text = 'resource "aws_lambda_function" "f" {\n  handler = var.handler\n}\n'
    specs, problems = parse_config_file("/w/main.tf", text)
    assert specs == []
    assert [(p.code, p.span) for p in problems] == [
        ("config-value-unresolved", Span.of(1, 12, 1, 23)),
    ]
