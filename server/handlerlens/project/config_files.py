"""Which files declare functions, and reading one of them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.core.text import LineIndex
from handlerlens.project.config_problems import CONFIG_TEMPLATE
from handlerlens.project.walk import MAX_CONFIG_BYTES, config_kind

if TYPE_CHECKING:
    from handlerlens.project.walk import ConfigKind

# python-hcl2's pure-Python Lark parser reads ~80 KB/s; bigger .tf files are generated ones.
MAX_TERRAFORM_CHARS = 256_000


# Unrendered Jinja (cookiecutter, copier): a statement `{% if … %}`, or a cookiecutter variable
# `{{ cookiecutter.runtime }}`. A bare `{{ name }}` is not enough: SSM documents and
# CloudFormation's dynamic references (`{{resolve:ssm:…}}`) use double braces too.
_JINJA = re.compile(r"\{%-?\s*[a-z]+\b[^\n]*?%\}|\{\{-?\s*cookiecutter\.")
# Only YAML and JSON declarations are rendered from such templates; `{%` in HCL is Terraform's
# own template directive.
_TEMPLATED_KINDS = ("sam", "serverless")


def jinja_template_problem(path: str, text: str) -> Problem | None:
    """One info for a declaring file that is a Jinja template not yet rendered, else None."""
    in_name = _JINJA.search(path)
    match = in_name or _JINJA.search(text)
    if match is None:
        return None
    span = Span.of(0, 0) if in_name else LineIndex(text).span(match.start(), match.end())
    return Problem(
        path,
        span,
        Severity.INFO,
        CONFIG_TEMPLATE,
        f"This file is a template ('{match.group(0)}' is unrendered Jinja), not a declaration: "
        "HandlerLens reads functions from the rendered project, not from its template.",
    )


def is_config_file(path: str, text: str | None = None) -> bool:
    """True for files that can declare functions (reads the file's head if text is None)."""
    return config_kind(path, text) is not None


def parse_config_file(
    path: str, text: str, *, platform_setting: str | None = None
) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions one declaring file declares and the problems in it; never raises."""
    kind = config_kind(path, text)
    if kind is None or too_big(kind, text):
        return [], []
    return parse_as(kind, path, text, platform_setting)


def too_big(kind: ConfigKind, text: str) -> bool:
    """Files past the size bounds are skipped silently: they are generated, not written."""
    return len(text) > (MAX_TERRAFORM_CHARS if kind == "terraform" else MAX_CONFIG_BYTES)


def parse_as(
    kind: ConfigKind, path: str, text: str, platform_setting: str | None
) -> tuple[list[FunctionSpec], list[Problem]]:
    """Parse a file of a known kind; any unexpected failure is silence, never an exception."""
    template = jinja_template_problem(path, text) if kind in _TEMPLATED_KINDS else None
    if template is not None:
        return [], [template]
    # Each reader (and its parser: tomllib, PyYAML, python-hcl2) loads on the first file of its
    # kind, so `invoke` and the language server's start-up pay only for formats in use.
    try:
        if kind == "pyproject":
            from handlerlens.project.pyproject_config import parse_pyproject

            return parse_pyproject(path, text, platform_setting)
        if kind == "sam":
            from handlerlens.project.sam_template import parse_template

            return parse_template(path, text)
        if kind == "serverless":
            from handlerlens.project.serverless_config import parse_serverless

            return parse_serverless(path, text)
        if kind == "yc-cli":
            from handlerlens.project.yc_cli import parse_yc_cli

            return parse_yc_cli(path, text)
        from handlerlens.project.terraform_config import parse_terraform

        return parse_terraform(path, text)
    except Exception:  # noqa: BLE001 - a reader bug must not take the language server down
        return [], []
