"""Code roots: resolving declared paths, and the checks that need the file system."""

from __future__ import annotations

import os

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity
from handlerlens.project.config_problems import CODE_ROOT_MISSING, CODE_ROOT_OUTSIDE_WORKSPACE
from handlerlens.project.walk import is_within

# Artifacts rather than directories: the code is whatever was packed into them, which
# HandlerLens cannot see, so the declaring file's directory stands in for the root.
_ARCHIVE_SUFFIXES = (".zip", ".jar", ".tar.gz", ".tgz")


# Folders a build writes and a checkout lacks until it runs (`sam build` → `.aws-sam/build`,
# bundlers → `dist`, Maven/Cargo → `target`): a declared code root inside one that is not
# there is a build output, not a mistake.
BUILD_OUTPUT_DIRS = frozenset(
    {"build", "dist", "out", "target", "artifacts", "bundle", "package", "deploy", "_build"}
)


def is_archive(declared: str) -> bool:
    """True for a path naming an archive (`build/code.zip`) rather than a folder."""
    return declared.strip().lower().endswith(_ARCHIVE_SUFFIXES)


def is_build_output(path: str, base_dir: str) -> bool:
    """True when `path` (absolute) lies in a build output folder under `base_dir`, or in a
    dot-folder (`.aws-sam`, `.serverless`): tools create those, checkouts do not have them."""
    relative = os.path.relpath(path, base_dir).split(os.sep)
    return any(
        part.lower() in BUILD_OUTPUT_DIRS or (part.startswith(".") and part not in (".", ".."))
        for part in relative
    )


def resolve(base_dir: str, declared: str) -> str | None:
    """The absolute code root a declared local path means, or None for remote/archive paths."""
    value = declared.strip()
    if not value or "://" in value or value.lower().endswith(_ARCHIVE_SUFFIXES):
        return None
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(value)))


def code_root_problems(spec: FunctionSpec, workspace_root: str) -> list[Problem]:
    """A note for a declared code root outside the workspace; a warning for one not on disk."""
    if spec.root_span is None or spec.root_declared_in is None:
        return []
    problems = []
    if not is_within(spec.root, workspace_root):
        problems.append(
            Problem(
                spec.root_declared_in,
                spec.root_span,
                # Not a deploy problem (the deploy tool packs it from there, and it is checked
                # there too): a note that the editor does not follow edits made out there.
                Severity.INFO,
                CODE_ROOT_OUTSIDE_WORKSPACE,
                f"The code root of function '{spec.name}' is {spec.root}, outside the workspace "
                f"{workspace_root}. The deploy tool packs it from there and it is checked there, "
                "but edits to it are not followed: open a folder that contains both to have "
                "them re-checked as you type.",
            )
        )
    if spec.code_on_disk and not os.path.isdir(spec.root):
        problems.append(
            Problem(
                spec.root_declared_in,
                spec.root_span,
                Severity.WARNING,
                CODE_ROOT_MISSING,
                f"The code root of function '{spec.name}' does not exist: {spec.root}. "
                "Deploying would fail to find the code; create the directory or fix the path.",
            )
        )
    return problems
