"""The quiet heuristic: handler-shaped functions in likely files, and nothing else."""

from __future__ import annotations

import os

import pytest

from handlerlens.project import discover, heuristic_functions
from tests.project.conftest import fixture

ROOT = "/w"


def _entries(source: str, name: str = "main.py", directory: str = ROOT) -> list[str]:
    path = os.path.join(directory, name)
    return [spec.entry for spec in heuristic_functions(path, source, ROOT, "yandex")]


@pytest.mark.parametrize(
    ("source", "entries"),
    [
        ("def handler(event, context): pass\n", ["main.handler"]),
        ("async def handler(event, context): pass\n", ["main.handler"]),
        ("def anything(evt, ctx): pass\n", ["main.anything"]),
        ("def h(_event, _context): pass\n", ["main.h"]),
        ("def h(request, _): pass\n", ["main.h"]),
        ("def h(e, ctx=None): pass\n", ["main.h"]),
        ("def h(e, c): pass\n", []),  # too vague a name to call it a context
        ("def h(http_event, lambda_context): pass\n", ["main.h"]),
        ("def h(event, context, /): pass\n", ["main.h"]),
        ("def h(event, context, *, debug=False): pass\n", ["main.h"]),
        ("def h(event, context, *, debug): pass\n", []),
        ("def h(event, context, extra): pass\n", []),
        ("def h(event, *args): pass\n", []),
        ("def h(self, event, context): pass\n", []),
        ("def h(a, b): pass\n", []),
        ("class C:\n    def handler(self, event, context): pass\n", []),
        ("if True:\n    def handler(event, context): pass\n", []),
        ("handler = lambda event, context: None\n", []),
    ],
)
def test_entry_files_offer_their_handler_shaped_top_level_functions(
    source: str, entries: list[str]
) -> None:
    assert _entries(source) == entries


@pytest.mark.parametrize(
    ("source", "entries"),
    [
        ("def handler(event, context): pass\n", ["tool.handler"]),
        ("def lambda_handler(event, context): pass\n", ["tool.lambda_handler"]),
        ("def on_upload_handler(event, context): pass\n", ["tool.on_upload_handler"]),
        ("def process(event, context): pass\n", []),
    ],
)
def test_other_files_offer_only_functions_named_like_handlers(
    source: str, entries: list[str]
) -> None:
    assert _entries(source, name="tool.py") == entries


@pytest.mark.parametrize(
    ("name", "directory"),
    [
        ("test_main.py", ROOT),
        ("main_test.py", ROOT),
        ("conftest.py", ROOT),
        ("main.py", "/w/tests"),
        ("main.py", "/w/pkg/test"),
    ],
)
def test_test_files_are_never_guessed_from(name: str, directory: str) -> None:
    assert _entries("def handler(event, context): pass\n", name, directory) == []


def test_a_workspace_that_lives_under_a_tests_directory_is_still_guessed_in() -> None:
    (spec,) = heuristic_functions(
        "/repo/tests/fixtures/p/main.py",
        "def handler(event, context): pass\n",
        "/repo/tests/fixtures/p",
        "aws",
    )
    assert (spec.name, spec.platform, spec.root) == (
        "main.handler",
        "aws",
        "/repo/tests/fixtures/p",
    )


@pytest.mark.parametrize(
    "source",
    [
        "def handler(event, context)\n    pass\n",  # syntax error
        "def handler(event, context): pass\n\x00\x01binary",
        "def handler(event, context): pass\n" + "#" * 600_000,  # too big to be a handler file
        "x = '\\d'\ndef handler(event, context) pass\n",
        "",
    ],
)
def test_unparseable_binary_or_huge_text_gives_nothing(source: str) -> None:
    assert _entries(source) == []


def test_invalid_escapes_do_not_warn() -> None:
    # pytest turns warnings into errors here, so a leaked SyntaxWarning would fail this.
    assert _entries("PATTERN = '\\d+'\ndef handler(event, context): pass\n") == ["main.handler"]


def test_guessed_functions_are_named_by_directory_and_rooted_at_their_file() -> None:
    (spec,) = heuristic_functions(
        "/w/api/v1/index.py", "def handler(event, context): pass\n", ROOT, "yandex"
    )
    assert (spec.name, spec.entry, spec.root, spec.declared_by) == (
        "api/v1/index.handler",
        "index.handler",
        "/w/api/v1",
        "heuristic",
    )
    assert (spec.declared_in, spec.entry_span, spec.trigger) == (None, None, None)


def test_a_workspace_with_no_declarations_lists_its_guesses() -> None:
    root = fixture("heuristic-yandex")
    model = discover(root)
    assert [(f.name, f.platform, os.path.relpath(f.root, root)) for f in model.functions] == [
        ("main.handler", "yandex", "."),
        ("main.render", "yandex", "."),
        ("api/index.handler", "yandex", "api"),
        ("scripts/tool.on_upload_handler", "yandex", "scripts"),
    ]
    assert (model.problems, model.config_files) == ([], [])


def test_guesses_follow_the_platform_setting() -> None:
    model = discover(fixture("heuristic-yandex"), platform_setting="aws")
    assert {f.platform for f in model.functions} == {"aws"}


def test_guesses_follow_a_pyproject_that_names_only_the_platform() -> None:
    model = discover(fixture("heuristic-aws"), platform_setting="yandex")
    assert [(f.name, f.platform) for f in model.functions] == [
        ("lambda_function.lambda_handler", "aws")
    ]


def test_nothing_is_guessed_where_something_is_declared() -> None:
    model = discover(fixture("sam-aws"))
    assert all(f.declared_by == "sam" for f in model.functions)
