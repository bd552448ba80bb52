"""No text, however broken, makes a reader raise: it parses, or says where it could not."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlerlens.core.problems import Problem
from handlerlens.core.text import LineIndex
from handlerlens.project import discover, heuristic_functions, parse_config_file
from handlerlens.project.pyproject_config import parse_pyproject
from handlerlens.project.sam_template import parse_template
from handlerlens.project.serverless_config import parse_serverless
from handlerlens.project.terraform_config import parse_terraform
from handlerlens.project.toml_locator import locate
from tests.project.conftest import FIXTURES

# The readers are called directly, without parse_config_file's safety net, so a bug
# raises here instead of being swallowed.
READERS = {
    "pyproject.toml": lambda p, t: parse_pyproject(p, t),
    "template.yaml": parse_template,
    "template.json": parse_template,
    "serverless.yml": parse_serverless,
    "main.tf": parse_terraform,
}
GLOBS = {
    "pyproject.toml": ["pyproject.toml"],
    "template.yaml": ["template.y*ml", "stack.yaml"],
    "template.json": ["*.json"],
    "serverless.yml": ["serverless.yml"],
    "main.tf": ["*.tf"],
}
SAMPLES = {
    name: [p.read_text(encoding="utf-8") for g in globs for p in sorted(FIXTURES.rglob(g))]
    for name, globs in GLOBS.items()
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(name: str, text: str) -> None:
    path = f"/w/{name}"
    specs, problems = READERS[name](path, text)
    assert all(isinstance(p, Problem) for p in problems)
    parse_errors = [p for p in problems if p.code == "config-parse-error"]
    assert len(parse_errors) <= 1
    if parse_errors:
        assert specs == []
    lines = LineIndex(text)
    end = lines.position(len(text))
    for problem in problems:
        assert problem.span.start <= problem.span.end <= end
    for spec in specs:
        assert spec.entry and spec.root.startswith("/")


def _mutated(name: str) -> st.SearchStrategy[str]:
    """A real declaring file with a slice replaced by arbitrary text."""
    return st.builds(
        lambda text, at, cut, insert: text[:at] + insert + text[at + cut :],
        st.sampled_from(SAMPLES[name]),
        st.integers(0, 4000),
        st.integers(0, 40),
        st.text(max_size=20),
    )


@FUZZ
@given(name=st.sampled_from(sorted(READERS)), text=st.text(max_size=400))
def test_random_text_never_raises(name: str, text: str) -> None:
    _check(name, text)


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(READERS)))
def test_damaged_real_files_never_raise(data: st.DataObject, name: str) -> None:
    _check(name, data.draw(_mutated(name)))


@FUZZ
@given(text=st.text(max_size=400))
def test_random_text_is_never_fatal_to_the_locator_or_the_heuristic(text: str) -> None:
    locate(text)
    heuristic_functions("/w/main.py", text, "/w", "yandex")
    heuristic_functions("/w/main.py", "def handler(event, context):\n" + text, "/w", "aws")
    assert parse_config_file("/w/serverless.yml", text) is not None


@FUZZ
@given(
    text=st.text(alphabet=st.sampled_from(list("[]{}\"'=.,#\n\\ atoolhandlerlens")), max_size=200)
)
def test_toml_shaped_noise_never_raises(text: str) -> None:
    _check("pyproject.toml", "[tool.handlerlens]\n" + text)


def test_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    for name, text in [
        ("template.yaml", "AWSTemplateFormatVersion: x\nR: " + "[" * 5000),
        ("serverless.yml", "a: " + "{a: " * 5000),
        ("pyproject.toml", "[tool.handlerlens]\nentry = " + "[" * 5000),
        ("main.tf", "a = " + "[" * 5000),
    ]:
        _check(name, text)


def test_discovery_survives_a_workspace_of_damaged_files(tmp_path: Path) -> None:
    count = 0
    for name, samples in SAMPLES.items():
        for text in samples:
            count += 1
            folder = tmp_path / str(count)
            folder.mkdir()
            middle = len(text) // 2
            (folder / name).write_text(text[:middle] + "\x7f{[\"'" + text[middle:])
    model = discover(str(tmp_path))
    assert len(model.config_files) == count
    assert {p.path for p in model.problems} <= set(model.config_files)
    assert any(p.code == "config-parse-error" for p in model.problems)
