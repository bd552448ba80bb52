"""Any text, however broken, yields problems or nothing: never an exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.python_module import parse_module
from handlerlens.engine.validate import validate_function

FRAGMENTS = st.sampled_from(
    [
        "def handler(event, context):\n",
        "async def handler(",
        "    return {'statusCode': '200', 'body': {1}}\n",
        "handler = ",
        "lambda e:",
        "@decorator\n",
        "class handler:\n",
        "from x import *\n",
        "    yield\n",
        "((((((",
        "'\\xff'",
        "\x00",
        "😀",
        "\t",
        "\n",
    ]
)
TEXTS = st.one_of(st.text(max_size=400), st.lists(FRAGMENTS, max_size=30).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, platform=st.sampled_from(["yandex", "aws"]))
def test_validation_never_raises(text: str, platform: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        path = str(Path(root) / "main.py")
        sources = Sources({path: text})
        spec = FunctionSpec(
            name="f",
            platform=platform,
            entry="main.handler",
            root=root,  # type: ignore[arg-type]
            declared_by="heuristic",
        )
        report = validate_function(spec, sources)
        for problem in report.problems:
            assert problem.code
            assert problem.span.start <= problem.span.end


def test_deep_nesting_and_huge_input_are_reported_not_raised() -> None:
    deep = "x = " + "(" * 5000 + ")" * 5000 + "\n"
    assert parse_module(deep).syntax_error is not None
    big = "def handler(event, context):\n    return 1\n" + "x = 1\n" * 800_000
    info = parse_module(big)
    assert info.syntax_error is None
    assert "handler" in info.bindings
