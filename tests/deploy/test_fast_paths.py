"""The deploy checks' cheaper ways to the same answers: each fast path against the plain
computation it replaced, on drawn texts (hypothesis) and on the cases that tell them apart."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlerlens.deploy.reading import ENV_OPAQUE, Declaring
from handlerlens.deploy.scan import FileScan

# Texts made of the pieces the patterns look for, with separators, case changes and the
# characters that sit at a word's edge.
PIECES = st.sampled_from(
    [
        "Environment",
        "environment",
        "ENVIRONMENT",
        "Variables",
        "variables",
        '"Variables"',
        "${",
        "${file(",
        "var",
        "local",
        "merge",
        "jsondecode",
        "Fn::",
        "Ref",
        "Fn::Transform",
        "env_file",
        "dotenv",
        "DOTENV",
        "TABLE",
        "TABLE_NAME",
        "MY-TABLE",
        "é",
        "K",  # the Kelvin sign: IGNORECASE folds it to k
        "ſ",  # long s: folds to s
        ":",
        "=",
        "!",
        "{",
        '"',
        " ",
        "\n",
        "\t",
        "-",
        "_",
        ".",
    ]
)
TEXTS = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_env_opaque_matches_the_case_insensitive_pattern(text: str) -> None:
    assert Declaring(text).env_opaque == (ENV_OPAQUE.search(text) is not None)


def test_env_opaque_on_known_declarations() -> None:
    assert Declaring("Environment: ${file(env.yml)}").env_opaque
    assert Declaring("  environment:   ${self:custom.env}").env_opaque
    assert Declaring("variables = merge(local.a, var.b)").env_opaque
    assert Declaring('"Variables": { "Fn::If": [] }').env_opaque
    assert Declaring("uses DOTENV files\n").env_opaque
    assert Declaring("Environment: ${file(é.yml)}").env_opaque  # not ASCII: the slow way
    assert not Declaring("Environment:\n  Variables:\n    TABLE: x\n").env_opaque
    assert not Declaring("").env_opaque


def test_the_lowercased_pattern_has_no_escape_that_lowering_changes() -> None:
    # `\S` lowered is `\s`: the case-sensitive copy is derived by lowering the pattern.
    assert re.search(r"\\[A-Z]", ENV_OPAQUE.pattern) is None


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[\w-]+", text))


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.sampled_from(["TABLE", "TABLE_NAME", "MY-TABLE", "var", "é", "", "A.B", "-"]))
def test_has_word_is_membership_in_the_texts_words(text: str, name: str) -> None:
    assert Declaring(text).has_word(name) == (name in _words(text))


def test_has_word_at_the_edges() -> None:
    text = "TABLE_NAME: x\nMY-TABLE: y\nTABLE"
    declaring = Declaring(text)
    assert declaring.has_word("TABLE")  # the last word, at the end of the text
    assert declaring.has_word("TABLE_NAME") and declaring.has_word("MY-TABLE")
    assert not declaring.has_word("NAME") and not declaring.has_word("MY")
    assert Declaring("TABLE").has_word("TABLE")
    assert not Declaring("éTABLE").has_word("TABLE")
    assert not Declaring("x").has_word("")


HANDLER = """\
import json
import os
from os import environ as env_map

import boto3

try:
    import ujson
except ImportError:
    ujson = None

TABLE = os.environ["TABLE"]


@decorated
def handler(event, context):
    from helpers import render
    if "MODE" in os.environ:
        mode = os.environ["MODE"]
    name = os.getenv("NAME").upper()
    return render(event, int(os.getenv("COUNT")))


class Repo:
    def get(self):
        import importlib
        return importlib.import_module(env_map.get("X", "y"))
"""


def _fresh_scan(text: str) -> FileScan:
    from handlerlens.deploy import scan

    scan._chunks.clear()
    scan._files.clear()
    return scan.scan_file("/nowhere/app.py", text)


def test_a_scan_on_the_trees_validation_parsed_is_the_scan_of_its_own_parses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ast

    from handlerlens.core import python_module
    from handlerlens.core.text import LineIndex

    python_module._chunks.clear()
    python_module._trees.clear()
    alone = _fresh_scan(HANDLER)
    python_module.parse_module(HANDLER)
    lines = LineIndex(HANDLER).lines
    chunks = ["\n".join(lines[a:b]) + "\n" for a, b in python_module.chunk_bounds(HANDLER, lines)]
    assert all(python_module.chunk_tree(chunk) is not None for chunk in chunks)

    def no_parse(*args: object, **kwargs: object) -> ast.Module:
        raise AssertionError("parsed again")

    monkeypatch.setattr(ast, "parse", no_parse)
    shared = _fresh_scan(HANDLER)
    monkeypatch.undo()
    assert shared == alone
    modules = [r.module for r in shared.imports]
    assert modules == ["json", "os", "os", "boto3", "ujson", "helpers", "importlib"]
    assert {r.name for r in shared.env_reads} == {"TABLE", "MODE", "NAME", "COUNT"}
    assert shared.env_guarded == {"MODE"} and shared.dynamic_import


# Statements with and without imports and environment reads, nested the ways the scan cares
# about (decorators on the lines before their `def`, try/except ImportError, TYPE_CHECKING,
# KeyError guards, words inside strings), joined into modules by hypothesis.
STATEMENTS = [
    "import os",
    "import os as o2",
    "from os import environ as env_map, getenv",
    "from . import sibling",
    "x = 1",
    '"""The important imports are documented here; environ too."""',
    "@decorate(os.environ['DECORATED'])\ndef decorated(event, context):\n    return 1",
    "@decorate\n@other(\n    o2.getenv('LATE').strip(),\n)\nclass Late:\n    pass",
    "def handler(event, context):\n    a = 1\n    b = [a for _ in range(3)]\n"
    "    if b:\n        name = os.environ['NAME']\n    c = {'k': a}\n    return c",
    "def plain(event, context):\n    total = 0\n    for i in range(10):\n"
    "        total += i\n    return total",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json",
    "try:\n    value = os.environ['GUARDED']\nexcept KeyError:\n    value = None",
    "if TYPE_CHECKING:\n    from typing import Any",
    "if 'FLAG' in os.environ:\n    flag = os.environ['FLAG']",
    "class Repo:\n    def get(self):\n        import importlib\n"
    "        return importlib.import_module(env_map['MOD'])\n\n    def put(self):\n        pass",
    "def helper():\n    return int(getenv('COUNT'))",
    "def with_form_feed():\n    \f\n    return os.environ['FF']",
    "async def later():\n    async with x:\n        await y(os.getenv('A').upper())",
    "match x:\n    case 1:\n        import inside_match",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=8))
def test_skipping_statements_without_the_words_changes_no_scan(
    statements: list[str],
) -> None:
    from handlerlens.deploy import scan_visitor

    text = "\n\n".join(statements) + "\n"
    pruned = _fresh_scan(text)
    original = scan_visitor.OTHER_BREAKS
    try:
        scan_visitor.OTHER_BREAKS = re.compile("")  # matches any text: nothing is skipped
        whole = _fresh_scan(text)
    finally:
        scan_visitor.OTHER_BREAKS = original
    assert pruned == whole
    if "DECORATED" in text:
        assert "DECORATED" in {r.name for r in pruned.env_reads}


def test_the_event_facts_of_a_handler_use_the_tree_validation_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ast

    from handlerlens.analysis.events.repair import parse_function
    from handlerlens.core import python_module

    function = (
        "def handler(event, context):\n"
        "    for record in event['Records']:\n"
        "        body = record['body']\n"
        "    return {'statusCode': 200, 'body': context.aws_request_id}"
    )
    python_module._chunks.clear()
    python_module._trees.clear()
    alone = parse_function(function, "handler", exact=True)
    python_module.parse_module("import os\n" + function + "\nx = 1\n")
    monkeypatch.setattr(ast, "parse", lambda *a, **k: pytest.fail("parsed again"))
    assert parse_function(function, "handler", exact=True) == alone
    assert alone is not None and not isinstance(alone, SyntaxError)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "def ",
                "DEF ",
                "handler",
                "(",
                "event",
                "Event",
                "_event",
                "my_EVENT",
                "req",
                "e",
                "ctx",
                ",",
                ")",
                " ",
                "\n",
                "_",
                "é",
                "K",
                "x",
                ":",
                "yandex",
                "cloud.yandex.",
                "api.cloud.yandex.net",
                "yandexcloud.net",
                "CLOUD.YANDEX.",
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_discovery_prefilters_answer_as_their_patterns(text: str) -> None:
    from handlerlens.project import discovery_reads, platform_evidence

    assert discovery_reads.may_hold_handler(text) == (
        discovery_reads._MAY_HOLD_HANDLER.search(text) is not None
    )
    yandex = platform_evidence._YANDEX_HOSTS
    assert ("yandex" in text and yandex.search(text) is not None) == (
        yandex.search(text) is not None
    )
