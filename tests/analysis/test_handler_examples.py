"""Handler examples of the platforms' documented shapes (tests/fixtures/handlers) validate clean.

The folder names the platform; the first top-level `def` or `async def` in each module is its
entry point. The examples are the repository's own, so a clone tests itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.engine.validate import validate_function

HANDLERS = Path(__file__).resolve().parents[1] / "fixtures" / "handlers"
PLATFORMS = ("yandex", "aws")


def _examples() -> list[tuple[str, str, Path, str]]:
    cases = []
    for platform in PLATFORMS:
        for path in sorted((HANDLERS / platform).glob("*.py")):
            found = re.search(r"^(?:async )?def (\w+)\(", path.read_text(), re.M)
            assert found, f"{path} has no top-level handler"
            cases.append((f"{platform}/{path.name}", platform, path, found.group(1)))
    return cases


EXAMPLES = _examples()


def test_the_fixtures_hold_handler_examples() -> None:
    counts = {p: sum(1 for c in EXAMPLES if c[1] == p) for p in PLATFORMS}
    assert counts["yandex"] >= 5 and counts["aws"] >= 4, counts
    sources = {c[2].name: c[2].read_text() for c in EXAMPLES}
    # The shapes that matter: an async Yandex handler, Lambda's console default, an HTTP reply.
    assert "async def handler" in sources["async_greeting.py"]
    assert "def lambda_handler(" in sources["lambda_function.py"]
    assert sum('"statusCode": 200' in s for s in sources.values()) >= 4


@pytest.mark.parametrize(
    ("case", "platform", "path", "function"), EXAMPLES, ids=[c[0] for c in EXAMPLES]
)
def test_handler_example_validates_clean(
    case: str, platform: str, path: Path, function: str
) -> None:
    spec = FunctionSpec(
        name=path.stem,
        platform=platform,  # type: ignore[arg-type]
        entry=f"{path.stem}.{function}",
        root=str(path.parent),
        declared_by="pyproject",
    )
    report = validate_function(spec, Sources())
    assert report.binding is not None and report.binding.name == function
    assert report.problems == []


def test_an_async_handler_is_an_error_on_aws_only() -> None:
    """The async example is clean on Yandex because of the platform, not by accident."""
    path = HANDLERS / "yandex" / "async_greeting.py"
    spec = FunctionSpec(
        name="async",
        platform="aws",
        entry="async_greeting.handler",
        root=str(path.parent),
        declared_by="pyproject",
    )
    report = validate_function(spec, Sources())
    assert [p.code for p in report.problems] == ["handler-async-unsupported"]
