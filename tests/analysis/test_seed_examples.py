"""The platforms' own handler examples (../shared/seeds) validate clean, as declared there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlerlens.analysis.sources import Sources
from handlerlens.analysis.validate import validate_function
from handlerlens.project.model import FunctionSpec

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
PLATFORM = {
    "000_d6e036320a397fe2.txt": "yandex",
    "001_075b1b2610497e52.txt": "yandex",
    "003_040736b3d8333428.txt": "yandex",
    "004_1bd1e629b159d367.txt": "aws",
}


def _examples() -> list[tuple[str, str, str, str]]:
    cases = []
    for name, platform in PLATFORM.items():
        text = (SEEDS / name).read_text()
        for i, block in enumerate(re.findall(r"```(?:python|py)?\n(.*?)```", text, re.S)):
            found = re.search(r"^def (\w+)\(", block, re.M)
            if found and "..." not in block:
                cases.append((f"{name}#{i}", platform, block, found.group(1)))
    return cases


EXAMPLES = _examples()


def test_the_seeds_hold_handler_examples() -> None:
    assert len(EXAMPLES) >= 5, "the seeds' handler examples were not found"


@pytest.mark.parametrize(
    ("case", "platform", "source", "function"), EXAMPLES, ids=[c[0] for c in EXAMPLES]
)
def test_seed_example_validates_clean(
    tmp_path: Path, case: str, platform: str, source: str, function: str
) -> None:
    path = tmp_path / "main.py"
    path.write_text(source)
    spec = FunctionSpec(
        name="seed",
        platform=platform,
        entry=f"main.{function}",  # type: ignore[arg-type]
        root=str(tmp_path),
        declared_by="pyproject",
    )
    report = validate_function(spec, Sources())
    assert report.binding is not None and report.binding.name == function
    assert report.problems == []
