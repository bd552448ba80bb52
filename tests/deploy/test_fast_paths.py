"""The deploy checks' cheaper ways to the same answers: each fast path against the plain
computation it replaced, on drawn texts (hypothesis) and on the cases that tell them apart."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from handlerlens.deploy.checks import _ENV_OPAQUE, _Declaring

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
    assert _Declaring(text).env_opaque == (_ENV_OPAQUE.search(text) is not None)


def test_env_opaque_on_known_declarations() -> None:
    assert _Declaring("Environment: ${file(env.yml)}").env_opaque
    assert _Declaring("  environment:   ${self:custom.env}").env_opaque
    assert _Declaring("variables = merge(local.a, var.b)").env_opaque
    assert _Declaring('"Variables": { "Fn::If": [] }').env_opaque
    assert _Declaring("uses DOTENV files\n").env_opaque
    assert _Declaring("Environment: ${file(é.yml)}").env_opaque  # not ASCII: the slow way
    assert not _Declaring("Environment:\n  Variables:\n    TABLE: x\n").env_opaque
    assert not _Declaring("").env_opaque


def test_the_lowercased_pattern_has_no_escape_that_lowering_changes() -> None:
    # `\S` lowered is `\s`: the case-sensitive copy is derived by lowering the pattern.
    assert re.search(r"\\[A-Z]", _ENV_OPAQUE.pattern) is None


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[\w-]+", text))


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.sampled_from(["TABLE", "TABLE_NAME", "MY-TABLE", "var", "é", "", "A.B", "-"]))
def test_has_word_is_membership_in_the_texts_words(text: str, name: str) -> None:
    assert _Declaring(text).has_word(name) == (name in _words(text))


def test_has_word_at_the_edges() -> None:
    text = "TABLE_NAME: x\nMY-TABLE: y\nTABLE"
    declaring = _Declaring(text)
    assert declaring.has_word("TABLE")  # the last word, at the end of the text
    assert declaring.has_word("TABLE_NAME") and declaring.has_word("MY-TABLE")
    assert not declaring.has_word("NAME") and not declaring.has_word("MY")
    assert _Declaring("TABLE").has_word("TABLE")
    assert not _Declaring("éTABLE").has_word("TABLE")
    assert not _Declaring("x").has_word("")
