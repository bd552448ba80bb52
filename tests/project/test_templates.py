"""Project templates (cookiecutter, Jinja) are not declarations: skipped, never parse errors
(issue 14: J)."""

from __future__ import annotations

from pathlib import Path

from handlerlens.core.problems import Severity
from handlerlens.project import discover, parse_config_file

SAM_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: {{ cookiecutter.runtime }}
{%- if cookiecutter.tracing == "y" %}
      Tracing: Active
{%- endif %}
"""


def test_a_cookiecutter_folder_is_not_walked(tmp_path: Path) -> None:
    project = tmp_path / "{{cookiecutter.project_name}}"
    (project / "hello_world").mkdir(parents=True)
    (project / "template.yaml").write_text(SAM_TEMPLATE)
    (project / "hello_world" / "app.py").write_text(
        "def lambda_handler(event, context):\n    return {{ cookiecutter.value }}\n"
    )
    model = discover(str(tmp_path))
    assert (model.functions, model.problems, model.config_files) == ([], [], [])


def test_a_template_with_jinja_statements_is_one_info_at_the_first_one(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(SAM_TEMPLATE.replace("{{ cookiecutter.runtime }}", "python3.12"))
    specs, (problem,) = parse_config_file(str(path), path.read_text())
    assert specs == []
    assert (problem.code, problem.severity) == ("config-template", Severity.INFO)
    assert (problem.span.start.line, problem.span.start.character) == (9, 0)
    assert "'{%- if cookiecutter.tracing == \"y\" %}' is unrendered Jinja" in problem.message


def test_a_cookiecutter_variable_alone_marks_a_template(tmp_path: Path) -> None:
    text = (
        "service: '{{ cookiecutter.service }}'\nprovider: {name: aws, runtime: python3.12}\n"
        "functions:\n  f: {handler: main.f}\n"
    )
    specs, (problem,) = parse_config_file(str(tmp_path / "serverless.yml"), text)
    assert specs == [] and problem.code == "config-template"


def test_a_file_opened_from_a_template_folder_is_an_info_at_the_start(tmp_path: Path) -> None:
    path = tmp_path / "{{cookiecutter.project_name}}" / "serverless.yml"
    text = "provider: {name: aws, runtime: python3.12}\nfunctions:\n  f: {handler: main.f}\n"
    specs, (problem,) = parse_config_file(str(path), text)
    assert specs == [] and problem.code == "config-template"
    assert problem.span.start.line == 0


def test_double_braces_that_are_not_jinja_leave_a_template_alone(tmp_path: Path) -> None:
    # A dynamic reference and an SSM document parameter are CloudFormation's own.
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      Code: .\n"
        "      Environment: {Variables: {KEY: '{{resolve:ssm:/app/key}}'}}\n"
        "  Doc:\n    Type: AWS::SSM::Document\n"
        "    Properties: {Content: {mainSteps: [{inputs: {Id: '{{ InstanceId }}'}}]}}\n"
    )
    (spec,), problems = parse_config_file(str(tmp_path / "template.yaml"), text)
    assert spec.name == "Fn" and problems == []


def test_terraform_template_directives_are_not_jinja(tmp_path: Path) -> None:
    text = (
        'resource "aws_lambda_function" "f" {\n  function_name = "f"\n'
        '  handler = "app.handler"\n  runtime = "python3.12"\n  filename = "f.zip"\n'
        '  description = "%{ if true }on%{ endif }"\n}\n'
    )
    _, problems = parse_config_file(str(tmp_path / "main.tf"), text)
    assert all(p.code != "config-template" for p in problems)
