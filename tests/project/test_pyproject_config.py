"""`[tool.handlerlens]` in pyproject.toml: the schema, its defaults and its mistakes."""

from __future__ import annotations

import pytest

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Span
from handlerlens.project import parse_config_file
from tests.project.conftest import text_at

PATH = "/w/pyproject.toml"


def _one(text: str, platform_setting: str | None = None) -> FunctionSpec:
    (spec,), problems = parse_config_file(PATH, text, platform_setting=platform_setting)
    assert problems == []
    return spec


def test_shorthand_entry_declares_one_function_named_after_it() -> None:
    spec = _one('[tool.handlerlens]\nentry = "main.handler"\n')
    assert (spec.name, spec.entry, spec.root, spec.declared_by) == (
        "main.handler",
        "main.handler",
        "/w",
        "pyproject",
    )


@pytest.mark.parametrize(
    ("table", "setting", "platform"),
    [
        ('platform = "aws"\n', None, "aws"),
        ('platform = "aws"\n', "yandex", "aws"),
        ("", "aws", "aws"),
        ("", None, "yandex"),
        ("", "bogus", "yandex"),
    ],
)
def test_platform_comes_from_the_file_then_the_setting_then_yandex(
    table: str, setting: str | None, platform: str
) -> None:
    text = f'[tool.handlerlens]\n{table}entry = "main.handler"\n'
    assert _one(text, setting).platform == platform


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ('[tool]\nhandlerlens.entry = "main.handler"\n', Span.of(1, 21, 1, 33)),
        ("[tool.\"handlerlens\"]\nentry = 'main.handler'\n", Span.of(1, 9, 1, 21)),
        ('tool.handlerlens = { entry = "main.handler" }\n', Span.of(0, 30, 0, 42)),
        ('[tool.handlerlens]\nentry = """main.handler"""\n', Span.of(1, 11, 1, 23)),
        (
            '[tool.handlerlens]  # functions\n"entry" = "main.handler" # main\n',
            Span.of(1, 11, 1, 23),
        ),
        (
            '[tool.handlerlens]\nfunctions = [\n  # first\n  { entry = "main.handler" },\n]\n',
            Span.of(3, 13, 3, 25),
        ),
    ],
)
def test_entry_span_is_exact_in_every_toml_spelling(text: str, span: Span) -> None:
    spec = _one(text)
    assert spec.entry_span == span
    assert text_at(text, span) == "main.handler"


def test_files_without_handlerlens_are_not_read_at_all() -> None:
    # Not ours: even a syntax error in someone's pyproject is left to their tools.
    assert parse_config_file(PATH, "[project\nname = 'x'\n") == ([], [])
    assert parse_config_file(PATH, "[project]\nname = 'x'\n") == ([], [])


def test_a_table_with_only_settings_declares_nothing() -> None:
    assert parse_config_file(PATH, '[tool.handlerlens]\nplatform = "aws"\n') == ([], [])


def test_a_trigger_of_the_other_platform_is_reported_with_the_valid_ones() -> None:
    text = '[tool.handlerlens]\nplatform = "aws"\nentry = "app.h"\ntrigger = "timer"\n'
    (spec,), (problem,) = parse_config_file(PATH, text)
    assert spec.trigger is None
    assert problem.code == "config-invalid"
    assert problem.span == Span.of(3, 10, 3, 17)
    assert "Unknown aws trigger 'timer'" in problem.message
    assert "api-gateway-rest, http-api, function-url" in problem.message


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("memory = 0", "`memory` must be a positive integer"),
        ("memory = 1.5", "`memory` must be a positive integer"),
        ("timeout = true", "`timeout` must be a positive number"),
        ("runtime = 312", "`runtime` must be a non-empty string"),
        ('root = ""', "`root` must be a non-empty string"),
        ("env = [1]", "`env` must be a table"),
        ("env = { A = [1] }", "Environment variable A must be a string"),
        ("trigger = 1", "`trigger` must be a string"),
        ("functions = 3", "`functions` must be an array of tables"),
    ],
)
def test_wrong_types_are_warnings_naming_the_key(line: str, message: str) -> None:
    text = f'[tool.handlerlens]\nentry = "main.handler"\n{line}\n'
    specs, problems = parse_config_file(PATH, text)
    assert len(specs) == 1
    assert [(p.code, p.span.start.line) for p in problems] == [("config-invalid", 2)]
    assert message in problems[0].message


def test_a_non_table_is_reported_and_ignored() -> None:
    specs, (problem,) = parse_config_file(PATH, "[tool]\nhandlerlens = 3\n")
    assert specs == []
    assert (problem.code, problem.span) == ("config-invalid", Span.of(1, 14, 1, 15))


def test_a_listed_function_does_not_inherit_the_shorthand_name_or_entry() -> None:
    text = (
        '[tool.handlerlens]\nname = "main"\nentry = "main.handler"\nmemory = 256\n'
        '[[tool.handlerlens.functions]]\nentry = "jobs.run"\n'
    )
    specs, problems = parse_config_file(PATH, text)
    assert problems == []
    assert [(s.name, s.entry, s.memory) for s in specs] == [
        ("main", "main.handler", 256),
        ("jobs.run", "jobs.run", 256),
    ]


def test_root_is_relative_to_the_pyproject_and_its_span_is_the_value() -> None:
    text = '[tool.handlerlens]\nentry = "main.handler"\nroot = "../shared"\n'
    spec = _one(text)
    assert spec.root == "/shared"
    assert spec.root_declared_in == PATH
    assert spec.root_span == Span.of(2, 8, 2, 17)
