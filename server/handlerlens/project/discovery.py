"""Walking a workspace into a ProjectModel: every declaring file (read by
project/discovery_reads.py, parsed once by project/parsed_files.py, Terraform maybe on a
second core by project/terraform_fork.py), then the quiet heuristic."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlerlens.project.walk import ConfigKind

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem
from handlerlens.project import forked
from handlerlens.project.code_roots import code_root_problems
from handlerlens.project.config_files import too_big
from handlerlens.project.config_problems import (
    CODE_ROOT_UNRESOLVED,
    CONFIG_PARSE_ERROR,
    CONFIG_TEMPLATE,
    CONFIG_VALUE_UNRESOLVED,
    HANDLER_UNVERIFIABLE,
)
from handlerlens.project.discovery_reads import may_declare_python, may_hold_handler, read_text
from handlerlens.project.heuristic import MAX_SOURCE_CHARS, heuristic_functions, prescan
from handlerlens.project.parsed_files import parse_cached
from handlerlens.project.platform_evidence import FolderEvidence
from handlerlens.project.terraform_fork import TerraformStarted
from handlerlens.project.walk import (
    config_kind,
    is_gateway_spec,
    is_within,
    walk_near,
    walk_project,
)

# Precedence when two declarations name the same code: earlier kinds win.
KIND_ORDER: tuple[ConfigKind, ...] = ("pyproject", "sam", "serverless", "terraform", "yc-cli")


@dataclass
class ProjectModel:
    """Every function found under a workspace root, plus problems in the declaring files."""

    root: str
    functions: list[FunctionSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    config_files: list[str] = field(default_factory=list)
    # Yandex API Gateway specs (walk.is_gateway_spec): they declare routes, not functions.
    gateway_specs: list[str] = field(default_factory=list)
    # Sentences about what discovery did not read (the walk's caps), for logs and `check`.
    notes: list[str] = field(default_factory=list)
    # Folders the quiet heuristic stays out of: every function's code root, and the folder of
    # every declaring file (one that does not parse yet included).
    covered: set[str] = field(default_factory=set)
    # What folders show about the platform of guessed functions, read once per discovery.
    folder_evidence: FolderEvidence = field(default_factory=FolderEvidence)


# Problems that show a file declares a function even when none could be read from it.
_DECLARES = frozenset(
    {
        CONFIG_PARSE_ERROR,
        CONFIG_VALUE_UNRESOLVED,
        CONFIG_TEMPLATE,
        CODE_ROOT_UNRESOLVED,
        HANDLER_UNVERIFIABLE,
    }
)


def discover(
    root: str,
    *,
    platform_setting: str | None = None,
    overlays: Mapping[str, str] | None = None,
    near: list[str] | None = None,
) -> ProjectModel:
    """Every function the workspace under `root` declares (or, failing that, looks like).

    With `near` (files an editor has open), a first look only: the functions the declaring
    files in their folders and the folders above them declare (`walk.walk_near`), no guessed
    ones; the language server shows it while it reads the whole workspace.
    """
    # The `check` command may read Terraform on a second core; the language server never forks.
    checking = forked.checking
    root = os.path.normpath(os.path.abspath(root))
    opened = {os.path.normpath(os.path.abspath(p)): t for p, t in (overlays or {}).items()}
    model = ProjectModel(root)
    if near is None:
        candidates, python_files = walk_project(root, opened, model.notes)
    else:
        wanted = [os.path.normpath(os.path.abspath(p)) for p in near]
        # No guess: a declaring file elsewhere may cover these files (the full walk decides).
        candidates, python_files = walk_near(root, wanted, opened)[0], []
    # Started before the other declaring files are read: a child may read the .tf files.
    terraform = TerraformStarted(
        [path for path in candidates if path.lower().endswith(".tf")], opened, checking=checking
    )

    by_kind: dict[ConfigKind, list[tuple[str, str]]] = {kind: [] for kind in KIND_ORDER}
    not_python: list[str] = []  # templates read but not parsed: every function is another language
    for path in candidates:
        if terraform.forked and path.lower().endswith(".tf"):
            continue  # the child reads it
        text = read_text(path, opened)
        kind = config_kind(path, text) if text is not None else None
        if kind is None and text is not None and is_gateway_spec(path, text):
            model.gateway_specs.append(path)
        if kind is not None and text is not None and not too_big(kind, text):
            if kind == "sam" and not may_declare_python(text):
                not_python.append(path)
                continue
            by_kind[kind].append((path, text))

    declared: list[FunctionSpec] = []
    declaring_dirs: list[str] = []
    platforms: dict[str, str] = {}
    terraform.files = sorted(by_kind["terraform"])
    prefetched: dict[str, str | None] = {}
    for kind in KIND_ORDER:
        files = sorted(by_kind[kind])
        if kind != "terraform":
            model.config_files += sorted(
                [path for path, _ in files] + (not_python if kind == "sam" else [])
            )
        if kind == "terraform":
            if terraform.forked:
                # While the child reads Terraform: the Python files the guess will look at,
                # as far as the declarations read so far tell.
                known = {os.path.normpath(s.root) for s in declared} | set(declaring_dirs)
                prefetched = _prefetch(
                    python_files, known, opened, root, platforms, platform_setting, model
                )
            (specs, problems), read = terraform()
            model.config_files += read
        else:
            specs, problems = [], []
            for path, text in files:
                found, issues = parse_cached(kind, path, text, platform_setting)
                specs += found
                problems += issues
                if kind == "pyproject":
                    from handlerlens.project.pyproject_config import pyproject_platform

                    platform = pyproject_platform(text)
                    if platform is not None:
                        platforms[os.path.dirname(path)] = platform
        declared += specs
        declaring_dirs += [os.path.dirname(s.declared_in) for s in specs if s.declared_in]
        # A file that does not parse yet was meant to declare: guessing beside it would make
        # functions flicker in and out while it is being typed. One whose function's code
        # cannot be located declares it too: the files beside it are not that function.
        declaring_dirs += [os.path.dirname(p.path) for p in problems if p.code in _DECLARES]
        model.problems += problems

    model.functions = _unique(declared)
    for spec in model.functions:
        model.problems += code_root_problems(spec, root)
    covered = {os.path.normpath(d) for d in [s.root for s in model.functions] + declaring_dirs}
    model.covered = set(covered)
    folders = model.folder_evidence
    for path in python_files:
        if _under_any(path, covered):
            continue
        if path in prefetched:
            text = prefetched[path]
        else:
            text = read_text(path, opened, MAX_SOURCE_CHARS, python=True)
        if text is None or not may_hold_handler(text):
            continue
        guessed = _nearest(platforms, os.path.dirname(path), root) or platform_setting
        model.functions += heuristic_functions(path, text, root, guessed, folders)
    model.problems = _unique_problems(model.problems)
    return model


def _prefetch(
    python_files: list[str],
    covered: set[str],
    opened: Mapping[str, str],
    root: str,
    platforms: Mapping[str, str],
    platform_setting: str | None,
    model: ProjectModel,
) -> dict[str, str | None]:
    """The texts of the Python files outside `covered`, each scanned into the parse cache
    when it may hold a handler, and the evidence of the folders above a guessed handler."""
    texts: dict[str, str | None] = {}
    for path in python_files:
        if _under_any(path, covered):
            continue
        text = texts[path] = read_text(path, opened, MAX_SOURCE_CHARS, python=True)
        if text is None or not may_hold_handler(text):
            continue
        guessed = _nearest(platforms, os.path.dirname(path), root) or platform_setting
        if prescan(path, text, root, guessed):
            directory = os.path.dirname(path)
            while is_within(directory, root):
                model.folder_evidence.signs(directory, root)
                if directory == root:
                    break
                directory = os.path.dirname(directory)
    return texts


def _under_any(path: str, directories: set[str]) -> bool:
    """True when some ancestor of `path` is in `directories` (one set lookup per level)."""
    directory = os.path.dirname(path)
    while directory not in directories:
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent
    return True


def _nearest(platforms: Mapping[str, str], directory: str, root: str) -> str | None:
    """The platform of the closest pyproject.toml at or above `directory`, within `root`."""
    while is_within(directory, root):
        if directory in platforms:
            return platforms[directory]
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def _unique(specs: list[FunctionSpec]) -> list[FunctionSpec]:
    """`specs` without the functions an earlier kind already declares over the same code.

    A project often declares one function twice (pyproject.toml for HandlerLens, Terraform to
    deploy it): the first kind wins. Within one kind, functions sharing a handler are distinct
    functions (an API and a queue consumer on `app.handler`, each with its own runtime and
    trigger), so all of them stay.
    """
    first_kind: dict[tuple[str, str, str], str] = {}
    seen: set[tuple[str | None, str, str]] = set()
    kept = []
    for spec in specs:
        code = (spec.platform, spec.root, spec.entry)
        if first_kind.setdefault(code, spec.declared_by) != spec.declared_by:
            continue
        key = (spec.declared_in, spec.name, spec.entry)
        if key not in seen:
            seen.add(key)
            kept.append(spec)
    return kept


def _unique_problems(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, object, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.path, problem.span, problem.code)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept
