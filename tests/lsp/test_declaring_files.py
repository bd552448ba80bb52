"""One list of declaring files (`project/walk.py`): the server's watchers are made from it, and
the VS Code client's document selector (client/src/server.ts) and activation events
(package.json) must say the same; the globs and `config_kind`'s rules agree on file names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from handlerlens.deploy import manifest
from handlerlens.lsp.features.documents import WATCHED_GLOBS
from handlerlens.project import walk

REPO = Path(__file__).resolve().parents[2]

# Names a workspace holds: declaring ones of every kind, and others.
NAMES = (
    "pyproject.toml",
    "serverless.yml",
    "serverless.yaml",
    "main.tf",
    "template.yaml",
    "template.yml",
    "sam.json",
    "stack.template",
    "ci.yml",
    "deploy.sh",
    "deploy.bash",
    "rules.mk",
    "Makefile",
    "makefile",
    "GNUmakefile",
    "package.json",
    "tsconfig.json",
    "vars.tfvars",
    "code.zip",
    "main.py",
    "README.md",
    "setup.cfg",
    "poetry.toml",
    "Dockerfile",
    "requirements.txt",
    "serverless.ts",
)


def glob_regex(glob: str) -> re.Pattern[str]:
    """A VS Code / LSP glob (`**/`, `*`, `?`, `{a,b}`) as a regex over a `/`-separated path."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        elif glob[i] == "{":
            end = glob.index("}", i)
            out += "(?:" + "|".join(map(re.escape, glob[i + 1 : end].split(","))) + ")"
            i = end + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r"\Z")


def matches(globs: tuple[str, ...], path: str) -> bool:
    return any(glob_regex(g).match(path) for g in globs)


def test_the_glob_reader() -> None:
    assert glob_regex("**/serverless.{yml,yaml}").match("a/b/serverless.yaml")
    assert glob_regex("**/serverless.{yml,yaml}").match("serverless.yml")
    assert not glob_regex("**/serverless.{yml,yaml}").match("serverless.yml.bak")
    assert glob_regex("pyproject.toml").match("pyproject.toml")
    assert not glob_regex("pyproject.toml").match("svc/pyproject.toml")
    assert not glob_regex("**/*.tf").match("main.tfvars")


@pytest.mark.parametrize("folder", ["", "svc/a/"])
def test_the_declaring_globs_cover_exactly_what_the_walk_reads(folder: str) -> None:
    for name in NAMES:
        by_glob = matches(walk.DECLARING_GLOBS, folder + name)
        by_name = walk.may_be_config_file(folder + name)
        # JSON that is never a template is matched by the glob (a watcher cannot exclude it)
        # and skipped by name.
        assert by_glob == (by_name or name in walk.NOT_TEMPLATES), name


def test_the_editor_globs_are_declaring_files_by_name() -> None:
    for name in NAMES:
        if matches(walk.EDITOR_GLOBS, name):
            assert matches(walk.DECLARING_GLOBS, name), name
            assert walk.may_be_config_file(name), name
    for kind_by_name in ("pyproject.toml", "serverless.yml", "main.tf"):
        assert matches(walk.EDITOR_GLOBS, kind_by_name)
        assert walk.config_kind(kind_by_name, "") is not None


def test_the_server_watches_python_every_declaring_file_and_what_declarations_read() -> None:
    assert WATCHED_GLOBS == (
        "**/*.py",
        *walk.DECLARING_GLOBS,
        *(f"**/*{s}" for s in walk.DECLARATION_INPUT_SUFFIXES),
        *manifest.WATCH_GLOBS,
    )
    for name in (
        "main.py",
        "vars.tfvars",
        "code.zip",
        "stack.template",
        "GNUmakefile",
        "requirements.txt",
        "requirements-dev.txt",
        "Pipfile",
    ):
        assert matches(WATCHED_GLOBS, f"svc/{name}"), name


def test_the_client_document_selector_is_the_editor_list() -> None:
    text = (REPO / "client" / "src" / "server.ts").read_text()
    selector = re.search(r"export const DOCUMENT_SELECTOR = \[(.*?)\];", text, re.S)
    assert selector, "DOCUMENT_SELECTOR not found in client/src/server.ts"
    patterns = re.findall(r'pattern: "([^"]+)"', selector.group(1))
    languages = re.findall(r'language: "([^"]+)"', selector.group(1))
    assert languages == ["python"]
    assert patterns == list(walk.EDITOR_GLOBS)


def test_package_json_activates_on_the_activation_list() -> None:
    package = json.loads((REPO / "package.json").read_text())
    contains = [
        e.removeprefix("workspaceContains:")
        for e in package["activationEvents"]
        if e.startswith("workspaceContains:")
    ]
    assert contains == list(walk.ACTIVATION_GLOBS)
