"""core.text: one way to split lines and convert columns, as LSP counts them.

`split_lines` and the UTF-16 converters were two each (one for validation, one for event
completion and hover) that disagreed on a final line break and on a column past the end, and
`LineIndex` was two classes of one name (ast locations; offsets in declaring files); these
pin the one behaviour they now share, at the edges where LSP and Python differ.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlerlens.core.problems import Position
from handlerlens.core.text import (
    LineIndex,
    byte_to_index,
    index_to_byte,
    read_lenient,
    split_lines,
    split_lines_keepends,
    utf16_column,
    utf16_length,
    utf16_to_index,
)

# LSP's three breaks, the ones only str.splitlines() knows, BMP and astral characters.
ALPHABET = st.sampled_from(
    ["a", "é", "😀", " ", "\n", "\r", "\r\n", "\f", "\v", "\x1c", "\x85", "\u2028", "\u2029"]
)
TEXTS = st.lists(ALPHABET, max_size=30).map("".join)
LINES = st.lists(st.sampled_from(["a", "é", "😀", " ", "\f", "\u2028"]), max_size=12).map("".join)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", [""]),
        ("a", ["a"]),
        ("a\n", ["a", ""]),  # the cursor can stand on the line after a final break
        ("a\r\nb\rc\nd", ["a", "b", "c", "d"]),
        ("\r\n", ["", ""]),
        ("a\r", ["a", ""]),
        ("\r\r\n\n", ["", "", "", ""]),
        ("a\fb\vc", ["a\fb\vc"]),  # a form feed or vertical tab ends no line
        ("a\x85b\u2028c\u2029d\x1ce", ["a\x85b\u2028c\u2029d\x1ce"]),
    ],
)
def test_split_lines_breaks_only_where_lsp_does(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


@given(TEXTS)
def test_split_lines_has_a_line_for_every_break_plus_one(text: str) -> None:
    breaks = text.replace("\r\n", "\n").replace("\r", "\n").count("\n")
    lines = split_lines(text)
    assert len(lines) == breaks + 1
    assert "".join(split_lines_keepends(text)) == text
    # keepends stops at the last break: no empty line after it, none for "".
    last = 1 if text and not text.endswith(("\n", "\r")) else 0
    assert len(split_lines_keepends(text)) == breaks + last


@pytest.mark.parametrize(
    ("line", "index", "column"),
    [
        ("abc", 2, 2),
        ("éé", 2, 2),  # BMP: one code unit each
        ("😀a", 1, 2),  # beyond the BMP: two
        ("😀a", 2, 3),
        ("abc", 10, 3),  # past the end: clamped (ASCII and not alike)
        ("😀", 10, 2),
        ("abc", -1, 0),
    ],
)
def test_utf16_column(line: str, index: int, column: int) -> None:
    assert utf16_column(line, index) == column


def test_a_column_inside_a_surrogate_pair_goes_to_the_next_character() -> None:
    assert utf16_to_index("😀a", 1) == 1
    assert utf16_to_index("😀a", 99) == 2
    assert utf16_to_index("abc", -3) == 0


@given(LINES)
def test_the_converters_are_each_others_inverse(line: str) -> None:
    assert utf16_length(line) == len(line.encode("utf-16-le")) // 2
    for index in range(len(line) + 1):
        assert utf16_to_index(line, utf16_column(line, index)) == index
        assert byte_to_index(line, index_to_byte(line, index)) == index


def test_ast_columns_become_utf16_columns() -> None:
    text = "s = '😀'; y = 1\r\nz = 'é'\n"
    tree = ast.parse(text)
    y = tree.body[1]
    z = tree.body[2]
    assert isinstance(y, ast.Assign) and isinstance(z, ast.Assign)
    index = LineIndex(text)
    assert index.from_ast(y.lineno, y.col_offset) == Position(0, 10)
    assert index.from_ast(z.value.lineno, z.value.end_col_offset or 0) == Position(1, 7)
    assert index.line(2) == ""


@given(TEXTS, st.integers(0, 40))
def test_offsets_and_lines_agree(text: str, offset: int) -> None:
    # Positions of offsets (in a declaring file) and split_lines count lines alike.
    offset = min(offset, len(text))
    if text[offset - 1 : offset + 1] == "\r\n":
        offset += 1  # not inside a line break
    head = split_lines(text[:offset])
    expected = Position(len(head) - 1, utf16_length(head[-1]))
    assert LineIndex(text).position(offset) == expected


def test_a_declaring_file_is_read_whatever_stray_bytes_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_bytes(b"Resources:\n  Fn: \xff\xfe caf\xc3\xa9\n")
    assert read_lenient(str(path)) == "Resources:\n  Fn: \ufffd\ufffd caf\u00e9\n"
    assert read_lenient(str(tmp_path / "missing.yaml")) is None
    assert read_lenient(str(tmp_path)) is None  # a folder: unreadable, not an exception
