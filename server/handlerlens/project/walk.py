"""Which files of a workspace declare functions (by name, and a template by its head) and
the bounded walk that finds them.

Standard library only and nothing else of the project model, so `handlerlens invoke` can
learn that a folder declares nothing without loading the parsers or the model's classes.
"""

from __future__ import annotations

import os
from collections import deque

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Literal

    ConfigKind = Literal["pyproject", "sam", "serverless", "terraform", "yc-cli"]

SKIP_DIRS = frozenset(
    {
        "node_modules",
        "venv",
        "__pycache__",
        "cdk.out",  # CDK's synthesized templates repeat the app's functions
        "site-packages",
    }
)
MAX_DEPTH = 12
# The walk costs ~20 µs an entry (scandir, sort, classify): 100,000 entries is ~2 s, and a
# tree that big is a monorepo of many projects; the AWS serverless-patterns collection, one of
# the largest public ones, is ~19,700 entries (0.45 s). Past the caps the walk stops and says
# so (`notes`), never silently.
MAX_ENTRIES = 100_000
MAX_PYTHON_FILES = 5_000
MAX_CONFIG_BYTES = 1_000_000

SERVERLESS_NAMES = frozenset({"serverless.yml", "serverless.yaml"})
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
# JSON that is never a template, skipped without reading (common and sometimes large).
NOT_TEMPLATES = frozenset(
    {"package.json", "package-lock.json", "tsconfig.json", "composer.json", "launch.json"}
)
# A SAM template always names its transform, a CloudFormation one its format version or
# a Lambda resource type; text without any of them is some other YAML/JSON.
TEMPLATE_MARKERS = ("AWSTemplateFormatVersion", "AWS::Serverless", "AWS::Lambda::Function")
# Shell scripts and Makefiles (and, among the YAML files, CI pipelines) can deploy a function
# with `yc serverless function version create`; the text decides.
SCRIPT_SUFFIXES = (".sh", ".bash", ".mk")
MAKEFILES = frozenset({"makefile", "gnumakefile"})
YC_DEPLOY_MARKER = "function version create"
# A Yandex API Gateway spec (an OpenAPI 3 document, YAML or JSON, of any name) declares routes
# to functions with this extension; a cheap sniff of the text finds it before any parsing.
GATEWAY_SPEC_MARKER = "x-yc-apigateway-integration"
# Dot-directories that hold CI pipelines: the only ones searched.
CI_DIRS = frozenset({".github"})

# -- the one list of declaring files -----------------------------------------------------------
# Every file that may declare functions, as globs in the syntax LSP and VS Code share (`**/`
# any folders, `{a,b}` either, `*` any part of a name; case-sensitive, as on Linux).
# `config_kind` decides each file by its name and, for templates, scripts and pipelines, by
# its text; the language server watches all of them (`lsp/features/documents.py`).
DECLARING_GLOBS = (
    "**/pyproject.toml",
    "**/serverless.{yml,yaml}",
    "**/*.tf",
    # SAM / CloudFormation templates (TEMPLATE_SUFFIXES); YAML CI pipelines that deploy;
    # Yandex API Gateway specs (`is_gateway_spec`: YAML or JSON)
    "**/*.{yaml,yml,json,template}",
    "**/*.{sh,bash,mk}",  # SCRIPT_SUFFIXES
    "**/{Makefile,makefile,GNUmakefile}",  # MAKEFILES
)
# Files a declaration reads besides its declaring file: Terraform variable values, and the
# archives a function's code is in. A change to one re-reads the declarations too.
DECLARATION_INPUT_SUFFIXES = (".tfvars", ".zip")
# The declaring files whose name alone says they declare: the VS Code client sends these to
# the server as they are edited (its document selector, besides Python: client/src/server.ts).
# Any YAML, JSON or script may declare too, but most do not: those reach the server when saved.
EDITOR_GLOBS = (
    "**/pyproject.toml",
    "**/serverless.{yml,yaml}",
    "**/template.{yml,yaml}",
    "**/*.tf",
)
# A folder holding one of these activates the VS Code extension (package.json,
# `workspaceContains:`): the editor's files, except that only a pyproject.toml at the root
# counts (a nested one is as likely any Python package's).
ACTIVATION_GLOBS = ("pyproject.toml", *EDITOR_GLOBS[1:])


def config_kind(path: str, text: str | None = None) -> ConfigKind | None:
    """The declaring format of a file, or None when it declares no functions."""
    name = os.path.basename(path)
    lower = name.lower()
    if name == "pyproject.toml":
        return "pyproject"
    if lower in SERVERLESS_NAMES:
        return "serverless"
    if lower.endswith(".tf"):
        return "terraform"
    script = lower.endswith(SCRIPT_SUFFIXES) or lower in MAKEFILES
    if not script and (not lower.endswith(TEMPLATE_SUFFIXES) or lower in NOT_TEMPLATES):
        return None
    if text is None:
        text = _read_head(path)
    if not text:
        return None
    if not script and any(marker in text for marker in TEMPLATE_MARKERS):
        return "sam"
    if YC_DEPLOY_MARKER in text and (script or not lower.endswith(".json")):
        return "yc-cli"
    return None


def is_gateway_spec(path: str, text: str | None = None) -> bool:
    """True for a Yandex API Gateway spec: a YAML or JSON file (not a declaring file of
    another kind) whose text names OpenAPI and `x-yc-apigateway-integration`. The sniff
    only: `project.routes` parses it, and says when it is no OpenAPI 3 document after all."""
    lower = os.path.basename(path).lower()
    if not lower.endswith((".yaml", ".yml", ".json")) or lower in NOT_TEMPLATES:
        return False
    if lower in SERVERLESS_NAMES:
        return False
    if text is None:
        text = _read_head(path)
    if not text or GATEWAY_SPEC_MARKER not in text or "openapi" not in text:
        return False
    return not any(marker in text for marker in TEMPLATE_MARKERS)


def _read_head(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_CONFIG_BYTES)
    except OSError:
        return None


def may_be_config_file(path: str) -> bool:
    """True when the name alone allows a declaring file (templates still need their text)."""
    lower = os.path.basename(path).lower()
    return (
        lower == "pyproject.toml"
        or lower in SERVERLESS_NAMES
        or lower.endswith(".tf")
        or (lower.endswith(TEMPLATE_SUFFIXES) and lower not in NOT_TEMPLATES)
        or lower.endswith(SCRIPT_SUFFIXES)
        or lower in MAKEFILES
    )


def skipped_dir(name: str) -> bool:
    """Directories never searched: dot-directories (.git, .venv, .terraform, .aws-sam,
    .serverless, editor state; `.github` is searched for its workflows), dependency or build
    output folders, and folders of a project template whose name is still unrendered Jinja
    (`{{cookiecutter.project_slug}}`): what is in them is a template of code, not code."""
    return (
        (name.startswith(".") and name not in CI_DIRS)
        or name in SKIP_DIRS
        or "{{" in name
        or "{%" in name
    )


def walk_project(
    root: str, opened: Mapping[str, str] | None = None, notes: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Candidate declaring files and Python files under `root`, breadth-first within the
    bounds; `opened` (normalised absolute paths) adds unsaved editor buffers. When a bound
    cuts the walk short, a sentence saying which and where is appended to `notes`."""
    candidates: list[str] = []
    python_files: list[str] = []
    seen = 0
    queue = deque([(root, 0)])
    stopped_in: str | None = None
    all_python = True
    while queue and seen < MAX_ENTRIES:
        directory, depth = queue.popleft()
        try:
            with os.scandir(directory) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        for entry in listing:
            seen += 1
            if seen > MAX_ENTRIES:
                stopped_in = directory
                break
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH and not skipped_dir(entry.name):
                        queue.append((entry.path, depth + 1))
                elif entry.is_file():
                    all_python &= _classify(entry.path, candidates, python_files)
            except OSError:
                continue
    if notes is not None:
        if stopped_in is not None or queue:
            notes.append(
                f"stopped reading {root} after {MAX_ENTRIES:,} files and folders (the walk's "
                f"cap), in {stopped_in or queue[0][0]}: functions declared in files beyond it "
                "are not checked; open or check a smaller folder"
            )
        if not all_python:
            notes.append(
                f"looked at the first {MAX_PYTHON_FILES:,} Python files under {root} only (the "
                "cap for guessing undeclared handlers); declared functions are not affected"
            )
    for path in opened or {}:
        if is_within(path, root) and not os.path.exists(path):
            relative = os.path.relpath(path, root).split(os.sep)
            if len(relative) <= MAX_DEPTH + 1 and not any(map(skipped_dir, relative[:-1])):
                _classify(path, candidates, python_files)
    return candidates, python_files


def walk_near(
    root: str, paths: list[str], opened: Mapping[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """`walk_project`'s lists for a first look at the files an editor has open (`paths`,
    normalised absolute): the candidate declaring files in each one's folder and in every
    folder above it up to `root` (not below them), and those of `paths` that are Python files.
    A path the full walk would not reach (a skipped folder, too deep) is left out."""
    candidates: list[str] = []
    python_files: list[str] = []
    folders: dict[str, None] = {}  # in order, each once
    for path in paths:
        if not is_within(path, root) or path == root:
            continue
        relative = os.path.relpath(path, root).split(os.sep)
        if len(relative) > MAX_DEPTH + 1 or any(map(skipped_dir, relative[:-1])):
            continue
        if path.endswith(".py"):
            python_files.append(path)
        directory = os.path.dirname(path)
        while is_within(directory, root):
            folders.setdefault(directory, None)
            if directory == root:
                break
            directory = os.path.dirname(directory)
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.path for e in entries if e.is_file())
        except OSError:
            continue
        candidates += [p for p in names if may_be_config_file(p)]
    for path in opened or {}:
        if os.path.dirname(path) in folders and not os.path.exists(path):
            if may_be_config_file(path):
                candidates.append(path)
    return candidates, python_files


def is_within(path: str, root: str) -> bool:
    """True when `path` is `root` or lies under it (lexically, symlinks not followed)."""
    path, root = os.path.normcase(os.path.normpath(path)), os.path.normcase(os.path.normpath(root))
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def _classify(path: str, candidates: list[str], python_files: list[str]) -> bool:
    """File `path` under its list; False when it is a Python file past the cap."""
    name = os.path.basename(path).lower()
    if name.endswith(".py"):
        if len(python_files) >= MAX_PYTHON_FILES:
            return False
        python_files.append(path)
    elif may_be_config_file(path):
        candidates.append(path)
    return True
