"""Which files count as declaring files."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlerlens.project import is_config_file

SAM_HEAD = "AWSTemplateFormatVersion: '2010-09-09'\n"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("pyproject.toml", "", True),
        ("serverless.yml", "", True),
        ("serverless.yaml", "", True),
        ("main.tf", "", True),
        ("template.yaml", SAM_HEAD, True),
        ("stack.yml", "Transform: AWS::Serverless-2016-10-31\n", True),
        ("cfn.json", '{"Resources": {"F": {"Type": "AWS::Lambda::Function"}}}', True),
        ("infra.template", SAM_HEAD, True),
        ("template.yaml", "kind: Deployment\n", False),
        ("docker-compose.yml", "services: {}\n", False),
        ("package.json", '{"description": "AWS::Serverless"}', False),
        ("setup.cfg", "", False),
        ("main.py", SAM_HEAD, False),
        ("variables.tfvars", "", False),
    ],
)
def test_declaring_files_are_recognised_by_name_and_content(
    name: str, text: str, expected: bool
) -> None:
    assert is_config_file(f"/w/{name}", text) is expected


def test_without_text_the_file_on_disk_is_read(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(SAM_HEAD)
    other = tmp_path / "values.yaml"
    other.write_text("replicas: 3\n")
    assert is_config_file(str(template)) is True
    assert is_config_file(str(other)) is False
    assert is_config_file(str(tmp_path / "missing.yaml")) is False
    assert is_config_file(str(tmp_path / "serverless.yml")) is True  # by name alone
