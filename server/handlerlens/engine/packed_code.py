"""Entry points into code that is not a folder on disk: a zip deployed as is, inline source.

A zip's members are known from its name list (`project.archives`), not its text, so only the
module's presence can be checked; inline source is parsed like a file, and its module is the
one CloudFormation saves it as.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from handlerlens.analysis.entry_points import CALLABLE_KINDS, EntryFault, close_match, split_entry
from handlerlens.analysis.entry_points import resolve_entry as resolve_in
from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Severity
from handlerlens.core.python_module import parse_module
from handlerlens.platforms.aws import INLINE_CODE_MODULE
from handlerlens.platforms.rules import PlatformRules
from handlerlens.project.archives import python_modules, zip_names
from handlerlens.project.config_problems import CODE_ROOT_UNRESOLVED


class _ArchiveView(Sources):
    """An archive's members as files under the archive's own path; their text is unknown."""

    def __init__(self, archive: str, names: frozenset[str]) -> None:
        super().__init__()
        self.archive = archive
        self.names = names

    def _member(self, path: str) -> str | None:
        prefix = self.archive + os.sep
        return path[len(prefix) :].replace(os.sep, "/") if path.startswith(prefix) else None

    def text(self, path: str) -> str | None:
        return None

    def exists(self, path: str) -> bool:
        return self._member(path) in self.names

    def listdir(self, directory: str) -> list[str]:
        member = "" if directory == self.archive else self._member(directory)
        if member is None:
            return []
        prefix = f"{member}/" if member else ""
        return [
            name[len(prefix) :]
            for name in self.names
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        ]


@dataclass(frozen=True)
class PackedFinding:
    """One problem about packed code, placed on the declaration by the caller. `detail`
    completes "Entry point '<entry>': …" unless `whole` (then it is the whole message)."""

    severity: Severity
    code: str
    detail: str
    suggestion: str | None = None
    whole: bool = False


def check_packed(spec: FunctionSpec, rules: PlatformRules) -> PackedFinding | None:
    """What is wrong with the entry point of a zip-deployed or inline function, if anything."""
    if spec.packed is not None:
        # Terraform's archives (a zip, an archive_file's inline sources, a bucket upload): the
        # reader knows the names, or has said in an info why they cannot be known here.
        if spec.packed.names is None:
            return None
        root = os.path.join(os.sep, "__archive__")
        return _check_names(spec, root, spec.packed.names, spec.packed.label, rules)
    if spec.archive is not None:
        return _check_archive(spec, spec.archive, rules)
    if spec.inline_code is not None:
        return _check_inline(spec, spec.inline_code)
    return None


def _shown(path: str, spec: FunctionSpec) -> str:
    base = os.path.dirname(spec.declared_in) if spec.declared_in else None
    if base is None:
        return path
    relative = os.path.relpath(path, base)
    return path if relative.startswith("..") else relative


def _check_archive(spec: FunctionSpec, archive: str, rules: PlatformRules) -> PackedFinding | None:
    shown = _shown(archive, spec)
    names = zip_names(archive)
    if names is None:
        why = "is not a readable zip" if os.path.exists(archive) else "does not exist (yet)"
        return PackedFinding(
            Severity.INFO,
            CODE_ROOT_UNRESOLVED,
            f"Entry point '{spec.entry}' was not checked: the archive {shown} {why}; a build "
            "step usually makes it. Build it (or point the declaration at the source folder) "
            "to have the entry point checked.",
            whole=True,
        )
    return _check_names(spec, archive, names, f"the archive {shown}", rules)


def _check_names(
    spec: FunctionSpec, archive: str, names: frozenset[str], label: str, rules: PlatformRules
) -> PackedFinding | None:
    """The entry point's module among an archive's member names (its path: `archive`), by the
    same rules as on disk; `label` names the archive in messages."""
    modules = python_modules(names)
    holds = f"its modules: {', '.join(modules)}" if modules else "it holds no Python module"
    resolved = resolve_in(
        spec.entry, archive, rules, _ArchiveView(archive, names), f"{label} ({holds})"
    )
    if isinstance(resolved, EntryFault):
        return PackedFinding(Severity.ERROR, resolved.code, resolved.detail, resolved.suggestion)
    # The module is in the archive; its text is not read, so the function is taken on trust.
    return None


def _check_inline(spec: FunctionSpec, code: str) -> PackedFinding | None:
    parts = split_entry(spec.entry)
    if parts is None:
        return PackedFinding(
            Severity.ERROR,
            "entry-point-malformed",
            f"'{spec.entry}' has no '.': inline code is the module '{INLINE_CODE_MODULE}', so "
            f"the entry point is {INLINE_CODE_MODULE}.<function>",
            f"{INLINE_CODE_MODULE}.{spec.entry.strip()}" if spec.entry.strip() else None,
        )
    module, function = parts
    if module != INLINE_CODE_MODULE:
        # Lambda saves inline code as index.py, so this handler cannot load it. In practice
        # that is a placeholder (`ZipFile: "def handler(...): pass"`) replaced after the stack
        # is created (update-function-code from a script or notebook): the code that runs is
        # not in the declaration, so say so rather than call the deployment broken.
        return PackedFinding(
            Severity.INFO,
            CODE_ROOT_UNRESOLVED,
            f"Entry point '{spec.entry}' was not checked: the inline code is saved as "
            f"{INLINE_CODE_MODULE}.py but the handler names the module '{module}', so the "
            "inline code looks like a placeholder that a later step replaces "
            "(update-function-code). If it is the real code, the entry point is "
            f"{INLINE_CODE_MODULE}.{function}.",
            f"{INLINE_CODE_MODULE}.{function}",
            whole=True,
        )
    info = parse_module(code)
    if info.syntax_error is not None:
        return PackedFinding(
            Severity.ERROR,
            "entry-point-syntax-error",
            f"the inline code has a syntax error ({info.syntax_error.message}), so the module "
            "cannot be imported",
        )
    if function in info.bindings or info.has_module_getattr or info.star_imports:
        return None
    functions = [n for n, b in info.bindings.items() if b.kind in CALLABLE_KINDS]
    near = close_match(function, functions)
    return PackedFinding(
        Severity.ERROR,
        "entry-point-function-missing",
        f"the inline code has no top-level '{function}'",
        f"{INLINE_CODE_MODULE}.{near}" if near else None,
    )
