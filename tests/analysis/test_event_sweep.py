"""Bad input: completion, hover and checks never raise, at any offset of any text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlerlens.analysis.events.checks import check_events
from handlerlens.analysis.events.completion import CompletionResult, complete
from handlerlens.analysis.events.flow import HandlerContext
from handlerlens.analysis.events.hover import HoverResult, hover
from handlerlens.core.text import split_lines

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "completion").glob("*.py"))
HANDLERS = {
    "yandex": [HandlerContext("handler", "yandex"), HandlerContext("lambda_handler", "yandex")],
    "aws": [HandlerContext("handler", "aws", "s3"), HandlerContext("lambda_handler", "aws")],
}


def _positions(text: str) -> list[tuple[int, int, int]]:
    """(line, column, the column clamped to the line), past the end of each line too."""
    out: list[tuple[int, int, int]] = []
    for row, line in enumerate(split_lines(text)):
        units = len(line.encode("utf-16-le")) // 2
        out.extend((row, col, min(col, units)) for col in range(units + 2))
    return out


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("platform", ["yandex", "aws"])
def test_every_offset_of_every_fixture(path: Path, platform: str) -> None:
    text = path.read_text(encoding="utf-8")
    handlers = HANDLERS[platform]
    offered = 0
    for row, col, clamped in _positions(text):
        result = complete(text, row, col, handlers)
        assert result is None or isinstance(result, CompletionResult)
        if result is not None:
            offered += 1
            assert result.items
            for item in result.items:
                assert item.range.start.line == item.range.end.line == row
                assert item.range.start.character <= clamped <= item.range.end.character
        tip = hover(text, row, col, handlers)
        assert tip is None or (isinstance(tip, HoverResult) and tip.markdown)
    assert isinstance(check_events(str(path), text, handlers), list)
    if path.name == "not_a_handler.py":
        assert offered == 0


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_prefix_of_every_fixture_as_if_typed(path: Path) -> None:
    """The file cut at each offset, cursor at the end: the state while typing it."""
    text = path.read_text(encoding="utf-8")
    for cut in range(0, len(text) + 1, 3):
        head = text[:cut]
        lines = split_lines(head)
        col = len(lines[-1].encode("utf-16-le")) // 2
        for platform in ("yandex", "aws"):
            result = complete(head, len(lines) - 1, col, HANDLERS[platform])
            assert result is None or result.items
            hover(head, len(lines) - 1, max(0, col - 1), HANDLERS[platform])


_TOKENS = st.sampled_from(
    [
        "def handler(event, context):\n",
        "def helper(e):\n",
        "    ",
        "\n",
        "\r\n",
        "\r",
        "event",
        "context",
        "rc",
        " = ",
        "[",
        "]",
        "'",
        '"',
        "'''",
        ".get(",
        ")",
        "(",
        ".",
        ":",
        "for r in ",
        "requestContext",
        "Records",
        "httpMethod",
        "memory_limit_in_mb",
        " > 1",
        "#",
        "𝔀",
        "ключ",
        "\\",
        "0",
        "helper(event)",
        "\t",
        "\x00",
        "\ufeff",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_TOKENS, max_size=40),
    row=st.integers(-2, 30),
    col=st.integers(-2, 200),
    platform=st.sampled_from(["yandex", "aws"]),
)
def test_random_text_never_raises(parts: list[str], row: int, col: int, platform: str) -> None:
    text = "".join(parts)
    handlers = [HandlerContext("handler", platform), HandlerContext("helper", platform, "http")]
    result = complete(text, row, col, handlers)
    assert result is None or result.items
    tip = hover(text, row, col, handlers)
    assert tip is None or tip.markdown
    for problem in check_events("x.py", text, handlers):
        assert problem.code in {
            "event-key-unknown",
            "context-attribute-unknown",
            "context-memory-type",
        }


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), row=st.integers(0, 10), col=st.integers(0, 80))
def test_arbitrary_unicode_never_raises(text: str, row: int, col: int) -> None:
    handlers = [HandlerContext("handler", "aws")]
    complete(text, row, col, handlers)
    hover(text, row, col, handlers)
    check_events("x.py", text, handlers)
