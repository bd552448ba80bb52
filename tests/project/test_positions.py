"""Positions are LSP's: zero-based lines, UTF-16 columns, `\\n`/`\\r\\n`/`\\r` line breaks."""

from __future__ import annotations

import pytest

from handlerlens.core.problems import Position, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import parse_config_file
from tests.project.conftest import text_at


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("abc", 2, Position(0, 2)),
        ("a\nbc", 3, Position(1, 1)),
        ("a\r\nbc", 4, Position(1, 1)),
        ("a\rbc", 3, Position(1, 1)),
        ("😀x", 1, Position(0, 2)),  # outside the BMP: two UTF-16 code units
        ("Привет x", 7, Position(0, 7)),  # Cyrillic is one unit per letter
        ("a\u2028b", 2, Position(0, 2)),  # not an LSP line break (YAML counts it)
        ("ab\n", 3, Position(1, 0)),
        ("ab", 99, Position(0, 2)),
    ],
)
def test_offsets_become_lsp_positions(text: str, offset: int, expected: Position) -> None:
    assert LineIndex(text).position(offset) == expected


TEMPLATE = (
    "AWSTemplateFormatVersion: '2010-09-09'\r\n"
    "Resources:\r\n"
    "  Fn:\r\n"
    "    Type: AWS::Serverless::Function\r\n"
    '    Properties: {Description: "🚀 ракета", Handler: "app.handler", Runtime: python3.12}\r\n'
)


def test_yaml_handler_span_counts_utf16_units_after_wide_characters() -> None:
    (spec,), problems = parse_config_file("/w/template.yaml", TEMPLATE)
    assert problems == []
    assert spec.entry_span == Span.of(4, 53, 4, 64)
    assert text_at(TEMPLATE, spec.entry_span) == "app.handler"


def test_hcl_handler_span_counts_utf16_units_after_wide_characters() -> None:
    text = 'resource "yandex_function" "🚀ракета" { entrypoint = "main.handler" }\n'
    (spec,), problems = parse_config_file("/w/main.tf", text)
    assert problems == []
    assert spec.name == "🚀ракета"
    assert spec.entry_span == Span.of(0, 54, 0, 66)
    assert text_at(text, spec.entry_span) == "main.handler"


def test_toml_handler_span_counts_utf16_units_after_wide_characters() -> None:
    text = '[tool.handlerlens]\nfunctions = [{ name = "🚀", entry = "main.handler" }]\n'
    (spec,), problems = parse_config_file("/w/pyproject.toml", text)
    assert problems == []
    assert spec.entry_span == Span.of(1, 37, 1, 49)
    assert text_at(text, spec.entry_span) == "main.handler"
