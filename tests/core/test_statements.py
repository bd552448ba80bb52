"""core.statements: the one split of a module into top-level statements, without parsing.

Validation (`parse_module`, statement by statement) and the event features (`events.flow`,
function by function) each had their own split; they share this one now.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlerlens.analysis.events.flow import EventDocument
from handlerlens.core.python_module import parse_module
from handlerlens.core.statements import resplit, split, starts_statement, statement_starts
from handlerlens.core.text import split_lines

MODULE = (
    "import os\n"  # 0
    "\n"
    "@decorator\n"  # 2
    "def handler(event, context):\n"  # 3
    "    return {\n"
    "}\n"  # a closing bracket at column 0 continues
    "# a comment\n"
    "try:\n"  # 7
    "    import json\n"
    "except ImportError:\n"  # a clause of the statement above
    "    json = None\n"
    "else:\n"
    "    pass\n"
    "finally:\n"
    "    pass\n"
    "elsewhere = 1\n"  # 15: a name that begins like a clause
    "\t# indented by a tab\n"
)


def test_statement_starts() -> None:
    lines = split_lines(MODULE)
    assert statement_starts(MODULE, lines) == [0, 2, 3, 7, 15]
    crlf = MODULE.replace("\n", "\r\n")
    assert statement_starts(crlf, split_lines(crlf)) == [0, 2, 3, 7, 15]


@pytest.mark.parametrize(
    ("text", "starts"),
    [("", []), ("\n", []), ("\n\n", []), ("    x\n", []), ("x", [0]), ("x\n\ny", [0, 2])],
)
def test_statement_starts_at_the_edges(text: str, starts: list[int]) -> None:
    assert statement_starts(text, split_lines(text)) == starts


LINE = st.sampled_from(
    [
        "x = 1",
        "",
        " ",
        "\tpass",
        "# c",
        ")",
        "]",
        "}",
        "else:",
        "elif x:",
        "except E:",
        "finally:",
        "elsewhere = 1",
        "exceptional()",
        "@d",
        "def f():",
        "class C:",
        "\f",
        "é",
    ]
)
BREAK = st.sampled_from(["\n", "\r\n", "\r"])


@given(st.lists(st.tuples(LINE, BREAK), max_size=12), st.sampled_from(["", "\n"]))
def test_the_fast_path_agrees_with_the_rule(rows: list[tuple[str, str]], end: str) -> None:
    text = "".join(line + br for line, br in rows) + end
    lines = split_lines(text)
    by_rule = [i for i, line in enumerate(lines) if starts_statement(line)]
    assert statement_starts(text, lines) == by_rule
    unix = text.replace("\r\n", "\n").replace("\r", "\n")
    assert statement_starts(unix, split_lines(unix)) == by_rule


def test_validation_and_the_event_features_split_alike() -> None:
    doc = EventDocument(MODULE)
    assert doc.starts == statement_starts(MODULE, split_lines(MODULE))
    assert doc.defs == {"handler": 3}
    info = parse_module(MODULE)
    assert {"os", "handler", "json", "elsewhere"} <= set(info.bindings)
    assert info.syntax_error is None


@given(
    st.lists(LINE, max_size=10).map("\n".join),
    st.lists(LINE, max_size=3).map("\n".join),
    st.integers(0, 60),
    st.integers(0, 8),
)
def test_resplit_after_an_edit_is_split_from_scratch(
    old: str, inserted: str, at: int, removed: int
) -> None:
    at = min(at, len(old))
    new = old[:at] + inserted + old[at + removed :]
    lines, starts = split(old)
    again = resplit(old, lines, starts, new)
    assert again is not None  # \n breaks only: it never has to give up
    assert again == split(new)
